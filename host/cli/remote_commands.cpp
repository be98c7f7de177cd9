#include "cli/remote_commands.hpp"

#include "cli/exit_codes.hpp"
#include "cli/reply_output.hpp"
#include "cli/table.hpp"
#include "common/duration_text.hpp"
#include "schema/config_file.hpp"

#include <algorithm>
#include <chrono>
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
  Table table({"ID", "PROVIDER", "ISOLATION", "HEALTH", "CHECKED", "REASON"});
  for (const auto& h : items)
    table.add({field(h, "id"), field(h, "provider"), field(h, "isolation"), field(h["health"], "status"),
               field(h["health"], "checked_at"), field(h["health"], "reason")});
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
  if (g.value("revoke_failing", false)) table.add({"revoke_failing", "yes: the revoke keeps failing and is retried"});
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
    ctx.out << "Handler    " << field(h, "id") << "\nProvider   " << field(h, "provider") << "\nIsolation  "
            << field(h, "isolation") << "\nHealth     " << field(h["health"], "status") << " (checked "
            << field(h["health"], "checked_at") << ")\n";
    if (!h["health"]["reason"].is_null()) ctx.out << "Reason     " << field(h["health"], "reason") << '\n';
    ctx.out << "\nConfig\n";
    const json config = h.value("config", json::object());
    for (const auto& [k, v] : config.items()) ctx.out << "  " << k << ": " << text(v) << '\n';
    ctx.out << "\nRoutes\n";
    print_routes(ctx, h.value("routes", json::array()), "  ");
  });
}

int handler_create(RemoteContext& ctx, const std::string& id, const std::string& provider, const std::string& config_file,
                   const std::string& isolation) {
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
  return exchange(ctx, "POST", "/v1/handlers", body, [&](const json& h) {
    ctx.out << "handler/" << field(h, "id") << " created (health " << field(h["health"], "status")
            << "; it is checked at once and routable once healthy)\n";
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
    Table table({"PROPERTY", "TYPE", "REQUIRED", "VALUES"});
    const json properties = schema.value("properties", json::object());
    for (const auto& [name, spec] : properties.items()) {
      std::string values = spec.contains("enum") ? "one of " + text(spec["enum"]) : "";
      if (spec.contains("resource")) values = "id of resource " + text(spec["resource"]);
      const bool req = std::find(required.begin(), required.end(), name) != required.end();
      table.add({name, spec.value("type", "string"), req ? "yes" : "no", values.empty() ? "-" : values});
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
  std::string id;
  const auto saved = ctx.format;
  if (args.wait) ctx.format = OutputFormat::table;  // print once, after waiting
  int code = exchange(ctx, "POST", "/v1/grants", body, [&](const json& g) {
    id = field(g, "id");
    if (!args.wait) ctx.out << "grant " << id << " requested (" << field(g, "status") << ")\n";
  });
  ctx.format = saved;
  if (code != kExitOk || !args.wait) return code;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.wait_seconds);
  while (true) {
    auto reply = call_api(ctx.server, "GET", "/v1/grants/" + url_encode(id));
    if (!reply) return report_transport_error(ctx, reply.error());
    if (reply->status >= 300) return report_reply_error(ctx, *reply);
    const std::string status = field(reply->body, "status");
    if (status != "pending" || std::chrono::steady_clock::now() > deadline) {
      if (ctx.format == OutputFormat::json) ctx.out << reply->body.dump(2) << '\n';
      else ctx.out << "grant " << id << " is " << status
                   << (status == "active" ? " until " + field(reply->body, "ends_at") : "")
                   << (status == "failed" ? ": " + field(reply->body, "end_reason") : "") << '\n';
      if (status == "failed") return kExitRefused;
      if (status == "pending") {
        ctx.err << "error: grant " << id << " is still pending after " << args.wait_seconds << " s ("
                << field(reply->body, "last_error") << ")\n";
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
  if (limit > 0) add("limit", std::to_string(limit));
  return exchange(ctx, "GET", "/v1/grants" + query, std::nullopt, [&](const json& body) {
    Table table({"ID", "SUBJECT", "TARGET GROUP", "TARGET", "STATUS", "ENDS AT", "HANDLER"});
    for (const auto& g : body["items"])
      table.add({field(g, "id"), field(g, "subject"), field(g, "target_group"), target_text(g["target"]),
                 field(g, "status"), field(g, "ends_at"), field(g, "handler")});
    if (table.empty()) ctx.out << "No grants.\n";
    else table.print(ctx.out);
  });
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
  json body = json::object();
  if (!reason.empty()) body["reason"] = reason;
  return exchange(ctx, "POST", "/v1/grants/" + url_encode(id) + "/revoke", body, [&](const json& g) {
    ctx.out << "grant " << id << " is " << field(g, "status")
            << (field(g, "status") == "active" || field(g, "status") == "revoking" ? " (revoke in progress)" : "")
            << '\n';
  });
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
  if (limit > 0) add("limit", std::to_string(limit));
  return exchange(ctx, "GET", "/v1/audit" + query, std::nullopt, [&](const json& body) {
    Table table({"AT", "ACTOR", "ACTION", "OBJECT", "OUTCOME"});
    for (const auto& e : body["items"])
      table.add({field(e, "at"), field(e, "actor"), field(e, "action"), field(e, "object"), field(e, "outcome")});
    if (table.empty()) ctx.out << "No audit entries.\n";
    else table.print(ctx.out);
  });
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
