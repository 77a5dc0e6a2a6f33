DROP TABLE objections;
DROP TABLE calendar_days;
DROP TABLE calendar_years;
DROP INDEX applications_one_open;
CREATE UNIQUE INDEX applications_one_open ON applications(enterprise_id, tier, year)
    WHERE state IN ('draft', 'submitted', 'under_review', 'returned');
ALTER TABLE applications DROP COLUMN publicity_to;
ALTER TABLE applications DROP COLUMN publicity_from;
ALTER TABLE tiers DROP COLUMN publicity_days;
