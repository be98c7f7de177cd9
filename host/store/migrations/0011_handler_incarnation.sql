-- A handler id can be deleted and created again, pointing at another system or running another provider. The
-- new handler never held the access its namesake granted, so it must not confirm its revoke (the revoke rule,
-- docs/architecture.md). Each creation of a handler gets an incarnation of its own; an access records the
-- incarnation of the handler that granted it (and a force-closed grant keeps it for a later revoke), and only
-- that incarnation, or a handler of the same provider and backend, may take the revoke.
ALTER TABLE handlers ADD COLUMN incarnation text NOT NULL DEFAULT gen_random_uuid()::text;
COMMENT ON COLUMN handlers.incarnation IS
  'Unique per creation of this handler id (an update keeps it): what an access compares to tell the handler '
  'that granted it from a later one with the same id.';

ALTER TABLE accesses ADD COLUMN handler_incarnation text;
COMMENT ON COLUMN accesses.handler_incarnation IS
  'handlers.incarnation of handler_id when it granted (or when a revoke was re-pointed to it); NULL: recorded '
  'before migration 0011, when the id alone decided.';

ALTER TABLE grants ADD COLUMN leftover_incarnation text;
COMMENT ON COLUMN grants.leftover_incarnation IS
  'For access_may_persist: accesses.handler_incarnation at force-close time, for a later revoke.';

ALTER TABLE grant_compensations ADD COLUMN handler_incarnation text;
COMMENT ON COLUMN grant_compensations.handler_incarnation IS
  'handlers.incarnation of handler_id when the Revoke was owed: a handler created again under that id never '
  'received the Grant, so the row is abandoned (with its note) rather than sent there.';
