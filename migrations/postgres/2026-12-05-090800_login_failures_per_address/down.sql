DROP TABLE login_failures;
CREATE TABLE login_failures (
    username TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
