-- Two-factor codes (RFC 6238): the account's shared secret once confirmed, and
-- the newest time step a code was accepted for, so that a code works once.
CREATE TABLE two_factor (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Base32, as authenticator apps take it. It must be readable to check codes,
    -- so it cannot be hashed; only this account's sign-in uses it.
    secret     TEXT    NOT NULL,
    last_step  INTEGER NOT NULL DEFAULT 0,
    enabled_at INTEGER NOT NULL
);

-- Single-use recovery codes, as SHA-256 of the code: never readable again once
-- shown. (Not bcrypt: whoever can read this table can read the secrets in
-- two_factor beside it, so a slow hash would protect nothing more.)
CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
