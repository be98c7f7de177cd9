-- A handler may be 'degraded' (issue 19): its provider serves, but some targets cannot be granted (the postgres
-- provider's login lacks ADMIN OPTION on one role, say). Its routes stay usable; requests for those targets are
-- refused with the provider's reason. Which targets is kept in memory only: every health check says it again.
ALTER TABLE handlers DROP CONSTRAINT handlers_health_status_check;
ALTER TABLE handlers ADD CONSTRAINT handlers_health_status_check
  CHECK (health_status IN ('unknown', 'healthy', 'degraded', 'unhealthy'));
