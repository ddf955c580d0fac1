-- People, deployment requests, approvals and the append-only audit log (SQLite).
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('requester', 'approver', 'admin', 'viewer')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE deployment_requests (
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
    decided_at BIGINT
);
-- One open request per environment (an environment is its name in one account and region).
CREATE UNIQUE INDEX one_pending_request_per_environment
    ON deployment_requests (account_id, region, environment) WHERE status = 'pending';
CREATE INDEX requests_by_id_desc ON deployment_requests (id DESC);

CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES deployment_requests(id),
    approver_id BIGINT NOT NULL REFERENCES users(id),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- A double click, or a second browser tab, records one decision per person.
    UNIQUE (request_id, approver_id)
);

CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY,
    -- At most one rollout per approved request, however many approvals race.
    request_id BIGINT NOT NULL UNIQUE REFERENCES deployment_requests(id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    created_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL UNIQUE
);

-- Append-only: the database itself refuses edits and deletions.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
