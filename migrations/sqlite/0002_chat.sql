-- Rooms, who is in them, and their messages.
CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    -- The room's name in URLs: `general`, `book-club`, `dm-3-7`.
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    -- 'public' (anyone can join) or 'direct' (exactly two people).
    kind       TEXT    NOT NULL CHECK (kind IN ('public', 'direct')),
    -- The room's newest message number. Bumping it in the sending transaction
    -- numbers a room's messages in commit order, without gaps.
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The newest message this person has seen here; unread = rooms.last_seq - this.
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    joined_at     INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (room_id, seq)
);

INSERT INTO rooms (slug, name, kind, created_at) VALUES ('general', 'General', 'public', 0);
-- Everyone is in general, including anyone who signed up before rooms existed.
INSERT INTO memberships (room_id, user_id, joined_at)
SELECT rooms.id, users.id, users.created_at FROM rooms, users WHERE rooms.slug = 'general';
