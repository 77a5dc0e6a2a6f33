-- A sign-up whose credit code is already in the registry with no owning account: the account
-- is created without an enterprise and an admin decides whether it may own the enterprise.
CREATE TABLE claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    district_code TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    comment TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX claims_status ON claims(status);
CREATE INDEX claims_enterprise ON claims(enterprise_id);
