-- The rollout engine: what each rollout is doing, who runs it, and everything
-- CloudFormation reported, so a restarted process continues where it was.
ALTER TABLE deployment_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'deploy' CHECK (kind IN ('deploy', 'teardown'));

ALTER TABLE rollouts ADD COLUMN kind TEXT NOT NULL DEFAULT 'deploy';
-- The environment it changes (denormalised from the request: one rollout at a time per environment).
ALTER TABLE rollouts ADD COLUMN environment TEXT NOT NULL DEFAULT '';
ALTER TABLE rollouts ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE rollouts ADD COLUMN region TEXT NOT NULL DEFAULT '';
-- Each retry is a new attempt: its change sets and request tokens are new ones.
ALTER TABLE rollouts ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1;
-- The process running it, and until when; another process takes over once it lapses.
ALTER TABLE rollouts ADD COLUMN lease_owner TEXT;
ALTER TABLE rollouts ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE rollouts ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollouts ADD COLUMN failure TEXT;
ALTER TABLE rollouts ADD COLUMN started_at BIGINT;
ALTER TABLE rollouts ADD COLUMN finished_at BIGINT;
UPDATE rollouts SET
    environment = (SELECT environment FROM deployment_requests r WHERE r.id = rollouts.request_id),
    account_id = (SELECT account_id FROM deployment_requests r WHERE r.id = rollouts.request_id),
    region = (SELECT region FROM deployment_requests r WHERE r.id = rollouts.request_id);
CREATE INDEX rollouts_by_environment ON rollouts (account_id, region, environment, id);
CREATE INDEX rollouts_by_status ON rollouts (status, id);

CREATE TABLE rollout_phases (
    rollout_id BIGINT NOT NULL REFERENCES rollouts(id),
    phase BIGINT NOT NULL,
    name TEXT NOT NULL,
    stack_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    -- create, update, delete, unchanged
    action TEXT,
    resource_count BIGINT NOT NULL DEFAULT 0,
    -- The change set's resource changes (JSON list), recorded before it is executed.
    changes TEXT NOT NULL DEFAULT '[]',
    outputs TEXT NOT NULL DEFAULT '[]',
    reason TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (rollout_id, phase)
);

CREATE TABLE rollout_events (
    id INTEGER PRIMARY KEY,
    rollout_id BIGINT NOT NULL REFERENCES rollouts(id),
    phase BIGINT NOT NULL,
    -- CloudFormation's event id: an event read twice (after a restart) is stored once.
    event_id TEXT NOT NULL,
    logical_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (rollout_id, event_id)
);
CREATE INDEX rollout_events_by_rollout ON rollout_events (rollout_id, id);
