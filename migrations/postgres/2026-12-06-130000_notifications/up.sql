-- The in-app inbox (API.md "Decisions and publicity"): one row per user and event, written in
-- the transaction of the change it reports.
CREATE TABLE notifications (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    application_id INTEGER REFERENCES applications (id),
    certification_id INTEGER REFERENCES certifications (id),
    text_zh TEXT NOT NULL,
    text_en TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, read_at);
CREATE INDEX notifications_certification ON notifications (certification_id, kind);
