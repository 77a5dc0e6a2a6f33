-- Evidence (API.md "Evidence"): files kept in the database, content-addressed and
-- deduplicated. A file is stored as ordered chunks of at most 1 MiB under its SHA-256, so no
-- row is large and nothing is read whole; an attachment row names the file by its hash. Both
-- are written in one transaction: a backup of the database is a backup of the evidence.
CREATE TABLE blobs (
    sha256 TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);

CREATE TABLE attachments (
    id SERIAL PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_application ON attachments (application_id);
CREATE INDEX attachments_sha256 ON attachments (sha256);
