-- Resource inventory (host/inventory/): what each handler's loaders returned, and a record of every sync run.
--
-- A sync run calls every loader of one handler page by page; pages are copied (COPY) into a session-local
-- staging table and merged into `resources` keyed by (handler_id, type, id), writing a row only when it is
-- new or its content changed. A loader's stale rows (its rows that it did not return in this run) are
-- deleted only when that loader finished without any error, so a partial failure never removes inventory.
-- Only one run per handler at a time, across replicas: the run holds a session advisory lock keyed by
-- hashtextextended('gatehouse-inventory:' || handler_id, 0).

CREATE TABLE sync_runs (
  id                 bigserial   PRIMARY KEY,
  handler_id         text        NOT NULL,
  trigger            text        NOT NULL CHECK (trigger IN ('schedule', 'on_demand')),
  status             text        NOT NULL
                                 CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'cancelled', 'abandoned')),
  started_at         timestamptz NOT NULL DEFAULT now(),
  finished_at        timestamptz,
  resources_seen     bigint      NOT NULL DEFAULT 0,
  resources_written  bigint      NOT NULL DEFAULT 0,
  resources_removed  bigint      NOT NULL DEFAULT 0,
  resources_rejected bigint      NOT NULL DEFAULT 0,
  error              text,
  CHECK (status = 'running' OR finished_at IS NOT NULL)
);
CREATE INDEX sync_runs_handler_idx ON sync_runs (handler_id, id DESC);
COMMENT ON TABLE sync_runs IS
  'One inventory sync of one handler. status: running, then succeeded (every loader finished), partial (some '
  'loaders failed), failed (all failed or the run could not proceed), cancelled (the engine stopped) or '
  'abandoned (its process died; found by the next run of the handler). Counters grow while it runs (progress).';
COMMENT ON COLUMN sync_runs.handler_id IS 'No foreign key: the history of a deleted handler stays readable.';
COMMENT ON COLUMN sync_runs.resources_seen IS 'Resources received from the provider and staged so far.';
COMMENT ON COLUMN sync_runs.resources_written IS 'Rows inserted or changed in resources (unchanged rows are not written).';
COMMENT ON COLUMN sync_runs.resources_removed IS 'Stale rows deleted at the end of loaders that finished without error.';
COMMENT ON COLUMN sync_runs.resources_rejected IS
  'Resources refused before staging (empty or NUL-bearing id/type, unknown type, data that is not a JSON object).';

CREATE TABLE sync_run_loaders (
  run_id             bigint      NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
  loader             text        NOT NULL,
  status             text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'abandoned')),
  started_at         timestamptz NOT NULL DEFAULT now(),
  finished_at        timestamptz,
  pages              bigint      NOT NULL DEFAULT 0,
  resources_seen     bigint      NOT NULL DEFAULT 0,
  resources_written  bigint      NOT NULL DEFAULT 0,
  resources_removed  bigint      NOT NULL DEFAULT 0,
  resources_rejected bigint      NOT NULL DEFAULT 0,
  retries            integer     NOT NULL DEFAULT 0,
  error_code         text,
  error              text,
  PRIMARY KEY (run_id, loader)
);
COMMENT ON TABLE sync_run_loaders IS
  'Per-loader outcome of a sync run: pages, counts, retries and the first error (code and sentence). A failed '
  'loader removed nothing.';
COMMENT ON COLUMN sync_run_loaders.retries IS 'Load calls repeated after a retryable failure (unavailable, timeout, transport).';

CREATE TABLE resources (
  handler_id    text        NOT NULL,
  type          text        NOT NULL,
  id            text        NOT NULL,
  name          text        NOT NULL DEFAULT '',
  data          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  relations     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  loader        text        NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  changed_run   bigint      NOT NULL,
  PRIMARY KEY (handler_id, type, id)
);
COMMENT ON TABLE resources IS
  'Inventory: the resources each handler''s loaders returned, keyed by (handler_id, type, id). Ids, types and '
  'names are whatever the provider said: treat them as untrusted text.';
COMMENT ON COLUMN resources.relations IS
  'Ids this resource names through data fields declared with a relation in the provider schema: '
  '{"<field>": {"type": "<resource type>", "ids": ["..."]}}.';
COMMENT ON COLUMN resources.loader IS 'The loader that last returned the row; its stale-row removal covers the row.';
COMMENT ON COLUMN resources.updated_at IS 'When the row was inserted or its content last changed.';
COMMENT ON COLUMN resources.changed_run IS
  'The sync run that inserted or last changed the row. When a row was last seen is not stored per row (that '
  'would rewrite the whole inventory on every sync): it is the end of the latest succeeded run of its loader.';
