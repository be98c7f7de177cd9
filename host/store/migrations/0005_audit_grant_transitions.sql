-- The audit log records every grant transition as well as every mutating API call. Transitions are copied
-- from grant_history by a trigger, in the same transaction as the transition itself: the audit can never
-- miss one (a crash loses both or neither), and the grant engine stays unaware of auditing.

CREATE INDEX audit_log_actor_idx ON audit_log (actor, at);
CREATE INDEX audit_log_object_idx ON audit_log (object, at);

CREATE FUNCTION audit_grant_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Notes (from = to) are retry reasons and compensating actions: history, not transitions.
  IF NEW.from_status IS NOT DISTINCT FROM NEW.to_status THEN
    RETURN NEW;
  END IF;
  INSERT INTO audit_log (at, actor, action, object, outcome, details)
  VALUES (
    NEW.at,
    CASE WHEN NEW.from_status IS NULL
         THEN COALESCE((SELECT created_by FROM grants WHERE id = NEW.grant_id), 'gatehouse')
         ELSE 'engine:' || COALESCE(NEW.engine, 'gatehouse') END,
    'grant.' || NEW.to_status,
    'grant/' || NEW.grant_id::text,
    CASE WHEN NEW.to_status = 'failed' THEN 'failed' ELSE 'ok' END,
    jsonb_strip_nulls(jsonb_build_object('from', NEW.from_status, 'to', NEW.to_status, 'reason', NEW.reason,
                                         'handler', NEW.handler_id)));
  RETURN NEW;
END;
$$;

CREATE TRIGGER grant_history_audit AFTER INSERT ON grant_history
  FOR EACH ROW EXECUTE FUNCTION audit_grant_transition();
COMMENT ON FUNCTION audit_grant_transition() IS 'Copies each grant transition (not notes) into audit_log.';
