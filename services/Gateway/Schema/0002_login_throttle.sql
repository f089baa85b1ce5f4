-- Failed logins per username, existing or not (a lock that only real accounts got would tell which exist).
CREATE TABLE identity.login_throttle (
    username         text PRIMARY KEY,
    failures         integer NOT NULL,
    last_attempt_at  timestamptz NOT NULL,
    locked_until     timestamptz
);
