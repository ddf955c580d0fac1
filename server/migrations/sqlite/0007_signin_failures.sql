-- Failed sign-ins by account and by address, in the database so that every portal process
-- sharing it applies the same limit.
CREATE TABLE signin_failures (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX signin_failures_by_key ON signin_failures (key, at);
