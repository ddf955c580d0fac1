-- Browser sessions: the cookie holds a random id, the table only its SHA-256.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
-- History filters.
CREATE INDEX requests_by_environment ON deployment_requests (environment, id);
CREATE INDEX requests_by_status ON deployment_requests (status, id);
CREATE INDEX requests_by_requester ON deployment_requests (requester_id, id);
CREATE INDEX requests_by_tier ON deployment_requests (tier, id);
CREATE INDEX audit_by_subject ON audit_log (subject, id);
