// The HTTP JSON API, transport-free: HttpRequest in, HttpResponse out (http_server.hpp carries the bytes).
// Versioned under /v1; /healthz and /readyz answer without a token, everything else needs a bearer token
// whose role allows the call (auth/roles.hpp). Errors are {"error":{"code","message","details":[…]}} with the
// status that fits (400 bad input, 401 no/invalid token, 403 role, 404, 405, 409 conflict, 503 database down).
// Every mutating call is written to the audit log with its caller and outcome, refused ones included.
//
// ENDPOINTS (docs/api.md has bodies and examples; tests/daemon/test_api_doc.cpp holds it to route_table())
//   GET  /healthz  /readyz  /metrics
//   GET  /v1/providers                      GET /v1/providers/{publisher}/{name}@{version}
//   GET  /v1/handlers   POST /v1/handlers   GET|PATCH|DELETE /v1/handlers/{id}   POST /v1/handlers/{id}/check
//   GET  /v1/target-groups   POST /v1/target-groups   GET|DELETE /v1/target-groups/{id}
//   GET  /v1/routes   POST /v1/routes   PATCH|DELETE /v1/routes/{group}/{handler}[/{kind}]
//   GET  /v1/grants   POST /v1/grants   GET /v1/grants/{id}   POST /v1/grants/{id}/revoke
//   GET  /v1/audit    POST /v1/apply[?dry_run=true]
//   GET  /v1/target-groups/{id}/options   (values a request may name, from the inventory)
//   GET  /v1/sync-runs   POST /v1/sync-runs   GET /v1/sync-runs/{id}
//   GET  /v1/resources   GET /v1/resources/{handler}/{type}/{id}
#pragma once

#include "api/http_types.hpp"
#include "api/metrics.hpp"
#include "auth/tokens.hpp"
#include "grants/grant_engine.hpp"
#include "health/health_monitor.hpp"
#include "inventory/sync_engine.hpp"
#include "registry/registry.hpp"
#include "store/database.hpp"

#include <functional>
#include <memory>

namespace gatehouse::host::api {

// Shared by every request: the endpoints use these objects from all the HTTP server's threads at once, so each
// must be thread-safe (the ones named here are), `draining` included.
struct ApiDependencies {
  store::Database& db;
  registry::Registry& registry;
  registry::ProviderCatalog& catalog;
  grants::GrantEngine& engine;
  const auth::TokenVerifier& tokens;
  Metrics& metrics;
  health::HealthMonitor* health = nullptr;  // for POST /v1/handlers/{id}/check; null: 503
  std::function<bool()> draining;          // true while shutting down: /readyz answers 503
  inventory::SyncEngine* sync = nullptr;   // for POST /v1/sync-runs; null: 503
};

// Thread-safe: handle() and route_label() may be called from any number of threads at once (the HTTP server's).
// The route table is fixed at construction; all other state lives in the dependencies.
class ApiService {
 public:
  explicit ApiService(ApiDependencies deps);
  ~ApiService();

  // Never throws: anything unexpected becomes a 500 with code "internal_error" (logged, not echoed).
  HttpResponse handle(const HttpRequest& request);

  // The route label a request counts under in metrics ("/v1/grants/{id}"), "unmatched" when none.
  std::string route_label(const HttpRequest& request) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One row of the router's table: what docs/api.md must list (tests/daemon/test_api_doc.cpp compares them).
struct RouteDescription {
  std::string method;        // "GET"
  std::string path;          // "/v1/grants/{id}", placeholders as the router names them
  bool authenticated = true;  // false for /healthz and /readyz only
  std::string least_role;     // the least role that may call it: "requester", "auditor", "admin"; "none" without a token
  std::string audit_action;  // "grant.request" for mutating calls, "" otherwise
};
// Every route ApiService::handle answers, in the router's own order. Pure; callable from any thread.
std::vector<RouteDescription> route_table();

// The one place an Error becomes an HTTP answer: the status from the code table (error_codes.txt), the body
// {"error": {code, message, details}}, and the code kept on the response for the audit outcome.
HttpResponse error_response(const Error& error);
HttpResponse json_response(int status, const nlohmann::json& body);

}  // namespace gatehouse::host::api
