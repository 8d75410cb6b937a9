-- A deactivated person cannot sign in; their sessions are ended when it happens.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

-- Sessions that ended, newest last: every Hearth process reads this once a second to
-- close the chat sockets of sessions ended elsewhere (another instance, the CLI).
CREATE TABLE ended_sessions (
    id         INTEGER PRIMARY KEY,
    session_id TEXT    NOT NULL,
    ended_at   INTEGER NOT NULL
);
CREATE INDEX ended_sessions_by_time ON ended_sessions (ended_at);
