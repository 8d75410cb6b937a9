-- One-time links that set a new password (made by an administrator on /admin,
-- or sent by email). Only a SHA-256 of the link's secret is kept.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
