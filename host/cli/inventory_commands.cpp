// `gatehouse sync …`, `gatehouse resource …`, `gatehouse target-group options`.
#include "cli/exit_codes.hpp"
#include "cli/reply_output.hpp"
#include "cli/remote_commands.hpp"
#include "cli/table.hpp"
#include "common/enum_text.hpp"
#include "schema/value_limits.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace gatehouse::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string text(const json& v) { return cell(v); }

std::int64_t number(const json& run, const char* name) {
  return run.is_object() && run.contains(name) && run[name].is_number() ? run[name].get<std::int64_t>() : 0;
}

void print_run_summary(RemoteContext& ctx, const json& run) {
  ctx.out << "sync run " << field(run, "id") << " of handler " << field(run, "handler_id") << ": "
          << field(run, "status") << " — " << number(run, "resources_seen") << " resources seen, "
          << number(run, "resources_written") << " written, " << number(run, "resources_removed") << " removed";
  if (number(run, "resources_rejected") > 0) ctx.out << ", " << number(run, "resources_rejected") << " rejected";
  ctx.out << '\n';
  for (const auto& l : run.value("loaders", json::array())) {
    ctx.out << "  " << field(l, "loader") << ": " << field(l, "status") << ", " << number(l, "resources_seen")
            << " resources in " << number(l, "pages") << " pages";
    if (field(l, "error") != "-") ctx.out << " — " << field(l, "error_code") << ": " << field(l, "error");
    ctx.out << '\n';
  }
}

}  // namespace

int sync_run(RemoteContext& ctx, const std::string& handler, bool wait) {
  std::vector<std::string> handlers;
  if (!handler.empty()) {
    handlers.push_back(handler);
  } else {
    json list;
    if (auto code = fetch(ctx, "GET", "/v1/handlers", std::nullopt, list)) return *code;
    for (const auto& h : list["items"]) {
      const std::string status = field(h["health"], "status");
      if (status == "healthy" || status == "degraded") handlers.push_back(h["id"]);  // degraded handlers serve
    }
    if (handlers.empty()) {
      ctx.err << "error: no healthy handler to sync\n";
      return kExitRefused;
    }
  }
  std::vector<std::int64_t> ids;
  int worst = kExitOk;
  for (const auto& h : handlers) {
    json run;
    if (auto code = fetch(ctx, "POST", "/v1/sync-runs", json{{"handler", h}}, run)) {
      worst = std::max(worst, *code);
      continue;
    }
    ids.push_back(number(run, "id"));
    if (!wait) ctx.out << "sync run " << number(run, "id") << " of handler " << h << " started\n";
  }
  if (!wait) return worst;

  // Follow every run until it ends. A terminal gets one line rewritten in place; a pipe gets a line every 5 s.
  const bool live = ctx.format == OutputFormat::table && isatty(STDOUT_FILENO);
  const auto started = Clock::now();
  auto last_line = Clock::now();
  std::vector<json> finished;
  std::vector<std::int64_t> pending = ids;
  while (!pending.empty()) {
    std::int64_t seen = 0;
    std::vector<std::int64_t> still;
    for (auto id : pending) {
      json run;
      if (auto code = fetch(ctx, "GET", "/v1/sync-runs/" + std::to_string(id), std::nullopt, run)) return *code;
      if (field(run, "status") == "running") {
        still.push_back(id);
        seen += number(run, "resources_seen");
      } else {
        finished.push_back(run);
      }
    }
    for (const auto& run : finished) seen += number(run, "resources_seen");
    pending = still;
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    const double rate = elapsed > 0 ? static_cast<double>(seen) / elapsed : 0;
    char line[160];
    std::snprintf(line, sizeof line, "%zu/%zu runs done, %lld resources, %.0f resources/s, %.1f s", finished.size(),
                  ids.size(), static_cast<long long>(seen), rate, elapsed);
    if (live) {
      ctx.out << "\r\033[K" << line << std::flush;
    } else if (ctx.format == OutputFormat::table && (Clock::now() - last_line > std::chrono::seconds(5) || pending.empty())) {
      ctx.out << line << '\n';
      last_line = Clock::now();
    }
    if (!pending.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (live) ctx.out << '\n';
  if (ctx.format == OutputFormat::json) {
    ctx.out << json{{"items", finished}}.dump(2) << '\n';
  } else {
    for (const auto& run : finished) print_run_summary(ctx, run);
  }
  for (const auto& run : finished)
    if (field(run, "status") != "succeeded") worst = std::max(worst, static_cast<int>(kExitRefused));
  return worst;
}

int sync_list(RemoteContext& ctx, const std::string& handler, int limit) {
  std::string path = "/v1/sync-runs?limit=" + std::to_string(limit > 0 ? limit : 20);
  if (!handler.empty()) path += "&handler=" + url_encode(handler);
  json body;
  if (auto code = fetch(ctx, "GET", path, std::nullopt, body)) return *code;
  if (ctx.format == OutputFormat::json) {
    ctx.out << body.dump(2) << '\n';
    return kExitOk;
  }
  Table table({"ID", "HANDLER", "TRIGGER", "STATUS", "STARTED", "FINISHED", "SEEN", "WRITTEN", "REMOVED", "ERROR"});
  for (const auto& r : body["items"])
    table.add({field(r, "id"), field(r, "handler_id"), field(r, "trigger"), field(r, "status"), field(r, "started_at"),
               field(r, "finished_at"), field(r, "resources_seen"), field(r, "resources_written"),
               field(r, "resources_removed"), field(r, "error")});
  if (table.empty()) ctx.out << "No sync runs.\n";
  else table.print(ctx.out);
  return kExitOk;
}

int resource_list(RemoteContext& ctx, const std::string& handler, const std::string& type, const std::string& match,
                  int limit) {
  std::string path = "/v1/resources?limit=" + std::to_string(limit > 0 ? limit : 100);
  if (!handler.empty()) path += "&handler=" + url_encode(handler);
  if (!type.empty()) path += "&type=" + url_encode(type);
  if (!match.empty()) path += "&match=" + url_encode(match);
  json body;
  if (auto code = fetch(ctx, "GET", path, std::nullopt, body)) return *code;
  if (ctx.format == OutputFormat::json) {
    ctx.out << body.dump(2) << '\n';
    return kExitOk;
  }
  Table table({"HANDLER", "TYPE", "ID", "NAME", "LOADER", "UPDATED"});
  for (const auto& r : body["resources"])
    table.add({field(r, "handler_id"), field(r, "type"), field(r, "id"), field(r, "name"), field(r, "loader"),
               field(r, "updated_at")});
  if (table.empty()) ctx.out << "No resources.\n";
  else table.print(ctx.out);
  if (body.contains("next_after") && !body["next_after"].is_null())
    ctx.out << "(more: narrow with --type/--match, or raise --limit)\n";
  return kExitOk;
}

int resource_show(RemoteContext& ctx, const std::string& handler, const std::string& type, const std::string& id) {
  json body;
  if (auto code = fetch(ctx, "GET", "/v1/resources/" + url_encode(handler) + "/" + url_encode(type) + "/" + url_encode(id),
                        std::nullopt, body))
    return *code;
  if (ctx.format == OutputFormat::json) {
    ctx.out << body.dump(2) << '\n';
    return kExitOk;
  }
  const json& r = body.contains("resource") ? body["resource"] : body;
  ctx.out << "Resource  " << field(r, "type") << " " << field(r, "id") << "\nName      " << field(r, "name")
          << "\nHandler   " << field(r, "handler_id") << "\nLoader    " << field(r, "loader") << "\nUpdated   "
          << field(r, "updated_at") << "\nData      " << (r.contains("data") ? r["data"].dump() : "{}") << '\n';
  Table related({"FIELD", "TYPE", "ID", "NAME"});
  for (const auto& x : body.value("related", json::array()))
    related.add({field(x, "field"), field(x, "type"), field(x, "id"), x.value("exists", true) ? field(x, "name") : "(not in the inventory)"});
  if (!related.empty()) {
    ctx.out << "\nRelated\n";
    related.print(ctx.out, "  ");
  }
  Table referrers({"TYPE", "ID", "NAME", "FIELD"});
  for (const auto& x : body.value("referenced_by", json::array()))
    referrers.add({field(x, "type"), field(x, "id"), field(x, "name"), field(x, "field")});
  if (!referrers.empty()) {
    ctx.out << "\nReferenced by\n";
    referrers.print(ctx.out, "  ");
  }
  return kExitOk;
}

int target_group_options(RemoteContext& ctx, const std::string& id) {
  json body;
  if (auto code = fetch(ctx, "GET", "/v1/target-groups/" + url_encode(id) + "/options", std::nullopt, body)) return *code;
  if (ctx.format == OutputFormat::json) {
    ctx.out << body.dump(2) << '\n';
    return kExitOk;
  }
  ctx.out << "Target group " << field(body, "target_group") << " (" << field(body, "kind") << ")\n";
  const json properties = body.value("properties", json::object());
  for (const auto& [name, p] : properties.items()) {
    ctx.out << '\n' << name;
    if (p.contains("resource")) {
      ctx.out << " — a " << field(p, "resource") << " from the inventory\n";
      Table table({"ID", "NAME", "HANDLERS"});
      for (const auto& v : p.value("values", json::array())) {
        std::string hs;
        for (const auto& h : v.value("handlers", json::array())) hs += (hs.empty() ? "" : ", ") + text(h);
        table.add({field(v, "id"), field(v, "name"), hs});
      }
      if (table.empty()) ctx.out << "  (none yet: run `gatehouse sync run` to load the inventory)\n";
      else table.print(ctx.out, "  ");
      if (p.value("truncated", false)) ctx.out << "  … more (use --output json with the API's limit)\n";
    } else if (p.contains("enum")) {
      ctx.out << " — one of " << host::enum_text(p["enum"]) << '\n';
    } else if (const std::string limits = host::value_limits_text(p); limits != "-") {
      ctx.out << " — " << limits << '\n';  // the limits the host checks at request time
    } else {
      ctx.out << " — any value\n";
    }
  }
  return kExitOk;
}

}  // namespace gatehouse::cli
