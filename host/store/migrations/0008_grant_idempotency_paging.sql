-- Retried grant requests, paged lists and refusals that say who refused (issue 13, items 5–7).
--
-- Idempotency-Key: a request that carries one stores it on the grant it creates, scoped to the principal that
-- asked (created_by, the token name), with a hash of the request it stood for. The unique index is what makes
-- two concurrent retries of one key create one grant: the second INSERT waits for the first and then finds it.
-- Keys live as long as their grant row.

ALTER TABLE grants ADD COLUMN idempotency_key text;
ALTER TABLE grants ADD COLUMN request_hash text;
ALTER TABLE grants ADD CONSTRAINT grants_idempotency_key_check
  CHECK (idempotency_key IS NULL OR (length(idempotency_key) BETWEEN 1 AND 255 AND request_hash IS NOT NULL));
CREATE UNIQUE INDEX grants_idempotency_key_idx ON grants (created_by, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
COMMENT ON COLUMN grants.idempotency_key IS
  'The Idempotency-Key header of the request that created the grant, unique per created_by (the principal).';
COMMENT ON COLUMN grants.request_hash IS
  'sha256 hex of the canonical request the key was used for: a reuse with a different request is refused.';

-- Keyset paging of GET /v1/grants, newest first: (requested_at, id) < (cursor) walks this index backwards.
CREATE INDEX grants_requested_idx ON grants (requested_at, id);

-- What a provider said when it refused a grant (code, message, field paths), so clients can show it whole.
ALTER TABLE grants ADD COLUMN failure jsonb;
COMMENT ON COLUMN grants.failure IS
  'For failed grants: {"handler", "code", "message", "details": [{"path", "reason"}]} of the refusal.';
