-- Day two: environments that expire, sleep, wait for their change windows, are checked for drift
-- and upgraded (see the SQLite migration of the same number for each column's purpose).

ALTER TABLE deployment_requests DROP CONSTRAINT deployment_requests_kind_check;
ALTER TABLE deployment_requests ADD CONSTRAINT deployment_requests_kind_check
    CHECK (kind IN ('deploy', 'teardown', 'upgrade', 'repair', 'extend', 'sleep', 'wake'));
ALTER TABLE deployment_requests ADD COLUMN lifetime_minutes BIGINT;
ALTER TABLE deployment_requests ADD COLUMN catalog_version TEXT NOT NULL DEFAULT '';

ALTER TABLE rollouts DROP CONSTRAINT rollouts_status_check;
ALTER TABLE rollouts ADD CONSTRAINT rollouts_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'waiting_for_window'));
ALTER TABLE rollouts ADD COLUMN window_override_by TEXT;
ALTER TABLE rollouts ADD COLUMN window_override_reason TEXT;

ALTER TABLE environments ADD COLUMN lifecycle TEXT NOT NULL DEFAULT '{}';

CREATE TABLE environment_expiry (
    environment TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    set_by_request BIGINT NOT NULL REFERENCES deployment_requests(id),
    reminders_sent TEXT NOT NULL DEFAULT '[]',
    teardown_request BIGINT REFERENCES deployment_requests(id)
);

CREATE TABLE drift_checks (
    id BIGSERIAL PRIMARY KEY,
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
    differences TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (check_id, phase, logical_id)
);

INSERT INTO users (name, password_hash, created_at, disabled_at) VALUES ('(portal)', NULL, 0, 0);
