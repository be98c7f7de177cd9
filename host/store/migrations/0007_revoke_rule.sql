-- The revoke rule (docs/architecture.md "The revoke rule"; host/routing/revoke.hpp).
--
-- A revoke goes to the handler that granted and waits for it. Another handler may take it only when the
-- operator declared both to manage the same backend: same provider (publisher/name) and the same non-empty
-- handlers.backend. The access remembers which provider and backend its handler had when it granted, so a
-- grant whose handler was deleted can still be re-pointed to a handler of that backend. An admin may instead
-- force-close such a grant: it ends, flagged access_may_persist, and keeps what a later revoke needs
-- (leftover_*), because a revoke of such a grant may be attempted again.

ALTER TABLE handlers ADD COLUMN backend text CHECK (backend IS NULL OR (backend <> '' AND length(backend) <= 200));
COMMENT ON COLUMN handlers.backend IS
  'Operator-declared name of the system this handler manages. Handlers of one provider (publisher/name) with '
  'the same backend are interchangeable for revokes; NULL: interchangeable with none.';

ALTER TABLE accesses
  ADD COLUMN handler_provider text,
  ADD COLUMN handler_backend text;
COMMENT ON COLUMN accesses.handler_provider IS
  'publisher/name of handler_id''s provider when it granted (re-pointing a revoke checks it).';
COMMENT ON COLUMN accesses.handler_backend IS 'handlers.backend of handler_id when it granted (NULL: none declared).';

ALTER TABLE grants
  ADD COLUMN access_may_persist boolean NOT NULL DEFAULT false,
  ADD COLUMN leftover_provider_grant_id uuid,
  ADD COLUMN leftover_state bytea,
  ADD COLUMN leftover_provider text,
  ADD COLUMN leftover_backend text;
COMMENT ON COLUMN grants.access_may_persist IS
  'The grant was force-closed by an admin before any handler holding the access confirmed the revoke: the '
  'access may still exist at the backend. A revoke of such a grant is attempted again on request.';
COMMENT ON COLUMN grants.leftover_provider_grant_id IS
  'For access_may_persist: the idempotency key of the access at force-close time (with leftover_state, the '
  'provider state, and leftover_provider/backend, the handler''s provider and backend), for a later revoke.';

-- gatehouse_grants_revoke_failing{handler} and `grant list --status revoke-failing`.
CREATE INDEX grants_revoke_failing_idx ON grants (handler_id) WHERE revoke_failing;
