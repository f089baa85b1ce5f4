-- A deleted user's name is never given to anyone again: what is keyed on it elsewhere (a ledger account, jobs, audit
-- records) must not pass to a stranger who registers the same name later.
CREATE TABLE identity.retired_usernames (
    username   text PRIMARY KEY,
    retired_at timestamptz NOT NULL DEFAULT now()
);
