-- The audit trail is append-only for TRUNCATE too (the row triggers of 0001 do not fire on it).
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
