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
// backend: the system the handler manages (handlers of one provider with the same backend are interchangeable
// for revokes); empty: none.
int handler_create(RemoteContext& ctx, const std::string& id, const std::string& provider, const std::string& config_file,
                   const std::string& isolation, const std::string& backend = "");
// PATCH /v1/handlers/ID with what is given (empty = unchanged); at least one of them.
// `backend`: nullopt keeps the declared backend, "" removes it.
int handler_update(RemoteContext& ctx, const std::string& id, const std::string& provider, const std::string& config_file,
                   const std::string& isolation, const std::optional<std::string>& backend);
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
  // Sent as the Idempotency-Key header (default: a random one per invocation, so the CLI's own retries after a
  // lost connection never create a second grant). Reuse a key to make a repeated command return the same grant.
  std::string idempotency_key;
};
int grant_request(RemoteContext& ctx, const GrantRequestArgs& args);
// Lists follow the API's next_page_token: every item, or the first `limit` (0 = all).
int grant_list(RemoteContext& ctx, const std::string& status, const std::string& subject, const std::string& target_group,
               int limit);
int grant_show(RemoteContext& ctx, const std::string& id);
int grant_revoke(RemoteContext& ctx, const std::string& id, const std::string& reason);
struct GrantRevokeArgs {
  std::string id;
  std::string reason;   // empty: the server records "revoked by <token name>"
  bool force = false;   // admins: close a revoke nobody can confirm (access_may_persist); needs a reason
  std::string handler;  // admins: send the revoke to this handler of the same provider and backend
  bool wait = false;    // wait until the grant ended (or is revoke_failing) and print its final state
  int wait_seconds = 60;
};
// Exit 0 when the grant ended (or the revoke was accepted without --wait), 3 when --wait saw revoke_failing
// or access_may_persist, 1 when --wait ran out of time.
int grant_revoke(RemoteContext& ctx, const GrantRevokeArgs& args);

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
