-- Mentions: who a message names with `@Their Name` (resolved among the room's
-- members when it is posted or edited). Unread mentions are counted per room apart
-- from unread messages.
CREATE TABLE mentions (
    room_id INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (room_id, seq, user_id),
    FOREIGN KEY (room_id, seq) REFERENCES messages (room_id, seq) ON DELETE CASCADE
) WITHOUT ROWID;

-- "My unread mentions in each room": by person, then room and number.
CREATE INDEX mentions_by_person ON mentions (user_id, room_id, seq);
