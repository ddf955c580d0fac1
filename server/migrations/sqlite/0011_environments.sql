-- Environments an admin registered: where the portal may deploy (one account, one region, one
-- deploy role assumed with the ExternalId the portal generated), which tiers, and who may request
-- and approve there. Requests name one; their stored account, region and role stay as they were
-- when requested, so older history keeps reading the same.
CREATE TABLE environments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    external_id TEXT NOT NULL,
    -- JSON arrays: tier ids; principals (a user name, or `group:NAME` for a single sign-on group).
    -- An empty principal list leaves it to the global requester / approver role alone.
    tiers TEXT NOT NULL,
    requesters TEXT NOT NULL,
    approvers TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The single sign-on groups a user had at their last sign-in (JSON array), for per-environment access.
ALTER TABLE users ADD COLUMN sso_groups TEXT NOT NULL DEFAULT '[]';
