-- Failed logins are counted per account *and* client address: failures from one address
-- never lock the account for another. The old per-username counters are dropped (they only
-- ever held a few minutes of state).
DROP TABLE login_failures;
CREATE TABLE login_failures (
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    PRIMARY KEY (username, address)
);
