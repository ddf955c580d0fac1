-- Every change to a rollout, its phases or its events wakes the live views of every portal
-- process at commit (LISTEN portal_rollouts; the payload is the rollout id). PostgreSQL folds
-- identical notifications of one transaction into one.
CREATE OR REPLACE FUNCTION portal_notify_rollout() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'rollouts' THEN
        PERFORM pg_notify('portal_rollouts', NEW.id::text);
    ELSE
        PERFORM pg_notify('portal_rollouts', NEW.rollout_id::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rollouts_notify AFTER INSERT OR UPDATE ON rollouts
    FOR EACH ROW EXECUTE FUNCTION portal_notify_rollout();
CREATE TRIGGER rollout_phases_notify AFTER INSERT OR UPDATE ON rollout_phases
    FOR EACH ROW EXECUTE FUNCTION portal_notify_rollout();
CREATE TRIGGER rollout_events_notify AFTER INSERT ON rollout_events
    FOR EACH ROW EXECUTE FUNCTION portal_notify_rollout();
