-- Bots: accounts that answer through a webhook. A bot is a row of `users` (so it
-- is in people lists, rooms and conversations, and has API tokens) with this row
-- beside it. The signing secret is kept as it is: Hearth signs with it.
CREATE TABLE bots (
    user_id         BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    webhook_url     TEXT    NOT NULL,
    signing_secret  TEXT    NOT NULL,
    created_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    -- The last delivery: when, and what came of it ("200", "timed out", ...).
    last_attempt_at BIGINT,
    last_outcome    TEXT,
    last_ok         BOOLEAN
);

-- Messages owed to a bot, written in the message's own transaction: a message
-- stored is a delivery owed, across restarts. `due_at` (Unix milliseconds) is
-- pushed ahead while an instance is delivering it, so no other takes it.
CREATE TABLE bot_deliveries (
    id       BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id   BIGINT NOT NULL REFERENCES bots (user_id) ON DELETE CASCADE,
    room_id  BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq      BIGINT NOT NULL,
    attempts BIGINT  NOT NULL DEFAULT 0,
    due_at   BIGINT NOT NULL
);
CREATE INDEX bot_deliveries_due ON bot_deliveries (due_at);
