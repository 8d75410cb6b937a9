-- Room settings: a room's creator (and any administrator) renames it, gives it a
-- topic, and archives it (read-only, off the sidebar; its history stays).
--
-- A rename keeps the slug, so links and open pages keep working; `name_key` is the
-- slug form of the current name, and two rooms never share one, so no two rooms
-- read alike. Rooms made before this have no recorded creator: administrators
-- manage them.
ALTER TABLE rooms ADD COLUMN created_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN archived_at INTEGER;
ALTER TABLE rooms ADD COLUMN name_key TEXT;
UPDATE rooms SET name_key = slug;
CREATE UNIQUE INDEX rooms_by_name_key ON rooms (name_key);
