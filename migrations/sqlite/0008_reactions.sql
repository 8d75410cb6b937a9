-- Reactions: one row per person, emoji and message. Each added or removed one is
-- a 'reacted' event of the room (see 0007), so open pages catch up on them.
CREATE TABLE reactions (
    room_id    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The emoji as Unicode lists it (with its variation selector, if any).
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    -- The room event that added it: reactions are listed in the order they came.
    event      INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq, emoji, user_id),
    FOREIGN KEY (room_id, seq) REFERENCES messages (room_id, seq) ON DELETE CASCADE
) WITHOUT ROWID;
