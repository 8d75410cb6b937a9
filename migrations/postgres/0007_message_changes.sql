-- Messages can be edited, deleted and reacted to, and every change is caught up
-- after a reconnect: each change to a room's messages takes the room's next event
-- number, bumped under the room's row lock in the changing transaction, so events
-- are numbered in commit order without gaps. A page resumes
-- from the newest event it has. Messages keep their own gapless `seq` (their
-- identity in URLs, and what unread counts and read positions count).
ALTER TABLE rooms ADD COLUMN last_event BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
-- A deleted message stays as a row with its text cleared, so the events that name
-- it still find it; it is never listed.
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;

CREATE TABLE message_events (
    room_id BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    event   BIGINT  NOT NULL,
    -- The message it changed.
    seq     BIGINT  NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('posted', 'edited', 'deleted', 'reacted')),
    PRIMARY KEY (room_id, event)
);

-- Existing messages were posted at event = seq, so the positions open pages hold
-- (message numbers until now) stay right across the upgrade.
INSERT INTO message_events (room_id, event, seq, kind)
SELECT room_id, seq, seq, 'posted' FROM messages;
UPDATE rooms SET last_event = last_seq;
