#include "cli/remote_commands.hpp"

#include "cli/exit_codes.hpp"
#include "cli/reply_output.hpp"
#include "cli/table.hpp"
#include "common/duration_text.hpp"
#include "schema/config_file.hpp"
#include "schema/value_limits.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>
#include <thread>

namespace gatehouse::cli {
namespace {

using nlohmann::json;
using host::format_duration;

// Table cells of JSON values: reply_output.hpp.
std::string text(const json& v) { return cell(v); }

// Calls the API; on success hands the JSON to `show` (tables) or prints it (json).
template <class Show>
int exchange(RemoteContext& ctx, const std::string& method, const std::string& path, const std::optional<json>& body,
             Show show) {
  auto reply = call_api(ctx.server, method, path, body);
  if (!reply) return report_transport_error(ctx, reply.error());
  if (reply->status >= 300) return report_reply_error(ctx, *reply);
  if (ctx.format == OutputFormat::json) {
    ctx.out << reply->body.dump(2) << '\n';
    return kExitOk;
  }
  show(reply->body);
  return kExitOk;
}

std::string kind_suffix(const std::string& kind) { return kind.empty() ? "" : "/" + url_encode(kind); }

void print_handlers(RemoteContext& ctx, const json& items) {
  Table table({"ID", "PROVIDER", "BACKEND", "ISOLATION", "HEALTH", "CHECKED", "REASON"});
  for (const auto& h : items) {
    // A handler owing revokes says so first: that access outlives its end.
    std::string reason = field(h["health"], "reason");
    if (h["health"].value("revokes_failing", 0) > 0)
      reason = field(h["health"], "revokes_failing_reason") + (reason == "-" ? "" : "; " + reason);
    table.add({field(h, "id"), field(h, "provider"), field(h, "backend"), field(h, "isolation"),
               field(h["health"], "status"), field(h["health"], "checked_at"), reason});
  }
  if (table.empty()) ctx.out << "No handlers.\n";
  else table.print(ctx.out);
}

void print_routes(RemoteContext& ctx, const json& items, const std::string& indent = "") {
  Table table({"TARGET GROUP", "HANDLER", "KIND", "PRIORITY", "VALID", "REASON"});
  for (const auto& r : items)
    table.add({field(r, "target_group"), field(r, "handler"), field(r, "kind"), field(r, "priority"),
               r.value("valid", false) ? "yes" : "no", field(r, "invalid_reason")});
  if (table.empty()) ctx.out << indent << "No routes.\n";
  else table.print(ctx.out, indent);
}

std::string target_text(const json& target) {
  std::string out;
  if (target.is_object())
    for (const auto& [k, v] : target.items()) out += (out.empty() ? "" : ",") + k + "=" + text(v);
  return out.empty() ? "-" : out;
}

void print_grant(RemoteContext& ctx, const json& g) {
  Table table({"FIELD", "VALUE"});
  for (const char* name : {"id", "subject", "target_group", "status", "handler", "requested_at", "activated_at",
                           "ends_at", "ended_at", "end_reason", "created_by", "last_error"})
    table.add({name, field(g, name)});
  table.add({"target", target_text(g.value("target", json::object()))});
  table.add({"duration", format_duration(std::chrono::seconds(g.value("duration_seconds", 0)))});
  if (const json failure = g.value("failure", json()); failure.is_object()) {
    table.add({"refused_by", field(failure, "handler") + ": " + field(failure, "code") + ": " + field(failure, "message")});
    for (const auto& d : failure.value("details", json::array()))
      table.add({"refused_field", field(d, "path") + ": " + field(d, "reason")});
  }
  if (g.value("idempotency_key", json()).is_string()) table.add({"idempotency_key", field(g, "idempotency_key")});
  if (g.value("revoke_failing", false))
    table.add({"revoke_failing", "yes: no handler holding the access confirmed the revoke yet; retried with backoff"});
  if (g.value("access_may_persist", false))
    table.add({"access_may_persist", "yes: force-closed unconfirmed; `gatehouse grant revoke` attempts it again"});
  // Field/value lines, without the header row.
  std::ostringstream lines;
  table.print(lines);
  std::string all = lines.str();
  ctx.out << all.substr(all.find('\n') + 1);
}

}  // namespace

int provider_list(RemoteContext& ctx) {
  return exchange(ctx, "GET", "/v1/providers", std::nullopt, [&](const json& body) {
    Table table({"PROVIDER", "ABI", "TARGET KINDS", "PATH"});
    for (const auto& p : body["items"]) {
      std::string kinds;
      for (const auto& k : p["target_kinds"]) kinds += (kinds.empty() ? "" : ", ") + text(k);
      table.add({field(p, "reference"), field(p, "abi"), kinds.empty() ? "-" : kinds, field(p, "path")});
    }
    if (table.empty()) ctx.out << "No providers loaded.\n";
    else table.print(ctx.out);
    for (const auto& r : body.value("refused", json::array())) ctx.out << "refused: " << field(r, "message") << '\n';
  });
}

int provider_show(RemoteContext& ctx, const std::string& reference) {
  const auto slash = reference.find('/');
  if (slash == std::string::npos || reference.find('@') == std::string::npos) {
    ctx.err << "error: '" << reference << "' is neither a provider file nor a reference like gatehouse/demo@1.0.0\n";
    return kExitUsage;
  }
  const std::string path =
      "/v1/providers/" + url_encode(reference.substr(0, slash)) + "/" + url_encode(reference.substr(slash + 1));
  return exchange(ctx, "GET", path, std::nullopt, [&](const json& p) {
    ctx.out << "Provider   " << field(p, "reference") << "\nFile       " << field(p, "path") << "\nABI        "
            << field(p, "abi") << "\nFramework  " << field(p, "framework_version") << "\n\nTarget kinds\n";
    const json targets = p["schema"].value("targets", json::object());
    for (const auto& [kind, spec] : targets.items())
      ctx.out << "  " << kind << " — " << spec.value("title", spec.value("description", "")) << '\n';
  });
}

int handler_list(RemoteContext& ctx) {
  return exchange(ctx, "GET", "/v1/handlers", std::nullopt, [&](const json& body) { print_handlers(ctx, body["items"]); });
}

int handler_show(RemoteContext& ctx, const std::string& id) {
  return exchange(ctx, "GET", "/v1/handlers/" + url_encode(id), std::nullopt, [&](const json& h) {
    ctx.out << "Handler    " << field(h, "id") << "\nProvider   " << field(h, "provider") << "\nBackend    "
            << (h.value("backend", json()).is_null() ? "- (none declared: no other handler may take its revokes)"
                                                      : field(h, "backend"))
            << "\nIsolation  " << field(h, "isolation") << "\nHealth     " << field(h["health"], "status")
            << " (checked " << field(h["health"], "checked_at") << ")\n";
    if (!h["health"]["reason"].is_null()) ctx.out << "Reason     " << field(h["health"], "reason") << '\n';
    if (h["health"].value("revokes_failing", 0) > 0)
      ctx.out << "Revokes    " << field(h["health"], "revokes_failing_reason") << '\n';
    // Degraded: the targets requests are refused for, each with the provider's reason.
    const json unavailable = h["health"].value("unavailable_targets", json::array());
    for (const auto& u : unavailable) {
      const json properties = u.value("properties", json::object());
      std::string which;
      for (const auto& [k, v] : properties.items()) which += (which.empty() ? "" : " ") + k + "=" + text(v);
      ctx.out << "Refused    " << which << ": " << field(u, "reason") << '\n';
    }
    ctx.out << "\nConfig\n";
    const json config = h.value("config", json::object());
    for (const auto& [k, v] : config.items()) ctx.out << "  " << k << ": " << text(v) << '\n';
    ctx.out << "\nRoutes\n";
    print_routes(ctx, h.value("routes", json::array()), "  ");
  });
}

int handler_create(RemoteContext& ctx, const std::string& id, const std::string& provider, const std::string& config_file,
                   const std::string& isolation, const std::string& backend) {
  json config = json::object();
  if (!config_file.empty()) {
    auto read = host::read_config_file(config_file);
    if (!read) {
      ctx.err << "error: " << read.error().describe() << '\n';
      return kExitRefused;
    }
    config = *read;
  }
  json body{{"id", id}, {"provider", provider}, {"config", config}};
  if (!isolation.empty()) body["isolation"] = isolation;
  if (!backend.empty()) body["backend"] = backend;
  return exchange(ctx, "POST", "/v1/handlers", body, [&](const json& h) {
    ctx.out << "handler/" << field(h, "id") << " created (health " << field(h["health"], "status")
            << "; it is checked at once and routable once healthy)\n";
  });
}

int handler_update(RemoteContext& ctx, const std::string& id, const std::string& provider, const std::string& config_file,
                   const std::string& isolation, const std::optional<std::string>& backend) {
  json body = json::object();
  if (!config_file.empty()) {
    auto read = host::read_config_file(config_file);
    if (!read) {
      ctx.err << "error: " << read.error().describe() << '\n';
      return kExitRefused;
    }
    body["config"] = *read;
  }
  if (!provider.empty()) body["provider"] = provider;
  if (!isolation.empty()) body["isolation"] = isolation;
  if (backend) body["backend"] = *backend;
  if (body.empty()) {
    ctx.err << "error: nothing to update: give --config, --provider, --isolation, --backend or --no-backend\n";
    return kExitUsage;
  }
  return exchange(ctx, "PATCH", "/v1/handlers/" + url_encode(id), body, [&](const json& h) {
    ctx.out << "handler/" << field(h, "id") << " updated (health " << field(h["health"], "status")
            << " until its next check; routes and grants kept)\n";
  });
}

int handler_delete(RemoteContext& ctx, const std::string& id) {
  return exchange(ctx, "DELETE", "/v1/handlers/" + url_encode(id), std::nullopt,
                  [&](const json&) { ctx.out << "handler/" << id << " deleted\n"; });
}

int handler_check(RemoteContext& ctx, const std::string& id) {
  return exchange(ctx, "POST", "/v1/handlers/" + url_encode(id) + "/check", json::object(), [&](const json& h) {
    ctx.out << "handler/" << id << " is " << field(h["health"], "status");
    if (!h["health"]["reason"].is_null()) ctx.out << ": " << field(h["health"], "reason");
    ctx.out << '\n';
  });
}

int target_group_list(RemoteContext& ctx) {
  return exchange(ctx, "GET", "/v1/target-groups", std::nullopt, [&](const json& body) {
    Table table({"ID", "KIND", "MAX DURATION"});
    for (const auto& g : body["items"])
      table.add({field(g, "id"), field(g, "kind"),
                 format_duration(std::chrono::seconds(g.value("max_duration_seconds", 0)))});
    if (table.empty()) ctx.out << "No target groups.\n";
    else table.print(ctx.out);
  });
}

int target_group_show(RemoteContext& ctx, const std::string& id) {
  return exchange(ctx, "GET", "/v1/target-groups/" + url_encode(id), std::nullopt, [&](const json& g) {
    ctx.out << "Target group  " << field(g, "id") << "\nKind          " << field(g, "kind") << "\nMax duration  "
            << format_duration(std::chrono::seconds(g.value("max_duration_seconds", 0))) << "\nUsable routes "
            << field(g, "available_routes") << "\n\nTarget properties\n";
    const json schema = g.value("kind_schema", json::object());
    const json required = schema.value("required", json::array());
    Table table({"PROPERTY", "TYPE", "REQUIRED", "VALUES", "DESCRIPTION"});
    const json properties = schema.value("properties", json::object());
    for (const auto& [name, spec] : properties.items()) {
      const bool req = std::find(required.begin(), required.end(), name) != required.end();
      table.add({name, spec.value("type", "string"), req ? "yes" : "no", host::value_limits_text(spec),
                 spec.value("description", spec.value("title", ""))});
    }
    table.print(ctx.out, "  ");
    if (g.contains("routes")) {
      ctx.out << "\nRoutes\n";
      print_routes(ctx, g["routes"], "  ");
    }
  });
}

int target_group_create(RemoteContext& ctx, const std::string& id, const std::string& kind,
                        const std::string& max_duration) {
  json body{{"id", id}, {"kind", kind}};
  if (!max_duration.empty()) body["max_duration"] = max_duration;
  return exchange(ctx, "POST", "/v1/target-groups", body,
                  [&](const json& g) { ctx.out << "target_group/" << field(g, "id") << " created\n"; });
}

int target_group_delete(RemoteContext& ctx, const std::string& id) {
  return exchange(ctx, "DELETE", "/v1/target-groups/" + url_encode(id), std::nullopt,
                  [&](const json&) { ctx.out << "target_group/" << id << " deleted\n"; });
}

int route_list(RemoteContext& ctx, const std::string& target_group, const std::string& handler) {
  std::string path = "/v1/routes";
  std::string query;
  if (!target_group.empty()) query += "target_group=" + url_encode(target_group);
  if (!handler.empty()) query += (query.empty() ? "" : "&") + std::string("handler=") + url_encode(handler);
  if (!query.empty()) path += "?" + query;
  return exchange(ctx, "GET", path, std::nullopt, [&](const json& body) { print_routes(ctx, body["items"]); });
}

int route_create(RemoteContext& ctx, const std::string& target_group, const std::string& handler, const std::string& kind,
                 int priority) {
  json body{{"target_group", target_group}, {"handler", handler}, {"priority", priority}};
  if (!kind.empty()) body["kind"] = kind;
  return exchange(ctx, "POST", "/v1/routes", body, [&](const json& r) {
    ctx.out << "route " << field(r, "target_group") << " → " << field(r, "handler") << " (" << field(r, "kind")
            << ") created with priority " << field(r, "priority");
    if (!r.value("valid", false)) ctx.out << "; NOT valid: " << field(r, "invalid_reason");
    ctx.out << '\n';
  });
}

int route_set_priority(RemoteContext& ctx, const std::string& target_group, const std::string& handler,
                       const std::string& kind, int priority) {
  return exchange(ctx, "PATCH", "/v1/routes/" + url_encode(target_group) + "/" + url_encode(handler) + kind_suffix(kind),
                  json{{"priority", priority}}, [&](const json& r) {
                    ctx.out << "route " << field(r, "target_group") << " → " << field(r, "handler")
                            << " now has priority " << field(r, "priority")
                            << (priority == 0 ? " (disabled)" : "") << '\n';
                  });
}

int route_delete(RemoteContext& ctx, const std::string& target_group, const std::string& handler, const std::string& kind) {
  return exchange(ctx, "DELETE", "/v1/routes/" + url_encode(target_group) + "/" + url_encode(handler) + kind_suffix(kind),
                  std::nullopt, [&](const json& r) { ctx.out << field(r, "deleted") << " deleted\n"; });
}

namespace {

// A key for this invocation's retries when the caller gave none: 32 random hex digits.
std::string random_key() {
  static constexpr char digits[] = "0123456789abcdef";
  std::random_device device;
  std::string out = "cli-";
  for (int i = 0; i < 32; ++i) out += digits[device() % 16];
  return out;
}

// A failed grant's refusal as the provider said it: message, then one line per field path (like other errors).
void report_failed_grant(RemoteContext& ctx, const json& g) {
  const json failure = g.value("failure", json());
  if (failure.is_object()) {
    ctx.err << "error: handler '" << field(failure, "handler") << "' refused grant " << field(g, "id") << ": "
            << field(failure, "code") << ": " << field(failure, "message") << '\n';
    for (const auto& d : failure.value("details", json::array()))
      ctx.err << "  " << field(d, "path") << ": " << field(d, "reason") << '\n';
  } else {
    ctx.err << "error: grant " << field(g, "id") << " failed: "
            << field(g, g.value("end_reason", json()).is_null() ? "last_error" : "end_reason") << '\n';
  }
}

// Follows next_page_token from `path` (with or without a query): the first `limit` items (0: every item).
// `next` is the token where it stopped (null when the list was read to its end).
std::optional<int> fetch_pages(RemoteContext& ctx, const std::string& path, int limit, json& items, json& next) {
  items = json::array();
  next = nullptr;
  const char joiner = path.find('?') == std::string::npos ? '?' : '&';
  while (true) {
    const std::size_t wanted = limit > 0 ? static_cast<std::size_t>(limit) - items.size() : 1000;
    std::string page = path + joiner + "page_size=" + std::to_string(std::min<std::size_t>(wanted, 1000));
    if (!next.is_null()) page += "&page_token=" + url_encode(next.get<std::string>());
    json body;
    if (auto failed = fetch(ctx, "GET", page, std::nullopt, body)) return failed;
    for (auto& item : body["items"]) items.push_back(std::move(item));
    next = body.value("next_page_token", json());
    if (next.is_null() || !next.is_string()) return std::nullopt;
    if (limit > 0 && items.size() >= static_cast<std::size_t>(limit)) return std::nullopt;
  }
}

}  // namespace

int grant_request(RemoteContext& ctx, const GrantRequestArgs& args) {
  json target = json::object();
  for (const auto& pair : args.target) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      ctx.err << "error: --target '" << pair << "' must be NAME=VALUE\n";
      return kExitUsage;
    }
    target[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  json body{{"target_group", args.target_group}, {"target", target}, {"duration", args.duration}};
  if (!args.subject.empty()) body["subject"] = args.subject;
  if (!args.reason.empty()) body["reason"] = args.reason;
  if (!args.not_before.empty()) body["not_before"] = args.not_before;
  // Every request carries an Idempotency-Key, so a retry after a lost connection (the daemon restarted while
  // answering) returns the grant the first attempt created instead of making a second one.
  const std::string key = args.idempotency_key.empty() ? random_key() : args.idempotency_key;
  host::Result<ApiReply> reply = host::make_error(host::ErrorCode::connection_lost, "not sent");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    reply = call_api(ctx.server, "POST", "/v1/grants", body, {{"Idempotency-Key", key}});
    if (reply || (reply.error().code != host::ErrorCode::connection_lost && reply.error().code != host::ErrorCode::timeout)) break;
    if (attempt < 3) std::this_thread::sleep_for(std::chrono::seconds(attempt));
  }
  if (!reply) return report_transport_error(ctx, reply.error());
  if (reply->status >= 300) return report_reply_error(ctx, *reply);
  const std::string id = field(reply->body, "id");
  if (!args.wait) {
    if (ctx.format == OutputFormat::json)
      ctx.out << reply->body.dump(2) << '\n';
    else
      ctx.out << "grant " << id << " requested (" << field(reply->body, "status") << ")"
              << (reply->status == 200 ? " — the grant an earlier request with this Idempotency-Key created" : "")
              << '\n';
    return kExitOk;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.wait_seconds);
  while (true) {
    auto shown = call_api(ctx.server, "GET", "/v1/grants/" + url_encode(id));
    if (!shown) return report_transport_error(ctx, shown.error());
    if (shown->status >= 300) return report_reply_error(ctx, *shown);
    const std::string status = field(shown->body, "status");
    if (status != "pending" || std::chrono::steady_clock::now() > deadline) {
      if (ctx.format == OutputFormat::json) ctx.out << shown->body.dump(2) << '\n';
      else ctx.out << "grant " << id << " is " << status
                   << (status == "active" ? " until " + field(shown->body, "ends_at") : "") << '\n';
      if (status == "failed") {
        report_failed_grant(ctx, shown->body);
        return kExitRefused;
      }
      if (status == "pending") {
        ctx.err << "error: grant " << id << " is still pending after " << args.wait_seconds << " s ("
                << field(shown->body, "last_error") << ")\n";
        return kExitFailure;
      }
      return kExitOk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int grant_list(RemoteContext& ctx, const std::string& status, const std::string& subject, const std::string& target_group,
               int limit) {
  std::string query;
  auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) query += (query.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(value);
  };
  add("status", status);
  add("subject", subject);
  add("target_group", target_group);
  json items, next;
  if (auto failed = fetch_pages(ctx, "/v1/grants" + query, limit, items, next)) return *failed;
  if (ctx.format == OutputFormat::json) {
    ctx.out << json{{"items", items}, {"next_page_token", next}}.dump(2) << '\n';
    return kExitOk;
  }
  // ENDS AT is when access is due to end; ENDED AT when the grant actually ended (revoked early, expired or
  // failed). A failed grant's HANDLER is the handler that refused it.
  Table table({"ID", "SUBJECT", "TARGET GROUP", "TARGET", "STATUS", "ENDS AT", "ENDED AT", "HANDLER"});
  for (const auto& g : items)
    table.add({field(g, "id"), field(g, "subject"), field(g, "target_group"), target_text(g["target"]),
               field(g, "status"), field(g, "ends_at"), field(g, "ended_at"), field(g, "handler")});
  if (table.empty()) ctx.out << "No grants.\n";
  else table.print(ctx.out);
  if (!next.is_null()) ctx.out << "(first " << items.size() << "; more with a higher --limit)\n";
  return kExitOk;
}

int grant_show(RemoteContext& ctx, const std::string& id) {
  return exchange(ctx, "GET", "/v1/grants/" + url_encode(id), std::nullopt, [&](const json& g) {
    print_grant(ctx, g);
    ctx.out << "\nHistory\n";
    Table table({"AT", "FROM", "TO", "HANDLER", "REASON"});
    for (const auto& h : g.value("history", json::array()))
      table.add({field(h, "at"), h.value("note", false) ? "(note)" : field(h, "from"), field(h, "to"), field(h, "handler"),
                 field(h, "reason")});
    table.print(ctx.out, "  ");
  });
}

int grant_revoke(RemoteContext& ctx, const std::string& id, const std::string& reason) {
  GrantRevokeArgs args;
  args.id = id;
  args.reason = reason;
  return grant_revoke(ctx, args);
}

namespace {
// One line for a grant's state after a revoke: what happened, or what is still owed and why.
std::string revoke_state_line(const json& g) {
  const std::string id = field(g, "id"), status = field(g, "status");
  std::string line = "grant " + id + " is " + status;
  if (g.value("access_may_persist", false))
    line += " (force-closed: access_may_persist at handler '" + field(g, "handler") +
            "'; `gatehouse grant revoke " + id + "` attempts the revoke again)";
  else if (g.value("revoke_failing", false))
    line += " (revoke_failing: " + field(g, "last_error") + "; retried with backoff)";
  else if (status == "active" || status == "revoking" || status == "pending")
    line += " (revoke in progress)";
  return line;
}
}  // namespace

int grant_revoke(RemoteContext& ctx, const GrantRevokeArgs& args) {
  json body = json::object();
  if (!args.reason.empty()) body["reason"] = args.reason;
  if (args.force) body["force"] = true;
  if (!args.handler.empty()) body["handler"] = args.handler;
  const std::string path = "/v1/grants/" + url_encode(args.id);
  auto reply = call_api(ctx.server, "POST", path + "/revoke", body);
  if (!reply) return report_transport_error(ctx, reply.error());
  if (reply->status >= 300) return report_reply_error(ctx, *reply);
  json g = reply->body;
  const auto settled = [](const json& grant) {
    const std::string s = field(grant, "status");
    return s == "revoked" || s == "expired" || s == "failed" || grant.value("revoke_failing", false);
  };
  if (args.wait) {
    // Polls until the grant ended, or its revoke is flagged failing (nobody holding the access can confirm).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.wait_seconds);
    while (!settled(g) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto again = call_api(ctx.server, "GET", path);
      if (!again) return report_transport_error(ctx, again.error());
      if (again->status >= 300) return report_reply_error(ctx, *again);
      g = again->body;
    }
  }
  if (ctx.format == OutputFormat::json)
    ctx.out << g.dump(2) << '\n';
  else
    ctx.out << revoke_state_line(g) << '\n';
  if (!args.wait) return kExitOk;
  if (!settled(g)) {
    ctx.err << "error: grant " << args.id << " is still " << field(g, "status") << " after " << args.wait_seconds
            << " s\n";
    return kExitFailure;
  }
  // A force-close leaves access_may_persist on purpose; anything else that did not confirm is a refusal.
  const bool unconfirmed = g.value("revoke_failing", false) || (g.value("access_may_persist", false) && !args.force);
  return unconfirmed ? kExitRefused : kExitOk;
}

int audit_list(RemoteContext& ctx, const std::string& actor, const std::string& action, const std::string& object,
               int limit) {
  std::string query;
  auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) query += (query.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(value);
  };
  add("actor", actor);
  add("action", action);
  add("object", object);
  json items, next;
  if (auto failed = fetch_pages(ctx, "/v1/audit" + query, limit, items, next)) return *failed;
  if (ctx.format == OutputFormat::json) {
    ctx.out << json{{"items", items}, {"next_page_token", next}}.dump(2) << '\n';
    return kExitOk;
  }
  Table table({"AT", "ACTOR", "ACTION", "OBJECT", "OUTCOME"});
  for (const auto& e : items)
    table.add({field(e, "at"), field(e, "actor"), field(e, "action"), field(e, "object"), field(e, "outcome")});
  if (table.empty()) ctx.out << "No audit entries.\n";
  else table.print(ctx.out);
  if (!next.is_null()) ctx.out << "(first " << items.size() << "; more with a higher --limit)\n";
  return kExitOk;
}

int apply_file(RemoteContext& ctx, const std::string& file, bool dry_run) {
  auto document = host::read_config_file(file);
  if (!document) {
    ctx.err << "error: " << document.error().describe() << '\n';
    return kExitRefused;
  }
  auto reply = call_api(ctx.server, "POST", std::string("/v1/apply") + (dry_run ? "?dry_run=true" : ""), *document);
  if (!reply) return report_transport_error(ctx, reply.error());
  // A failed apply (409) still carries the report of what was done: print it before the error.
  const bool has_report = reply->body.is_object() && reply->body.contains("changes");
  if (reply->status >= 300 && !has_report) return report_reply_error(ctx, *reply);
  if (ctx.format == OutputFormat::json) {
    ctx.out << reply->body.dump(2) << '\n';
  } else {
    Table table = dry_run ? Table({"ACTION", "OBJECT", "DETAIL"}) : Table({"ACTION", "OBJECT", "DETAIL", "RESULT"});
    for (const auto& c : reply->body["changes"]) {
      std::vector<std::string> row{field(c, "action"), field(c, "object"), c.value("detail", "").empty() ? "-" : field(c, "detail")};
      if (!dry_run) row.push_back(field(c, "result"));
      table.add(row);
    }
    table.print(ctx.out);
    const auto changed = reply->body.value("changed", 0);
    ctx.out << (dry_run ? "dry run: " : "") << changed << (changed == 1 ? " change" : " changes")
            << (dry_run ? " would be made" : reply->status >= 300 ? " planned; stopped at a failure" : " applied") << '\n';
  }
  if (reply->status >= 300) return report_reply_error(ctx, *reply);
  return kExitOk;
}

}  // namespace gatehouse::cli
