-- Replicas see each other's changes (issue 14.6). Every gatehoused keeps handlers, target groups and routes in
-- memory; a change committed through one replica must reach the others. Each row of the three tables carries the
-- control-plane revision that last changed what routing depends on (a number from one sequence, so revisions
-- only grow), and a committed change notifies channel 'gatehouse_control_plane'. A replica reloads on the
-- notification, and periodically compares (max revision, row count) per table with what it applied, so a
-- notification lost while its listening connection was down is caught up. Health columns and the validity a
-- replica computes do not bump the revision: every replica checks health and evaluates routes for itself.
CREATE SEQUENCE control_plane_revision;
COMMENT ON SEQUENCE control_plane_revision IS
  'Revisions of handlers, target_groups and routes rows: a replica compares them with the ones it applied.';

ALTER TABLE handlers ADD COLUMN revision bigint NOT NULL DEFAULT nextval('control_plane_revision');
ALTER TABLE target_groups ADD COLUMN revision bigint NOT NULL DEFAULT nextval('control_plane_revision');
ALTER TABLE routes ADD COLUMN revision bigint NOT NULL DEFAULT nextval('control_plane_revision');
COMMENT ON COLUMN handlers.revision IS 'control_plane_revision of the last change to provider, config, isolation or backend.';
COMMENT ON COLUMN target_groups.revision IS 'control_plane_revision of the last change to the group.';
COMMENT ON COLUMN routes.revision IS 'control_plane_revision of the last change to the route''s priority.';

-- A new revision when an update changes what other replicas must apply; the writer never has to remember it.
CREATE FUNCTION control_plane_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.revision := nextval('control_plane_revision');
  RETURN NEW;
END $$;
COMMENT ON FUNCTION control_plane_bump_revision() IS 'Gives a changed control-plane row a new revision.';

CREATE TRIGGER handlers_revision BEFORE UPDATE ON handlers FOR EACH ROW
  WHEN (OLD.provider_publisher IS DISTINCT FROM NEW.provider_publisher
        OR OLD.provider_name IS DISTINCT FROM NEW.provider_name
        OR OLD.provider_version IS DISTINCT FROM NEW.provider_version
        OR OLD.config IS DISTINCT FROM NEW.config
        OR OLD.isolation IS DISTINCT FROM NEW.isolation
        OR OLD.backend IS DISTINCT FROM NEW.backend
        OR OLD.incarnation IS DISTINCT FROM NEW.incarnation)
  EXECUTE FUNCTION control_plane_bump_revision();
CREATE TRIGGER target_groups_revision BEFORE UPDATE ON target_groups FOR EACH ROW
  WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION control_plane_bump_revision();
CREATE TRIGGER routes_revision BEFORE UPDATE ON routes FOR EACH ROW
  WHEN (OLD.priority IS DISTINCT FROM NEW.priority) EXECUTE FUNCTION control_plane_bump_revision();

-- Delivered at commit (never for a rolled-back change); PostgreSQL folds identical payloads of one transaction.
CREATE FUNCTION control_plane_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_control_plane', TG_TABLE_NAME);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION control_plane_notify() IS 'Tells every listening gatehoused that the control plane changed.';

CREATE TRIGGER handlers_notify AFTER INSERT OR DELETE ON handlers FOR EACH ROW
  EXECUTE FUNCTION control_plane_notify();
CREATE TRIGGER handlers_notify_update AFTER UPDATE ON handlers FOR EACH ROW
  WHEN (OLD.revision IS DISTINCT FROM NEW.revision) EXECUTE FUNCTION control_plane_notify();
CREATE TRIGGER target_groups_notify AFTER INSERT OR DELETE ON target_groups FOR EACH ROW
  EXECUTE FUNCTION control_plane_notify();
CREATE TRIGGER target_groups_notify_update AFTER UPDATE ON target_groups FOR EACH ROW
  WHEN (OLD.revision IS DISTINCT FROM NEW.revision) EXECUTE FUNCTION control_plane_notify();
CREATE TRIGGER routes_notify AFTER INSERT OR DELETE ON routes FOR EACH ROW
  EXECUTE FUNCTION control_plane_notify();
CREATE TRIGGER routes_notify_update AFTER UPDATE ON routes FOR EACH ROW
  WHEN (OLD.revision IS DISTINCT FROM NEW.revision) EXECUTE FUNCTION control_plane_notify();
