-- Message search: a tsvector of each message's text, generated from it (so every
-- write keeps it in step, in its own transaction) and indexed with GIN. The
-- `simple` configuration folds case and has no stemming and no stop words, the
-- same for every language.
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
