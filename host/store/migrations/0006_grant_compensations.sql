-- Compensating Revokes owed after a Grant with an unknown outcome (host/grants/).
--
-- When a Grant call fails without saying whether the provider acted (transport_failed: the runner died
-- mid-call; deadline_exceeded reported by the runner: it was killed at the deadline), the handler may hold
-- access gatehouse does not know about. The engine fails over and, in the same transaction that moves on,
-- records here that a Revoke with the same idempotency key and kind (empty state) is owed to that handler.
-- Workers claim due rows with SELECT ... FOR UPDATE SKIP LOCKED under a lease, like grants, and retry with
-- backoff until the handler confirms (already_revoked / not_found count as done) or is deleted (abandoned).
-- A row whose handler ends up holding the access with the same key is the real grant: never revoked here.

CREATE TABLE grant_compensations (
  id              bigserial   PRIMARY KEY,
  access_key      text        NOT NULL,
  handler_id      text        NOT NULL,
  kind            text        NOT NULL,
  idempotency_key uuid        NOT NULL,
  grant_id        uuid        NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  reason          text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  lease_owner     text,
  lease_until     timestamptz,
  done_at         timestamptz,
  outcome         text
);
-- The work queue: open rows, oldest due first.
CREATE INDEX grant_compensations_due_idx ON grant_compensations (next_attempt_at) WHERE done_at IS NULL;
-- One open compensation per (handler, key): recording the same doubt twice adds nothing.
CREATE UNIQUE INDEX grant_compensations_open_idx ON grant_compensations (handler_id, idempotency_key)
  WHERE done_at IS NULL;
-- "Is a compensating Revoke in flight for this access?" asked before each Grant call that may conflict.
CREATE INDEX grant_compensations_access_idx ON grant_compensations (access_key) WHERE done_at IS NULL;
COMMENT ON TABLE grant_compensations IS
  'Compensating Revokes owed to handlers whose Grant had an unknown outcome; open while done_at IS NULL.';
COMMENT ON COLUMN grant_compensations.kind IS 'The route kind the Grant was sent with; the Revoke uses the same.';
COMMENT ON COLUMN grant_compensations.idempotency_key IS 'The key the Grant was sent with (accesses.provider_grant_id).';
COMMENT ON COLUMN grant_compensations.handler_id IS 'No foreign key: handlers can be deleted (the row is then abandoned).';
COMMENT ON COLUMN grant_compensations.outcome IS
  'How it ended: revoked, already_revoked, not_found, not_needed (the handler holds the access), abandoned.';
COMMENT ON COLUMN grant_compensations.lease_owner IS
  '<engine id>/<boot nonce>/<claim>: the worker processing it now; a Grant on the same handler and key waits.';
