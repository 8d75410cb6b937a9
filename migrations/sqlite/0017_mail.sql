-- Email waiting to be handed to the SMTP server (see src/mail). Deleted once sent:
-- a reset link in it lives no longer than it must.
CREATE TABLE outgoing_mail (
    id          INTEGER PRIMARY KEY,
    recipient   TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    text_body   TEXT    NOT NULL,
    html_body   TEXT    NOT NULL,
    unsubscribe TEXT,
    -- Unix milliseconds after which it is not worth sending (its link has expired).
    expires_at  INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX outgoing_mail_due ON outgoing_mail (due_at);

-- When the account's address was shown to be its owner's (a link sent to it was
-- opened, or Google vouched for it). NULL: not (yet).
ALTER TABLE users ADD COLUMN email_confirmed_at INTEGER;

-- One-time links sent by email that confirm an address: the account's own
-- (after sign-up) or a new one it is changing to. Only a SHA-256 of the secret.
-- A link works only while the account's credential generation is the one it was
-- made in: a new password or a Google takeover ends the links pending before.
CREATE TABLE email_links (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX email_links_user ON email_links (user_id);
