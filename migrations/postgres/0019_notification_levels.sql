-- What each member wants to hear of a room when not looking (src/chat/notifications.rs).
-- NULL: the default for the room's kind (mentions for rooms, everything for conversations).
ALTER TABLE memberships ADD COLUMN notify TEXT CHECK (notify IN ('everything', 'mentions', 'nothing'));
