-- no-transaction
-- Day two: environments that expire, sleep, wait for their change windows, are checked for drift
-- and upgraded. SQLite cannot change a CHECK constraint in place, so the two tables whose CHECK
-- lists grow are rebuilt, the documented way: foreign keys off, one transaction, copy, swap.

PRAGMA foreign_keys = OFF;
BEGIN;

-- Request kinds beyond deploy and teardown: upgrade (a deploy carrying the environment's
-- parameters to a newer catalog), repair (a deploy that reverts drift), extend (a later expiry,
-- no rollout), sleep and wake (a schedule's parameter-only rollouts). `lifetime_minutes`: the
-- environment's lifetime the request asks for (its expiry is set when it is approved);
-- `catalog_version`: the human version of the catalog it was made on.
CREATE TABLE deployment_requests_new (
    id INTEGER PRIMARY KEY,
    environment TEXT NOT NULL,
    tier TEXT NOT NULL,
    region TEXT NOT NULL,
    account_id TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    justification TEXT NOT NULL,
    options TEXT NOT NULL,
    usage TEXT NOT NULL,
    monthly_cents BIGINT NOT NULL,
    estimate TEXT NOT NULL,
    catalog_digest TEXT NOT NULL,
    required_approvals BIGINT NOT NULL,
    requester_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    kind TEXT NOT NULL DEFAULT 'deploy'
        CHECK (kind IN ('deploy', 'teardown', 'upgrade', 'repair', 'extend', 'sleep', 'wake')),
    adopt BIGINT NOT NULL DEFAULT 0,
    domain_name TEXT,
    lifetime_minutes BIGINT,
    catalog_version TEXT NOT NULL DEFAULT ''
);
INSERT INTO deployment_requests_new (id, environment, tier, region, account_id, role_arn, justification, options,
    usage, monthly_cents, estimate, catalog_digest, required_approvals, requester_id, status, created_at, expires_at,
    decided_at, kind, adopt, domain_name)
SELECT id, environment, tier, region, account_id, role_arn, justification, options, usage, monthly_cents, estimate,
    catalog_digest, required_approvals, requester_id, status, created_at, expires_at, decided_at, kind, adopt,
    domain_name
FROM deployment_requests;
DROP TABLE deployment_requests;
ALTER TABLE deployment_requests_new RENAME TO deployment_requests;
CREATE UNIQUE INDEX one_pending_request_per_environment
    ON deployment_requests (account_id, region, environment) WHERE status = 'pending';
CREATE INDEX requests_by_id_desc ON deployment_requests (id DESC);
CREATE INDEX requests_by_environment ON deployment_requests (environment, id);
CREATE INDEX requests_by_status ON deployment_requests (status, id);
CREATE INDEX requests_by_requester ON deployment_requests (requester_id, id);
CREATE INDEX requests_by_tier ON deployment_requests (tier, id);

-- A rollout approved outside its environment's change windows waits (`waiting_for_window`) until
-- one opens, or until an admin overrides the window (who and why kept here and in the audit).
CREATE TABLE rollouts_new (
    id INTEGER PRIMARY KEY,
    -- At most one rollout per approved request, however many approvals race.
    request_id BIGINT NOT NULL UNIQUE REFERENCES deployment_requests(id),
    status TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'waiting_for_window')),
    created_at BIGINT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'deploy',
    environment TEXT NOT NULL DEFAULT '',
    account_id TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    attempt BIGINT NOT NULL DEFAULT 1,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    failure TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    cancelled_by TEXT,
    interruptions BIGINT NOT NULL DEFAULT 0,
    window_override_by TEXT,
    window_override_reason TEXT
);
INSERT INTO rollouts_new (id, request_id, status, created_at, kind, environment, account_id, region, attempt,
    lease_owner, lease_expires_at, cancel_requested, failure, started_at, finished_at, cancelled_by, interruptions)
SELECT id, request_id, status, created_at, kind, environment, account_id, region, attempt, lease_owner,
    lease_expires_at, cancel_requested, failure, started_at, finished_at, cancelled_by, interruptions
FROM rollouts;
DROP TABLE rollouts;
ALTER TABLE rollouts_new RENAME TO rollouts;
CREATE INDEX rollouts_by_environment ON rollouts (account_id, region, environment, id);
CREATE INDEX rollouts_by_status ON rollouts (status, id);

-- The environment's day-two policy (JSON, read back typed): lifetimes per tier, expiry reminders,
-- approvals an extension needs, the sleep schedule, change windows and freezes, drift checks.
ALTER TABLE environments ADD COLUMN lifecycle TEXT NOT NULL DEFAULT '{}';

-- When a running environment expires, which reminders went out, and the teardown its expiry queued.
CREATE TABLE environment_expiry (
    environment TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    -- The request whose approval set it (a deployment with a lifetime, or an extension).
    set_by_request BIGINT NOT NULL REFERENCES deployment_requests(id),
    -- Minutes-before-expiry of the reminders sent (JSON array).
    reminders_sent TEXT NOT NULL DEFAULT '[]',
    teardown_request BIGINT REFERENCES deployment_requests(id)
);

-- Drift checks: one per environment at a time; the resources each found.
CREATE TABLE drift_checks (
    id INTEGER PRIMARY KEY,
    environment TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'in_sync', 'drifted', 'not_checked', 'failed')),
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE UNIQUE INDEX one_running_drift_check ON drift_checks (environment) WHERE status = 'running';
CREATE INDEX drift_checks_by_environment ON drift_checks (environment, id);

CREATE TABLE drift_resources (
    check_id BIGINT NOT NULL REFERENCES drift_checks(id),
    phase BIGINT NOT NULL,
    stack_name TEXT NOT NULL,
    logical_id TEXT NOT NULL,
    physical_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_sync', 'modified', 'deleted', 'not_checked')),
    -- Property differences (JSON list of {path, expected, actual, kind}).
    differences TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (check_id, phase, logical_id)
);

-- Who asks for what the portal does by itself (an expiry's teardown, a schedule's sleep and wake).
-- Its name is no valid user name, so nobody can sign up as it; it has no password and no role.
INSERT INTO users (name, password_hash, created_at, disabled_at) VALUES ('(portal)', NULL, 0, 0);

COMMIT;
PRAGMA foreign_keys = ON;
