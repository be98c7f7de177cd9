#include "api/api_service.hpp"

#include "api/endpoints.hpp"
#include "api/json_views.hpp"
#include "audit/audit_log.hpp"

#include <spdlog/spdlog.h>

#include <optional>

namespace gatehouse::host::api {

using detail::Call;
using detail::Endpoint;
using nlohmann::json;

namespace {

struct Route {
  const char* method;
  std::vector<std::string> pattern;  // literal segments, or "{name}" placeholders
  std::optional<auth::Permission> permission;  // nullopt: no authentication (health checks only)
  Endpoint endpoint;
  const char* audit_action = nullptr;  // set for mutating calls
  std::string label;                   // "/v1/grants/{id}"
};

std::vector<std::string> split(const std::string& pattern) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start < pattern.size()) {
    auto end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    out.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Route route(const char* method, const std::string& pattern, std::optional<auth::Permission> permission, Endpoint fn,
            const char* audit_action = nullptr) {
  return Route{method, split(pattern), permission, fn, audit_action, pattern};
}

std::vector<Route> routes() {
  using P = auth::Permission;
  namespace d = detail;
  return {
      route("GET", "/healthz", std::nullopt, d::healthz),
      route("GET", "/readyz", std::nullopt, d::readyz),
      route("GET", "/metrics", P::read_control_plane, d::metrics),
      route("GET", "/v1/providers", P::read_catalog, d::list_providers),
      route("GET", "/v1/providers/{publisher}/{name}", P::read_catalog, d::show_provider),
      route("GET", "/v1/handlers", P::read_control_plane, d::list_handlers),
      route("POST", "/v1/handlers", P::manage_control_plane, d::create_handler, "handler.create"),
      route("GET", "/v1/handlers/{id}", P::read_control_plane, d::show_handler),
      route("PATCH", "/v1/handlers/{id}", P::manage_control_plane, d::update_handler, "handler.update"),
      route("DELETE", "/v1/handlers/{id}", P::manage_control_plane, d::delete_handler, "handler.delete"),
      route("POST", "/v1/handlers/{id}/check", P::manage_control_plane, d::check_handler, "handler.check"),
      route("GET", "/v1/target-groups", P::read_catalog, d::list_target_groups),
      route("POST", "/v1/target-groups", P::manage_control_plane, d::create_target_group, "target_group.create"),
      route("GET", "/v1/target-groups/{id}", P::read_catalog, d::show_target_group),
      route("DELETE", "/v1/target-groups/{id}", P::manage_control_plane, d::delete_target_group,
            "target_group.delete"),
      route("GET", "/v1/routes", P::read_control_plane, d::list_routes),
      route("POST", "/v1/routes", P::manage_control_plane, d::create_route, "route.create"),
      route("PATCH", "/v1/routes/{group}/{handler}", P::manage_control_plane, d::set_route_priority, "route.update"),
      route("PATCH", "/v1/routes/{group}/{handler}/{kind}", P::manage_control_plane, d::set_route_priority,
            "route.update"),
      route("DELETE", "/v1/routes/{group}/{handler}", P::manage_control_plane, d::delete_route, "route.delete"),
      route("DELETE", "/v1/routes/{group}/{handler}/{kind}", P::manage_control_plane, d::delete_route,
            "route.delete"),
      route("GET", "/v1/grants", P::read_own_grants, d::list_grants),
      route("POST", "/v1/grants", P::request_grant, d::request_grant, "grant.request"),
      route("GET", "/v1/grants/{id}", P::read_own_grants, d::show_grant),
      route("POST", "/v1/grants/{id}/revoke", P::revoke_own_grant, d::revoke_grant, "grant.revoke"),
      route("GET", "/v1/target-groups/{id}/options", P::read_catalog, d::target_group_options),
      route("GET", "/v1/sync-runs", P::read_control_plane, d::list_sync_runs),
      route("POST", "/v1/sync-runs", P::manage_control_plane, d::start_sync, "sync.start"),
      route("GET", "/v1/sync-runs/{id}", P::read_control_plane, d::show_sync_run),
      route("GET", "/v1/resources", P::read_control_plane, d::list_resources),
      route("GET", "/v1/resources/{handler}/{type}/{id}", P::read_control_plane, d::show_resource),
      route("GET", "/v1/audit", P::read_audit, d::list_audit),
      route("POST", "/v1/apply", P::manage_control_plane, d::apply, "apply"),
  };
}

bool matches(const Route& r, const std::vector<std::string>& segments, std::vector<std::string>* params) {
  if (r.pattern.size() != segments.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& p = r.pattern[i];
    if (!p.empty() && p.front() == '{') {
      found.push_back(segments[i]);
    } else if (p != segments[i]) {
      return false;
    }
  }
  if (params) *params = std::move(found);
  return true;
}

}  // namespace

std::vector<RouteDescription> route_table() {
  std::vector<RouteDescription> out;
  for (const auto& r : routes()) {
    std::string least = "none";
    if (r.permission) {
      least = "admin";  // admin may do everything
      for (auto role : {auth::Role::requester, auth::Role::auditor})
        if (auth::allows(role, *r.permission)) {
          least = std::string(auth::role_name(role));
          break;
        }
    }
    out.push_back({r.method, r.label, r.permission.has_value(), least, r.audit_action ? r.audit_action : ""});
  }
  return out;
}

struct ApiService::Impl {
  ApiDependencies deps;
  std::vector<Route> table = routes();

  const Route* find(const std::vector<std::string>& segments, const std::string& method,
                    std::vector<std::string>* params, std::string* allowed) const {
    const Route* hit = nullptr;
    for (const auto& r : table) {
      if (!matches(r, segments, nullptr)) continue;
      if (allowed) *allowed += (allowed->empty() ? "" : ", ") + std::string(r.method);
      if (!hit && r.method == method) {
        matches(r, segments, params);
        hit = &r;
      }
    }
    return hit;
  }

  // An entry's details with the caller's address.
  static nlohmann::json with_remote(const Call& call, nlohmann::json details) {
    if (!call.request.remote.empty()) details["remote"] = call.request.remote;
    return details;
  }
  // The entry of a call: the route's action, what the endpoint said it touched, the caller's address.
  static nlohmann::json details_of(const Call& call) { return with_remote(call, call.audit_details); }
  static std::string object_of(const Route& r, const Call& call) {
    return call.audit_object.empty() ? std::string(r.label) : call.audit_object;
  }

  // A refusal, or a call whose change did not write its own row: in a transaction of its own, after the call.
  void audit(const Route& r, const Call& call, const std::string& outcome) {
    const std::string object = object_of(r, call);
    auto written = audit::record(deps.db, call.principal.name, r.audit_action, object, outcome, details_of(call));
    if (!written) spdlog::error("audit log write failed for {} on {}: {}", r.audit_action, object, written.error().message);
  }

  // What a change runs in its own transaction (Call::audit_in_transaction, Call::audit_change).
  static void arm_audit(const Route& r, Call& call) {
    call.audit_in_transaction = [&r, &call](pqxx::work& txn) {
      audit::record(txn, call.principal.name, r.audit_action, object_of(r, call), "ok", details_of(call));
      call.audited = true;
    };
    call.audit_change = [&call](pqxx::work& txn, const std::string& action, const std::string& object,
                                const nlohmann::json& details) {
      audit::record(txn, call.principal.name, action, object, "ok", with_remote(call, details));
    };
  }

  HttpResponse dispatch(const HttpRequest& request) {
    auto target = parse_target(request.target);
    if (!target) return error_response(target.error());
    std::vector<std::string> params;
    std::string allowed;
    const Route* r = find(target->segments, request.method, &params, &allowed);
    if (!r) {
      if (!allowed.empty()) {
        auto response = error_response(make_error(
            ErrorCode::method_not_allowed, "method " + request.method + " is not allowed here; allowed: " + allowed));
        response.headers.emplace_back("Allow", allowed);
        return response;
      }
      return error_response(make_error(ErrorCode::not_found, "there is no API endpoint at this path (the API lives under /v1)"));
    }
    Call call{request, std::move(*target), {}, std::move(params), {}, json::object()};
    if (r->permission) {
      const auto token = auth::TokenVerifier::bearer_token(request.authorization);
      const auto principal = token ? deps.tokens.verify(*token) : std::nullopt;
      if (!principal) {
        auto response = error_response(make_error(
            ErrorCode::unauthenticated, request.authorization.empty()
                                   ? "this call needs a bearer token (Authorization: Bearer <token>)"
                                   : "the bearer token is not valid"));
        response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"gatehouse\"");
        return response;
      }
      call.principal = *principal;
      if (!auth::allows(principal->role, *r->permission)) {
        auto response = error_response(make_error(
            ErrorCode::forbidden, "token '" + principal->name + "' has role " + std::string(auth::role_name(principal->role)) +
                             ", which may not " + request.method + " " + r->label));
        if (r->audit_action) audit(*r, call, "forbidden");
        return response;
      }
    }
    if (r->audit_action) arm_audit(*r, call);
    HttpResponse response = r->endpoint(deps, call);
    if (r->audit_action) {
      // The outcome is the code error_response() put there: never re-read from the body.
      std::string outcome = "ok";
      if (response.error) outcome = std::string(error_code_name(*response.error));
      else if (response.status >= 400) outcome = "error";
      // A change that succeeded wrote its row with it. A failure is recorded now, also when the change's
      // transaction ran the hook and then failed to commit (its row went with it).
      if (!(call.audited && outcome == "ok")) audit(*r, call, outcome);
    }
    return response;
  }
};

ApiService::ApiService(ApiDependencies deps) : impl_(std::make_unique<Impl>(Impl{std::move(deps)})) {}
ApiService::~ApiService() = default;

HttpResponse ApiService::handle(const HttpRequest& request) {
  try {
    return impl_->dispatch(request);
  } catch (const std::exception& e) {
    spdlog::error("API {} {} failed unexpectedly: {}", request.method, request.target, e.what());
  } catch (...) {
    spdlog::error("API {} {} failed unexpectedly", request.method, request.target);
  }
  return error_response(make_error(ErrorCode::internal_error, "the server failed to handle the request; see its log"));
}

std::string ApiService::route_label(const HttpRequest& request) const {
  auto target = parse_target(request.target);
  if (!target) return "unmatched";
  const Route* r = impl_->find(target->segments, request.method, nullptr, nullptr);
  return r ? r->label : "unmatched";
}

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse error_response(const Error& error) {
  const int status = http_status_of(error.code);
  if (status >= 500 && error.code != ErrorCode::not_ready)
    spdlog::warn("API error {}: {}", error.code_name(), error.message);
  auto response = json_response(status, error_json(error));
  response.error = error.code;
  return response;
}

namespace detail {

Result<json> body_of(const Call& call) {
  if (!call.request.body.empty() && !call.request.content_type.empty() &&
      call.request.content_type.rfind("application/json", 0) != 0)
    return make_error(ErrorCode::unsupported_media_type, "the request body must be application/json");
  return parse_json_object(call.request.body);
}

}  // namespace detail
}  // namespace gatehouse::host::api
