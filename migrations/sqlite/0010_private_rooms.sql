-- Private rooms: only their members know they exist; members add others.
ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1));
