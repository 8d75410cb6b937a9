-- Bumped whenever who may act for an account changes (a new password, a reset,
-- a linked identity, deactivation): a session made under an older generation is
-- refused, even one whose sign-in checked the old password while it was changing.
ALTER TABLE users ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 0;
