-- Guarded decisions (API.md "Decisions and publicity"): an approval that overrides an
-- ineligible pre-screen or a criterion judged false keeps its reason on the application and
-- on the certification; the decision-time re-grade is kept when it differs from the pre-screen.
ALTER TABLE applications ADD COLUMN override_reason TEXT;
ALTER TABLE applications ADD COLUMN regrade TEXT;
ALTER TABLE certifications ADD COLUMN override_reason TEXT;
