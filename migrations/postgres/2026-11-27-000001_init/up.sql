-- ladder schema, PostgreSQL tree. Keep in step with ../../sqlite/ (same tables, columns, types).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE districts (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL
);

CREATE TABLE clusters (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    confirmed BOOLEAN NOT NULL,
    sort_order INTEGER NOT NULL
);

CREATE TABLE tiers (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    level INTEGER NOT NULL,
    prerequisite TEXT REFERENCES tiers(code),
    validity_years INTEGER NOT NULL,
    certifier TEXT NOT NULL,
    number_prefix TEXT NOT NULL,
    has_rules BOOLEAN NOT NULL
);

CREATE TABLE indicators (
    code TEXT PRIMARY KEY NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    min_value TEXT,
    max_value TEXT
);

CREATE TABLE enterprises (
    id SERIAL PRIMARY KEY,
    uscc TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    district_code TEXT NOT NULL REFERENCES districts(code),
    cluster_code TEXT REFERENCES clusters(code),
    founded_on DATE,
    niche_entered_on DATE,
    verified BOOLEAN NOT NULL,
    lock_version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX enterprises_district ON enterprises(district_code);
CREATE INDEX enterprises_cluster ON enterprises(cluster_code);

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    enterprise_id INTEGER REFERENCES enterprises(id),
    disabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_enterprise ON users(enterprise_id);

CREATE TABLE api_clients (
    id SERIAL PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    enterprise_id INTEGER REFERENCES enterprises(id),
    disabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE refresh_tokens (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE login_failures (
    username TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

CREATE TABLE fact_years (
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    year INTEGER NOT NULL,
    facts TEXT NOT NULL,
    revision INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (enterprise_id, year)
);

CREATE TABLE fact_revisions (
    id SERIAL PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    year INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    facts TEXT NOT NULL,
    changes TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    UNIQUE (enterprise_id, year, revision)
);

CREATE TABLE rulesets (
    id SERIAL PRIMARY KEY,
    tier TEXT NOT NULL REFERENCES tiers(code),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    effective_from DATE NOT NULL,
    effective_to DATE,
    document TEXT NOT NULL,
    lock_version INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    retired_at TIMESTAMP,
    UNIQUE (tier, version)
);

CREATE TABLE evaluations (
    id SERIAL PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    tier TEXT NOT NULL REFERENCES tiers(code),
    ruleset_id INTEGER NOT NULL REFERENCES rulesets(id),
    ruleset_version INTEGER NOT NULL,
    as_of DATE NOT NULL,
    year INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    route TEXT,
    score TEXT,
    facts TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX evaluations_lookup ON evaluations(year, tier, enterprise_id);

CREATE TABLE applications (
    id SERIAL PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    tier TEXT NOT NULL REFERENCES tiers(code),
    year INTEGER NOT NULL,
    state TEXT NOT NULL,
    renewal BOOLEAN NOT NULL,
    reviewer_id INTEGER REFERENCES users(id),
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    decided_at TIMESTAMP,
    decision TEXT,
    decision_comment TEXT,
    review TEXT,
    prescreen_outcome TEXT,
    prescreen TEXT,
    ruleset_id INTEGER REFERENCES rulesets(id)
);
CREATE UNIQUE INDEX applications_one_open ON applications(enterprise_id, tier, year)
    WHERE state IN ('draft', 'submitted', 'under_review', 'returned');
CREATE INDEX applications_reviewer ON applications(reviewer_id, state);
CREATE INDEX applications_state ON applications(state, tier);

CREATE TABLE application_events (
    id SERIAL PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    comment TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX application_events_app ON application_events(application_id);

CREATE TABLE reviewer_ties (
    reviewer_id INTEGER NOT NULL REFERENCES users(id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    note TEXT,
    declared_at TIMESTAMP NOT NULL,
    PRIMARY KEY (reviewer_id, enterprise_id)
);

CREATE TABLE certifications (
    id SERIAL PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    tier TEXT NOT NULL REFERENCES tiers(code),
    number TEXT NOT NULL UNIQUE,
    issued_on DATE NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE NOT NULL,
    application_id INTEGER REFERENCES applications(id),
    ruleset_id INTEGER REFERENCES rulesets(id),
    batch TEXT,
    imported BOOLEAN NOT NULL,
    is_current BOOLEAN NOT NULL,
    revoked_on DATE,
    revoke_reason TEXT,
    created_at TIMESTAMP NOT NULL
);
-- One current (not revoked, not superseded) certification per enterprise and tier.
CREATE UNIQUE INDEX certifications_one_current ON certifications(enterprise_id, tier) WHERE is_current;
CREATE INDEX certifications_tier_issued ON certifications(tier, issued_on);
CREATE INDEX certifications_enterprise ON certifications(enterprise_id, tier);

CREATE TABLE quotas (
    id SERIAL PRIMARY KEY,
    year INTEGER NOT NULL,
    scope TEXT NOT NULL,
    tiers TEXT NOT NULL,
    measure TEXT NOT NULL,
    target INTEGER NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    lock_version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (year, scope, tiers, measure)
);

CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor, key)
);

CREATE TABLE audit_log (
    id SERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
