// The verbs that talk to gatehoused (everything but the offline `provider inspect PATH.so` and
// `provider validate-config`). Each is a plain function returning an exit code (exit_codes.hpp); tables go
// to `out` for people, `--output json` prints the server's JSON for scripts, errors go to `err` as one line
// (plus one line per field fault).
#pragma once

#include "cli/api_client.hpp"
#include "cli/provider_commands.hpp"

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace gatehouse::cli {

struct RemoteContext {
  ServerOptions server;
  OutputFormat format = OutputFormat::table;
  std::ostream& out;
  std::ostream& err;
};

int provider_list(RemoteContext& ctx);
int provider_show(RemoteContext& ctx, const std::string& reference);

int handler_list(RemoteContext& ctx);
int handler_show(RemoteContext& ctx, const std::string& id);
int handler_create(RemoteContext& ctx, const std::string& id, const std::string& provider, const std::string& config_file,
                   const std::string& isolation);
int handler_delete(RemoteContext& ctx, const std::string& id);
int handler_check(RemoteContext& ctx, const std::string& id);

int target_group_list(RemoteContext& ctx);
int target_group_show(RemoteContext& ctx, const std::string& id);
int target_group_create(RemoteContext& ctx, const std::string& id, const std::string& kind, const std::string& max_duration);
int target_group_delete(RemoteContext& ctx, const std::string& id);

int route_list(RemoteContext& ctx, const std::string& target_group, const std::string& handler);
int route_create(RemoteContext& ctx, const std::string& target_group, const std::string& handler, const std::string& kind,
                 int priority);
int route_set_priority(RemoteContext& ctx, const std::string& target_group, const std::string& handler,
                       const std::string& kind, int priority);
int route_delete(RemoteContext& ctx, const std::string& target_group, const std::string& handler, const std::string& kind);

struct GrantRequestArgs {
  std::string target_group;
  std::vector<std::string> target;  // "name=value"
  std::string duration;
  std::string subject;
  std::string reason;
  std::string not_before;
  bool wait = false;  // wait until the grant is active (or failed)
  int wait_seconds = 60;
};
int grant_request(RemoteContext& ctx, const GrantRequestArgs& args);
int grant_list(RemoteContext& ctx, const std::string& status, const std::string& subject, const std::string& target_group,
               int limit);
int grant_show(RemoteContext& ctx, const std::string& id);
int grant_revoke(RemoteContext& ctx, const std::string& id, const std::string& reason);

int audit_list(RemoteContext& ctx, const std::string& actor, const std::string& action, const std::string& object,
               int limit);

int apply_file(RemoteContext& ctx, const std::string& file, bool dry_run);

// Inventory (inventory_commands.cpp).
// Starts a sync of one handler (or of every handler) and follows it: a live progress line on a terminal
// (resources, rate), plain lines otherwise; exit 0 when every run succeeded, 3 when one was partial or failed.
int sync_run(RemoteContext& ctx, const std::string& handler, bool wait);
int sync_list(RemoteContext& ctx, const std::string& handler, int limit);
int resource_list(RemoteContext& ctx, const std::string& handler, const std::string& type, const std::string& match,
                  int limit);
int resource_show(RemoteContext& ctx, const std::string& handler, const std::string& type, const std::string& id);
int target_group_options(RemoteContext& ctx, const std::string& id);

}  // namespace gatehouse::cli
