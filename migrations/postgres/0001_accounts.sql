-- People and their sign-ins. Timestamps are Unix seconds.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT   NOT NULL,
    -- Trimmed and lower-cased, so one address is one account.
    email         TEXT   NOT NULL UNIQUE,
    -- NULL when the account has no usable password.
    password_hash TEXT,
    avatar_url    TEXT,
    created_at    BIGINT NOT NULL
);

-- One row per signed-in browser session, beside the session store's own table, so a
-- person can see and end their sessions. A session counts as signed in only while its
-- row exists.
CREATE TABLE user_sessions (
    session_id   TEXT   PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent   TEXT   NOT NULL,
    signed_in_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX user_sessions_by_user ON user_sessions (user_id);
