-- What an update request will change, per phase, computed with change sets when it is made
-- (an environment that already runs), so approvers see it before they sign off.
CREATE TABLE request_previews (
    request_id BIGINT PRIMARY KEY REFERENCES deployment_requests(id),
    status TEXT NOT NULL CHECK (status IN ('computing', 'ready', 'failed')),
    error TEXT,
    phases TEXT NOT NULL DEFAULT '[]',
    updated_at BIGINT NOT NULL
);
