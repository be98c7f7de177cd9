-- The control plane: loaded providers, handlers (configured provider instances), target groups and the
-- routes between them, plus the audit log. Grants and their history arrive in a later migration.

CREATE TABLE providers (
  publisher  text        NOT NULL,
  name       text        NOT NULL,
  version    text        NOT NULL,
  path       text        NOT NULL,
  schema     jsonb       NOT NULL,
  loaded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (publisher, name, version)
);
COMMENT ON TABLE providers IS 'Provider libraries gatehouse has loaded: identity, file and JSON Schema document.';

CREATE TABLE handlers (
  id                 text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  provider_publisher text        NOT NULL,
  provider_name      text        NOT NULL,
  provider_version   text        NOT NULL,
  config             jsonb       NOT NULL,
  health_status      text        NOT NULL DEFAULT 'unknown'
                                 CHECK (health_status IN ('unknown', 'healthy', 'unhealthy')),
  health_reason      text,
  health_checked_at  timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handlers_provider_idx ON handlers (provider_publisher, provider_name, provider_version);
COMMENT ON TABLE handlers IS 'Running instances of a provider with a validated config, and their last health check.';
COMMENT ON COLUMN handlers.config IS
  'The handler config, validated against the provider schema. Secret values are stored only as references '
  '(env:NAME, file:/path) or encrypted, never in clear: the writer guarantees this, the database does not check it.';

CREATE TABLE target_groups (
  id                   text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  provider_publisher   text        NOT NULL,
  provider_name        text        NOT NULL,
  provider_version     text        NOT NULL,
  kind                 text        NOT NULL,
  kind_schema          jsonb       NOT NULL,
  max_duration_seconds integer     NOT NULL CHECK (max_duration_seconds > 0),
  created_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE target_groups IS
  'What requesters ask for: a target kind (publisher/name@version/Kind) whose schema is fixed at creation.';

CREATE TABLE routes (
  target_group_id text        NOT NULL REFERENCES target_groups (id) ON DELETE CASCADE,
  handler_id      text        NOT NULL REFERENCES handlers (id) ON DELETE CASCADE,
  kind            text        NOT NULL,
  priority        integer     NOT NULL CHECK (priority BETWEEN 0 AND 999),
  valid           boolean     NOT NULL DEFAULT false,
  invalid_reason  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_group_id, handler_id, kind)
);
CREATE INDEX routes_handler_idx ON routes (handler_id);
COMMENT ON TABLE routes IS
  'Target group to handler (+ kind) with a priority 0-999 (0 disables); valid only when the kinds are compatible.';
COMMENT ON COLUMN routes.invalid_reason IS 'Why the route is not valid; shown to operators.';

CREATE TABLE audit_log (
  id      bigserial   PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text        NOT NULL,
  action  text        NOT NULL,
  object  text        NOT NULL,
  outcome text        NOT NULL,
  details jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
COMMENT ON TABLE audit_log IS 'Who did what to which object, and how it ended. Append-only; details never hold secrets.';
