-- Grants, their transition history and the provider-side accesses they share (host/grants/).
--
-- A grant is one request for access (subject + target group + target + duration). An access is what a
-- provider actually holds for one (target group, subject, target): overlapping grants of the same access
-- share it, and the provider's Revoke is called only when the last covering grant ends. Every transition
-- of a grant is committed together with its grant_history row; workers claim due rows with
-- SELECT ... FOR UPDATE SKIP LOCKED and hold a lease (lease_owner/lease_until) while they process them.

CREATE TABLE grants (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  subject             text        NOT NULL CHECK (subject <> ''),
  target_group_id     text        NOT NULL REFERENCES target_groups (id) ON DELETE RESTRICT,
  target              jsonb       NOT NULL,
  access_key          text        NOT NULL,
  status              text        NOT NULL
                                  CHECK (status IN ('pending', 'active', 'revoking', 'revoked', 'expired', 'failed')),
  requested_at        timestamptz NOT NULL DEFAULT now(),
  not_before          timestamptz NOT NULL,
  duration_seconds    bigint      NOT NULL CHECK (duration_seconds > 0),
  activated_at        timestamptz,
  ends_at             timestamptz,
  ended_at            timestamptz,
  end_requested       boolean     NOT NULL DEFAULT false,
  revoke_requested_at timestamptz,
  revoke_requested_by text,
  end_reason          text,
  handler_id          text,
  kind                text,
  revoke_failing      boolean     NOT NULL DEFAULT false,
  attempts            integer     NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz NOT NULL,
  last_error          text,
  lease_owner         text,
  lease_until         timestamptz,
  created_by          text        NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'active' OR (activated_at IS NOT NULL AND ends_at IS NOT NULL))
);
-- The work queue: what workers scan, oldest due first.
CREATE INDEX grants_due_idx ON grants (next_attempt_at) WHERE status IN ('pending', 'active', 'revoking');
-- "Is this access still covered by another grant?" asked when a grant ends.
CREATE INDEX grants_open_access_idx ON grants (access_key) WHERE status IN ('pending', 'active', 'revoking');
CREATE INDEX grants_subject_idx ON grants (subject, requested_at);
CREATE INDEX grants_group_idx ON grants (target_group_id, requested_at);
COMMENT ON TABLE grants IS
  'Access grants: subject + target group + target for duration_seconds counted from activated_at. '
  'States pending -> active -> (revoking ->) revoked / expired, or failed.';
COMMENT ON COLUMN grants.access_key IS
  'sha256 hex of target_group_id, subject and the canonical target JSON (separated by \x1f): grants with '
  'equal keys overlap and share one provider-side access (table accesses).';
COMMENT ON COLUMN grants.ends_at IS 'activated_at + duration_seconds: time spent pending never shortens access.';
COMMENT ON COLUMN grants.handler_id IS 'The handler that holds the access (no foreign key: handlers can be deleted).';
COMMENT ON COLUMN grants.revoke_failing IS
  'Set after repeated consecutive revoke failures; the revoke is still retried with backoff.';
COMMENT ON COLUMN grants.next_attempt_at IS
  'When a worker should look at the grant next: not_before for pending, ends_at for active, a backoff for retries, '
  'lease_until while a worker holds it.';
COMMENT ON COLUMN grants.lease_owner IS '<engine id>/<boot nonce>/<claim>: the worker processing the grant now.';

CREATE TABLE grant_history (
  id          bigserial   PRIMARY KEY,
  grant_id    uuid        NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  from_status text,
  to_status   text        NOT NULL,
  reason      text        NOT NULL,
  handler_id  text,
  engine      text
);
CREATE INDEX grant_history_grant_idx ON grant_history (grant_id, id);
COMMENT ON TABLE grant_history IS
  'One row per grant transition, committed with it (from_status NULL: created). A row whose from_status equals '
  'its to_status is a note (a new retry reason, a compensating revoke), not a transition.';

CREATE TABLE accesses (
  access_key        text        PRIMARY KEY,
  target_group_id   text        NOT NULL REFERENCES target_groups (id) ON DELETE RESTRICT,
  subject           text        NOT NULL,
  target            jsonb       NOT NULL,
  status            text        NOT NULL DEFAULT 'none' CHECK (status IN ('none', 'granting', 'active', 'revoking')),
  handler_id        text,
  kind              text,
  provider_grant_id uuid,
  provider_state    bytea,
  op_owner          text,
  op_until          timestamptz,
  op_grant_id       uuid,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE accesses IS
  'Provider-side access per (target group, subject, target), shared by overlapping grants. granting/revoking: a '
  'provider call is (or may be) in flight on handler_id with idempotency key provider_grant_id, driven by '
  'op_grant_id under a lease until op_until.';
COMMENT ON COLUMN accesses.provider_state IS 'What the provider returned from Grant, handed back to Revoke.';
