-- This portal's identity, made once per database: every stack it creates is tagged with it, and
-- it changes no stack without it.
CREATE TABLE portal_instance (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
