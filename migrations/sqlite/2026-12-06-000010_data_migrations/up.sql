-- Seeding as versioned data migrations: each seeding step has a stable id and runs once.
-- A database seeded before this table existed is marked as having run the steps whose data
-- it already holds, so an upgrade does not bring back a quota an admin deleted.
CREATE TABLE data_migrations (
    id TEXT PRIMARY KEY NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
INSERT INTO data_migrations (id, applied_at)
    SELECT 'reference/places/v1', CURRENT_TIMESTAMP WHERE EXISTS (SELECT 1 FROM tiers);
INSERT INTO data_migrations (id, applied_at)
    SELECT 'quotas/plan-2025-2026/v1', CURRENT_TIMESTAMP WHERE EXISTS (SELECT 1 FROM quotas);
INSERT INTO data_migrations (id, applied_at)
    SELECT 'rulesets/' || tier || '@' || CAST(version AS TEXT), CURRENT_TIMESTAMP
    FROM rulesets WHERE created_by = 'seed';
