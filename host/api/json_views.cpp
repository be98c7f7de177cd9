#include "api/json_views.hpp"

#include "api/request_parsing.hpp"
#include "schema/secrets.hpp"

namespace gatehouse::host::api {
namespace {

using nlohmann::json;

json time_or_null(const std::optional<std::chrono::system_clock::time_point>& at) {
  return at ? json(format_rfc3339(*at)) : json(nullptr);
}

json text_or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

}  // namespace

json provider_json(const ProviderModule& module, bool with_schema) {
  const auto& id = module.identity();
  json out{{"reference", id.reference()},
           {"publisher", id.publisher},
           {"name", id.name},
           {"version", id.version},
           {"framework_version", id.framework_version},
           {"abi", std::to_string(id.abi_major) + "." + std::to_string(id.abi_minor)},
           {"path", module.path()}};
  json kinds = json::array();
  const json targets = module.schema().value("targets", json::object());
  for (const auto& [kind, spec] : targets.items()) {
    (void)spec;
    kinds.push_back(kind);
  }
  out["target_kinds"] = kinds;
  if (with_schema) out["schema"] = module.schema();
  return out;
}

json handler_json(const registry::HandlerInfo& h, const json* provider_schema) {
  // While degraded: the targets the provider said it cannot grant, with why.
  json unavailable = json::array();
  for (const auto& u : h.unavailable_targets) {
    json properties = json::object();
    for (const auto& [k, v] : u.properties) properties[k] = v;
    unavailable.push_back({{"kind", u.kind}, {"properties", properties}, {"reason", u.reason}});
  }
  return json{{"id", h.id},
              {"provider", h.provider.text()},
              {"isolation", registry::isolation_name(h.isolation)},
              {"backend", text_or_null(h.backend)},
              {"config", provider_schema ? redact_secrets(*provider_schema, h.config) : h.config},
              {"health",
               {{"status", registry::health_status_name(h.health)},
                {"reason", text_or_null(h.health_reason)},
                {"checked_at", time_or_null(h.health_checked_at)},
                {"unavailable_targets", unavailable}}}};
}

json target_group_json(const registry::TargetGroupInfo& g) {
  return json{{"id", g.id},
              {"kind", g.kind.text()},
              {"max_duration_seconds", g.max_duration.count()},
              {"kind_schema", g.kind_schema}};
}

json route_json(const registry::RouteInfo& r) {
  return json{{"target_group", r.target_group},
              {"handler", r.handler},
              {"kind", r.kind},
              {"priority", r.priority},
              {"valid", r.valid},
              {"invalid_reason", text_or_null(r.invalid_reason)}};
}

json grant_json(const grants::GrantRecord& g) {
  json target = json::object();
  for (const auto& [k, v] : g.target) target[k] = v;
  json failure = nullptr;  // a failed grant: the refusal as the provider said it, with its field paths
  if (g.failure) {
    json details = json::array();
    for (const auto& [path, reason] : g.failure->details) details.push_back({{"path", path}, {"reason", reason}});
    failure = json{{"handler", text_or_null(g.failure->handler)},
                   {"code", g.failure->code},
                   {"message", g.failure->message},
                   {"details", details}};
  }
  return json{{"id", g.id},
              {"subject", g.subject},
              {"target_group", g.target_group},
              {"target", target},
              {"status", std::string(grants::to_string(g.status))},
              {"duration_seconds", g.duration.count()},
              {"requested_at", format_rfc3339(g.requested_at)},
              {"not_before", format_rfc3339(g.not_before)},
              {"activated_at", time_or_null(g.activated_at)},
              {"ends_at", time_or_null(g.ends_at)},
              {"ended_at", time_or_null(g.ended_at)},
              {"end_reason", text_or_null(g.end_reason)},
              {"revoke_requested_by", text_or_null(g.revoke_requested_by)},
              {"handler", text_or_null(g.handler_id)},
              {"kind", text_or_null(g.kind)},
              {"revoke_failing", g.revoke_failing},
              {"access_may_persist", g.access_may_persist},
              {"last_error", text_or_null(g.last_error)},
              {"failure", failure},
              {"idempotency_key", text_or_null(g.idempotency_key)},
              {"created_by", g.created_by}};
}

json history_json(const grants::HistoryEntry& e) {
  return json{{"at", format_rfc3339(e.at)},
              {"from", e.from ? json(std::string(grants::to_string(*e.from))) : json(nullptr)},
              {"to", std::string(grants::to_string(e.to))},
              {"note", e.is_note()},
              {"reason", e.reason},
              {"handler", text_or_null(e.handler_id)},
              {"engine", text_or_null(e.engine)}};
}

json audit_json(const audit::AuditEntry& e) {
  return json{{"id", e.id},        {"at", format_rfc3339(e.at)}, {"actor", e.actor},    {"action", e.action},
              {"object", e.object}, {"outcome", e.outcome},      {"details", e.details}};
}

json error_json(const Error& error) {
  json details = json::array();
  for (const auto& d : error.diagnostics) details.push_back({{"path", d.path}, {"reason", d.reason}});
  return json{{"error", {{"code", error.code}, {"message", error.message}, {"details", details}}}};
}

}  // namespace gatehouse::host::api
