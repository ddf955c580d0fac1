-- The bill: each environment's reads of Cost Explorer (what AWS billed its tagged resources, per
-- month, by service and usage type), and the usage assumptions set for a running deployment from
-- its bill. Names are environments' (unique in the portal), as in environment_expiry.

-- One read: who asked (a person, or `schedule`), what came of it (`read`: periods with groups;
-- `empty`: Cost Explorer answered with nothing for the tag; `unavailable`, `denied`, `failed`:
-- why it could not answer), the periods as JSON ([{start, end, estimated, groups}]).
CREATE TABLE bill_reads (
    id BIGSERIAL PRIMARY KEY,
    environment TEXT NOT NULL,
    read_by TEXT NOT NULL,
    read_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('read', 'empty', 'unavailable', 'denied', 'failed')),
    message TEXT NOT NULL DEFAULT '',
    periods TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX bill_reads_by_environment ON bill_reads (environment, id);

-- Usage assumptions from the bill for the deployment a request made (they apply while that
-- request's deployment runs; an upgrade carries them into its own request).
CREATE TABLE environment_usage (
    environment TEXT NOT NULL,
    request_id BIGINT NOT NULL REFERENCES deployment_requests(id),
    usage TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    -- The month of the bill it was read from (`YYYY-MM-DD`, its first day).
    from_period TEXT NOT NULL,
    PRIMARY KEY (environment, request_id)
);
