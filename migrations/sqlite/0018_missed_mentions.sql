-- Emails about mentions someone missed (src/chat/missed.rs): whether they want
-- them, the secret in their one-click unsubscribe address (made with the first
-- such email), and per room when the last one went and up to which message.
ALTER TABLE users ADD COLUMN mention_emails BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN unsubscribe_key TEXT;
CREATE UNIQUE INDEX users_unsubscribe_key ON users (unsubscribe_key);

CREATE TABLE mention_emails (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id  INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    last_seq INTEGER NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
);
