-- Files shared in messages. An upload is stored as it arrives, then claimed by the
-- message it was sent with (`message_id`); until then it belongs to its uploader
-- alone, and one never claimed is swept away after a day. Deleting the message
-- deletes its files.
CREATE TABLE attachments (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id      BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    uploader_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id   BIGINT  REFERENCES messages (id) ON DELETE CASCADE,
    -- Its place among the message's files.
    position     BIGINT  NOT NULL DEFAULT 0,
    -- The name it was uploaded with, as shown and as downloaded.
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    -- Bytes of what is served (for a picture, after its metadata was taken out).
    size         BIGINT  NOT NULL DEFAULT 0,
    -- SHA-256 of what is served, hex: its ETag.
    digest       TEXT    NOT NULL DEFAULT '',
    -- A picture shown inline has a preview (JPEG, or PNG where transparent);
    -- these are NULL for other files.
    preview_type   TEXT,
    preview_size   BIGINT,
    preview_digest TEXT,
    preview_width  BIGINT,
    preview_height BIGINT,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id, position);
CREATE INDEX attachments_unclaimed ON attachments (created_at) WHERE message_id IS NULL;

-- The bytes, in numbered chunks of 256 KiB, so that neither storing nor serving a
-- file holds it whole: `part` 0 is the file, 1 its preview. Already compressed
-- data gains nothing from TOAST's compression.
CREATE TABLE attachment_chunks (
    attachment_id BIGINT  NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    part          BIGINT  NOT NULL,
    n             BIGINT  NOT NULL,
    data          BYTEA   NOT NULL,
    PRIMARY KEY (attachment_id, part, n)
);
ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
