ALTER TABLE certifications DROP COLUMN override_reason;
ALTER TABLE applications DROP COLUMN regrade;
ALTER TABLE applications DROP COLUMN override_reason;
