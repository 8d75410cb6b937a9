-- Private rooms: only their members know they exist; members add others.
ALTER TABLE rooms ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;
