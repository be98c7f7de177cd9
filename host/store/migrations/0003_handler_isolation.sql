-- Where a handler's provider runs: 'in_process' (loaded into gatehoused) or 'process' (its own supervised
-- gatehouse-provider-runner, so a crash in the provider costs the runner, never the host). Existing handlers keep
-- running in process.
ALTER TABLE handlers
  ADD COLUMN isolation text NOT NULL DEFAULT 'in_process' CHECK (isolation IN ('in_process', 'process'));
COMMENT ON COLUMN handlers.isolation IS
  'in_process: the provider is loaded into gatehoused; process: it runs in a supervised gatehouse-provider-runner.';
