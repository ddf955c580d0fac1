-- Outgoing notifications (Slack-compatible webhook): queued in the same transaction as
-- what they announce, delivered by a background worker with retries; admins see failures.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
