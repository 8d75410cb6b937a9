-- Passkeys (src/accounts/passkeys.rs). The handle a person's passkeys carry as
-- their WebAuthn user id: random, so it says nothing about the account.
CREATE TABLE passkey_handles (
    user_id INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  TEXT    NOT NULL UNIQUE
);

-- One passkey: its credential id (base64url), the name its owner gave it, and the
-- verified credential as webauthn-rs keeps it (public key, sign counter, backup
-- flags), as JSON.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    credential    TEXT    NOT NULL,
    backed_up     BOOLEAN,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);
