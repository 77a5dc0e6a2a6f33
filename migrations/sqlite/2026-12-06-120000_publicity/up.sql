-- Publicity (公示, API.md "Decisions and publicity"): an approved application is published
-- for objections for the tier's `publicity_days` working days before its certificate issues.
ALTER TABLE tiers ADD COLUMN publicity_days INTEGER NOT NULL DEFAULT 5;
ALTER TABLE applications ADD COLUMN publicity_from DATE;
ALTER TABLE applications ADD COLUMN publicity_to DATE;
-- An application under publicity is still open: one open application per enterprise, tier and year.
DROP INDEX applications_one_open;
CREATE UNIQUE INDEX applications_one_open ON applications(enterprise_id, tier, year)
    WHERE state IN ('draft', 'submitted', 'under_review', 'returned', 'publicized');

-- The working-day calendar as data: a year is covered once it has a row in calendar_years;
-- its days off on weekdays (`holiday`) and its make-up working days on weekends (`workday`)
-- are listed in calendar_days. Other days follow the week (Monday to Friday work).
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL REFERENCES calendar_years (year),
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);

-- Objections raised by the public during publicity, kept verbatim.
CREATE TABLE objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    text TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TIMESTAMP
);
CREATE INDEX objections_application ON objections (application_id);

-- China's statutory holidays and adjusted working days, from the State Council notices
-- (checked against each other: every make-up day falls on a weekend, and each festival's
-- weekdays off less its make-up days equal its statutory days: 13 a year from 2025).

INSERT INTO calendar_years (year, source, created_by, created_at) VALUES (2025, '国办发明电〔2024〕12号 (国务院办公厅关于2025年部分节假日安排的通知)', 'migration', '2026-12-06 00:00:00');
INSERT INTO calendar_days (day, year, kind, name) VALUES
    ('2025-01-01', 2025, 'holiday', '元旦 New Year''s Day'),
    ('2025-01-28', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-01-29', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-01-30', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-01-31', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-02-01', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-02-02', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-02-03', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-02-04', 2025, 'holiday', '春节 Spring Festival'),
    ('2025-04-04', 2025, 'holiday', '清明节 Qingming'),
    ('2025-04-05', 2025, 'holiday', '清明节 Qingming'),
    ('2025-04-06', 2025, 'holiday', '清明节 Qingming'),
    ('2025-05-01', 2025, 'holiday', '劳动节 Labour Day'),
    ('2025-05-02', 2025, 'holiday', '劳动节 Labour Day'),
    ('2025-05-03', 2025, 'holiday', '劳动节 Labour Day'),
    ('2025-05-04', 2025, 'holiday', '劳动节 Labour Day'),
    ('2025-05-05', 2025, 'holiday', '劳动节 Labour Day'),
    ('2025-05-31', 2025, 'holiday', '端午节 Dragon Boat Festival'),
    ('2025-06-01', 2025, 'holiday', '端午节 Dragon Boat Festival'),
    ('2025-06-02', 2025, 'holiday', '端午节 Dragon Boat Festival'),
    ('2025-10-01', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-10-02', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-10-03', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-10-04', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-10-05', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-10-06', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-10-07', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-10-08', 2025, 'holiday', '国庆节、中秋节 National Day and Mid-Autumn'),
    ('2025-01-26', 2025, 'workday', '春节调休上班 Spring Festival make-up workday'),
    ('2025-02-08', 2025, 'workday', '春节调休上班 Spring Festival make-up workday'),
    ('2025-04-27', 2025, 'workday', '劳动节调休上班 Labour Day make-up workday'),
    ('2025-09-28', 2025, 'workday', '国庆节调休上班 National Day make-up workday'),
    ('2025-10-11', 2025, 'workday', '国庆节调休上班 National Day make-up workday');
INSERT INTO calendar_years (year, source, created_by, created_at) VALUES (2026, '国办发明电〔2025〕7号 (国务院办公厅关于2026年部分节假日安排的通知)', 'migration', '2026-12-06 00:00:00');
INSERT INTO calendar_days (day, year, kind, name) VALUES
    ('2026-01-01', 2026, 'holiday', '元旦 New Year''s Day'),
    ('2026-01-02', 2026, 'holiday', '元旦 New Year''s Day'),
    ('2026-01-03', 2026, 'holiday', '元旦 New Year''s Day'),
    ('2026-02-15', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-16', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-17', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-18', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-19', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-20', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-21', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-22', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-02-23', 2026, 'holiday', '春节 Spring Festival'),
    ('2026-04-04', 2026, 'holiday', '清明节 Qingming'),
    ('2026-04-05', 2026, 'holiday', '清明节 Qingming'),
    ('2026-04-06', 2026, 'holiday', '清明节 Qingming'),
    ('2026-05-01', 2026, 'holiday', '劳动节 Labour Day'),
    ('2026-05-02', 2026, 'holiday', '劳动节 Labour Day'),
    ('2026-05-03', 2026, 'holiday', '劳动节 Labour Day'),
    ('2026-05-04', 2026, 'holiday', '劳动节 Labour Day'),
    ('2026-05-05', 2026, 'holiday', '劳动节 Labour Day'),
    ('2026-06-19', 2026, 'holiday', '端午节 Dragon Boat Festival'),
    ('2026-06-20', 2026, 'holiday', '端午节 Dragon Boat Festival'),
    ('2026-06-21', 2026, 'holiday', '端午节 Dragon Boat Festival'),
    ('2026-09-25', 2026, 'holiday', '中秋节 Mid-Autumn Festival'),
    ('2026-09-26', 2026, 'holiday', '中秋节 Mid-Autumn Festival'),
    ('2026-09-27', 2026, 'holiday', '中秋节 Mid-Autumn Festival'),
    ('2026-10-01', 2026, 'holiday', '国庆节 National Day'),
    ('2026-10-02', 2026, 'holiday', '国庆节 National Day'),
    ('2026-10-03', 2026, 'holiday', '国庆节 National Day'),
    ('2026-10-04', 2026, 'holiday', '国庆节 National Day'),
    ('2026-10-05', 2026, 'holiday', '国庆节 National Day'),
    ('2026-10-06', 2026, 'holiday', '国庆节 National Day'),
    ('2026-10-07', 2026, 'holiday', '国庆节 National Day'),
    ('2026-01-04', 2026, 'workday', '元旦调休上班 New Year make-up workday'),
    ('2026-02-14', 2026, 'workday', '春节调休上班 Spring Festival make-up workday'),
    ('2026-02-28', 2026, 'workday', '春节调休上班 Spring Festival make-up workday'),
    ('2026-05-09', 2026, 'workday', '劳动节调休上班 Labour Day make-up workday'),
    ('2026-09-20', 2026, 'workday', '国庆节调休上班 National Day make-up workday'),
    ('2026-10-10', 2026, 'workday', '国庆节调休上班 National Day make-up workday');
