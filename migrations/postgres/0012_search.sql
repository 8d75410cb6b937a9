-- Message search: a tsvector of each message's text, generated from it (so every
-- write keeps it in step, in its own transaction) and indexed with GIN. The
-- `simple` configuration folds case and has no stemming and no stop words, the
-- same for every language. Whatever is not a letter or a digit becomes a space
-- first, so words are split as SQLite's index and `search::query` split them
-- (the parser alone would keep `example.com` or `3.14` as one token).
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'))) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
