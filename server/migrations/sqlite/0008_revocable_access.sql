-- Access that can be revoked: disabled users, named tokens that expire and can be revoked,
-- sessions that end when idle, approvals that lapse when their approver is demoted.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT 'token';
ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT;
-- Tokens made before tokens expired get the default lifetime (90 days) from their creation.
UPDATE api_tokens SET expires_at = created_at + 7776000000 WHERE expires_at IS NULL;

ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
UPDATE sessions SET last_seen_at = created_at WHERE last_seen_at IS NULL;

ALTER TABLE approvals ADD COLUMN voided_at BIGINT;

-- A single sign-on is finished only in the browser that started it (a hash of its cookie).
ALTER TABLE oidc_pending ADD COLUMN browser_hash TEXT;

-- Who cancelled a rollout: a requester cannot retry what an approver stopped.
ALTER TABLE rollouts ADD COLUMN cancelled_by TEXT;

-- Errors that interrupted a rollout: the engine gives up after a bounded number.
ALTER TABLE rollouts ADD COLUMN interruptions BIGINT NOT NULL DEFAULT 0;
