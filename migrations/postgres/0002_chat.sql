-- Rooms, who is in them, and their messages.
CREATE TABLE rooms (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The room's name in URLs: `general`, `book-club`, `dm-3-7`.
    slug       TEXT   NOT NULL UNIQUE,
    name       TEXT   NOT NULL,
    -- 'public' (anyone can join) or 'direct' (exactly two people).
    kind       TEXT   NOT NULL CHECK (kind IN ('public', 'direct')),
    -- The room's newest message number. Bumping it in the sending transaction
    -- (a row lock until commit) numbers a room's messages in commit order, without
    -- gaps, even with concurrent senders.
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    room_id       BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The newest message this person has seen here; unread = rooms.last_seq - this.
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    joined_at     BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE messages (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (room_id, seq)
);

INSERT INTO rooms (slug, name, kind, created_at) VALUES ('general', 'General', 'public', 0);
-- Everyone is in general, including anyone who signed up before rooms existed.
INSERT INTO memberships (room_id, user_id, joined_at)
SELECT rooms.id, users.id, users.created_at FROM rooms, users WHERE rooms.slug = 'general';
