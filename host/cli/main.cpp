// `gatehouse`: the operator CLI. Parsing lives here (CLI11 is compiled once); each verb is a plain
// function returning an exit code from exit_codes.hpp. Offline verbs load provider files; every other verb
// talks to gatehoused over its HTTP API (--server / GATEHOUSE_SERVER, --token / GATEHOUSE_TOKEN).
#include "cli/exit_codes.hpp"
#include "cli/provider_commands.hpp"
#include "cli/scaffold.hpp"
#include "cli/remote_commands.hpp"

#include <gatehouse/version.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <map>

namespace gatehouse::cli {
namespace {

struct Options {
  OutputFormat format = OutputFormat::table;
  ServerOptions server;
};

// An option whose value is one of a few words: help shows `NAME` and the description lists the words, never
// CLI11's own rendering of the validator ("ENUM:value in {json->1,table->0}"): the validator's description is
// emptied, and refusals still name the allowed words.
template <class Validator>
Validator quiet(Validator validator) {
  validator.description("");
  return validator;
}

void add_output_option(CLI::App* command, OutputFormat& format) {
  static const std::map<std::string, OutputFormat> formats{{"table", OutputFormat::table}, {"json", OutputFormat::json}};
  command->add_option("-o,--output", format, "Output format: table (for people, the default) or json (for scripts)")
      ->transform(quiet(CLI::CheckedTransformer(formats, CLI::ignore_case)))
      ->type_name("FORMAT");
}

// Every verb that talks to the daemon takes the same three options.
CLI::App* remote(CLI::App* parent, const std::string& name, const std::string& help, Options& o) {
  auto* command = parent->add_subcommand(name, help);
  command->add_option("--server", o.server.server, "gatehoused address, http://HOST:PORT")
      ->envname("GATEHOUSE_SERVER")
      ->default_str("http://127.0.0.1:8470");
  command->add_option("--token", o.server.token, "API bearer token (prefer GATEHOUSE_TOKEN: argv is visible to others)")
      ->envname("GATEHOUSE_TOKEN");
  add_output_option(command, o.format);
  command->footer(kExitCodeHelp);
  return command;
}

CLI::App* group(CLI::App& app, const std::string& name, const std::string& help) {
  auto* g = app.add_subcommand(name, help);
  g->require_subcommand(1);
  g->footer(kExitCodeHelp);
  return g;
}

int run(int argc, char** argv) {
  // Provider log lines go to stderr: stdout carries the command's output (and JSON for scripts).
  spdlog::set_default_logger(spdlog::stderr_color_mt("gatehouse"));
  spdlog::set_level(spdlog::level::warn);
  CLI::App app{"gatehouse — operator CLI of the gatehouse just-in-time access broker"};
  app.set_version_flag("--version", std::string("gatehouse ") + GATEHOUSE_FRAMEWORK_VERSION);
  app.footer(kExitCodeHelp);
  app.require_subcommand(1);

  Options o;
  RemoteContext ctx{o.server, o.format, std::cout, std::cerr};
  std::function<int()> action;
  auto on = [&action](CLI::App* command, std::function<int()> fn) { command->callback([&action, fn] { action = fn; }); };
  auto with = [&o, &ctx]() -> RemoteContext& {
    ctx.server = o.server;
    ctx.format = o.format;
    return ctx;
  };

  // ---- provider
  std::string provider_path, config_path;
  auto* provider = group(app, "provider", "Providers: loaded by gatehoused (list, inspect REF) or files (inspect PATH.so)");
  auto* inspect = remote(provider, "inspect",
                         "Show a provider: a .so file is loaded here (identity, ABI, config fields, resource types, "
                         "loaders, target kinds; --output json prints its schema); a reference (gatehouse/demo@1.0.0) "
                         "is asked of gatehoused",
                         o);
  inspect->add_option("path", provider_path, "Path to a provider .so, or a reference publisher/name@version")->required();
  on(inspect, [&] {
    if (std::filesystem::exists(provider_path) || provider_path.ends_with(".so"))
      return provider_inspect(provider_path, o.format, std::cout, std::cerr);
    return provider_show(with(), provider_path);
  });
  auto* validate = provider->add_subcommand(
      "validate-config", "Check a handler config (YAML or JSON) against a provider's config schema; every fault "
                         "is listed with its field path, secret values are never printed");
  validate->add_option("path", provider_path, "Path to the provider shared object")->required();
  validate->add_option("config", config_path, "Handler config file (YAML or JSON)")->required();
  add_output_option(validate, o.format);
  bool resolve_references = false;
  validate->add_flag("--resolve", resolve_references,
                     "Also resolve env:/file: references in this environment (by default they are listed as not "
                     "resolved: gatehoused resolves them in its own)");
  on(validate, [&] {
    return provider_validate_config(provider_path, config_path, resolve_references, o.format, std::cout, std::cerr);
  });
  on(remote(provider, "list", "Providers gatehoused loaded (and files it refused)", o), [&] { return provider_list(with()); });
  std::string new_name, new_dir, new_publisher = "example";
  auto* provider_new_cmd = provider->add_subcommand(
      "new", "Write a standalone provider project (CMake, source, Catch2 test, README) that builds against the "
             "installed SDK and packages itself as gatehouse-provider-NAME.deb");
  provider_new_cmd->add_option("name", new_name, "Provider name: lowercase letters, digits, '-', '_'")->required();
  provider_new_cmd->add_option("--dir", new_dir, "Where to write it (default ./NAME; must not exist or be empty)");
  provider_new_cmd->add_option("--publisher", new_publisher,
                               "Publisher of the provider (lowercase letters, digits, '-'; default example), written "
                               "once, in the project's CMakeLists.txt");
  on(provider_new_cmd, [&] { return provider_new(new_name, new_dir, new_publisher, std::cout, std::cerr); });

  // ---- handler
  std::string id, provider_ref, isolation, kind, max_duration, target_group, handler_id, reason;
  int priority = 0;
  auto* handler = group(app, "handler", "Handlers: configured provider instances");
  on(remote(handler, "list", "Handlers with their health", o), [&] { return handler_list(with()); });
  auto* handler_show_cmd = remote(handler, "show", "One handler: config (secrets as references), health, routes", o);
  handler_show_cmd->add_option("id", id, "Handler id")->required();
  on(handler_show_cmd, [&] { return handler_show(with(), id); });
  auto* handler_create_cmd = remote(handler, "create", "Create a handler from a provider and a config file", o);
  handler_create_cmd->add_option("id", id, "Handler id (lowercase letters, digits, '-')")->required();
  handler_create_cmd->add_option("--provider", provider_ref, "Provider reference, e.g. gatehouse/demo@1.0.0")->required();
  handler_create_cmd->add_option("--config", config_path, "Handler config (YAML or JSON); secrets as env:NAME or file:PATH");
  handler_create_cmd->add_option("--isolation", isolation, "in_process (default) or process")
      ->check(quiet(CLI::IsMember({"in_process", "process"})))
      ->type_name("MODE");
  std::string backend;
  handler_create_cmd->add_option("--backend", backend,
                                 "The system this handler manages (e.g. prod-db-1): handlers of one provider with the "
                                 "same backend may take each other's revokes; without it, only this handler can");
  on(handler_create_cmd, [&] { return handler_create(with(), id, provider_ref, config_path, isolation, backend); });
  auto* handler_update_cmd = remote(handler, "update",
                                    "Change a handler's config (or provider, isolation, backend) in place: its routes and grants "
                                    "stay; a new instance is built first, so a refused config changes nothing",
                                    o);
  handler_update_cmd->add_option("id", id, "Handler id")->required();
  handler_update_cmd->add_option("--config", config_path, "New handler config (YAML or JSON), replacing the whole config");
  handler_update_cmd->add_option("--provider", provider_ref, "New provider reference (default: unchanged)");
  handler_update_cmd->add_option("--isolation", isolation, "in_process or process (default: unchanged)")
      ->check(quiet(CLI::IsMember({"in_process", "process"})))
      ->type_name("MODE");
  handler_update_cmd->add_option("--backend", backend,
                                 "Declare the system this handler manages (handlers of one provider with the same "
                                 "backend may take each other's revokes)");
  bool no_backend = false;
  handler_update_cmd->add_flag("--no-backend", no_backend,
                               "Remove the declared backend: only this handler may then take its revokes")
      ->excludes(handler_update_cmd->get_option("--backend"));
  on(handler_update_cmd, [&] {
    const std::optional<std::string> new_backend =
        no_backend ? std::optional<std::string>("") : backend.empty() ? std::nullopt : std::optional(backend);
    return handler_update(with(), id, provider_ref, config_path, isolation, new_backend);
  });
  auto* handler_delete_cmd = remote(handler, "delete", "Delete a handler (its routes go with it)", o);
  handler_delete_cmd->add_option("id", id, "Handler id")->required();
  on(handler_delete_cmd, [&] { return handler_delete(with(), id); });
  auto* handler_check_cmd = remote(handler, "check", "Run a handler's health check now", o);
  handler_check_cmd->add_option("id", id, "Handler id")->required();
  on(handler_check_cmd, [&] { return handler_check(with(), id); });

  // ---- target-group
  auto* tg = group(app, "target-group", "Target groups: what requesters ask for");
  on(remote(tg, "list", "Target groups", o), [&] { return target_group_list(with()); });
  auto* tg_show = remote(tg, "show", "One target group: its kind's properties and routes", o);
  tg_show->add_option("id", id, "Target group id")->required();
  on(tg_show, [&] { return target_group_show(with(), id); });
  auto* tg_create = remote(tg, "create", "Create a target group; its kind schema is fixed now", o);
  tg_create->add_option("id", id, "Target group id")->required();
  tg_create->add_option("--kind", kind, "publisher/name@version/Kind, e.g. gatehouse/demo@1.0.0/ProjectRole")->required();
  tg_create->add_option("--max-duration", max_duration,
                        "Longest grant, e.g. 8h or 1d12h (units d, h, m, s; 1s to 366d; default 8h)");
  on(tg_create, [&] { return target_group_create(with(), id, kind, max_duration); });
  auto* tg_options = remote(tg, "options", "What a request to this group may name: inventory values and enums", o);
  tg_options->add_option("id", id, "Target group id")->required();
  on(tg_options, [&] { return target_group_options(with(), id); });
  auto* tg_delete = remote(tg, "delete", "Delete a target group (refused while grants reference it)", o);
  tg_delete->add_option("id", id, "Target group id")->required();
  on(tg_delete, [&] { return target_group_delete(with(), id); });

  // ---- route
  auto* route = group(app, "route", "Routes: target group → handler with a priority (0–999, 0 disables)");
  auto* route_list_cmd = remote(route, "list", "Routes with their validity", o);
  route_list_cmd->add_option("--target-group", target_group, "Only this target group");
  route_list_cmd->add_option("--handler", handler_id, "Only this handler");
  on(route_list_cmd, [&] { return route_list(with(), target_group, handler_id); });
  auto* route_create_cmd = remote(route, "create", "Route a target group to a handler", o);
  route_create_cmd->add_option("--target-group", target_group, "Target group id")->required();
  route_create_cmd->add_option("--handler", handler_id, "Handler id")->required();
  route_create_cmd->add_option("--kind", kind, "The handler provider's target kind (default: the group's kind name)");
  route_create_cmd->add_option("--priority", priority, "0–999; higher wins; 0 disables")->required()->check(CLI::Range(0, 999));
  on(route_create_cmd, [&] { return route_create(with(), target_group, handler_id, kind, priority); });
  auto* route_priority_cmd = remote(route, "set-priority", "Change a route's priority (0 disables it)", o);
  route_priority_cmd->add_option("target-group", target_group, "Target group id")->required();
  route_priority_cmd->add_option("handler", handler_id, "Handler id")->required();
  route_priority_cmd->add_option("priority", priority, "0–999")->required()->check(CLI::Range(0, 999));
  route_priority_cmd->add_option("--kind", kind, "Route kind (default: the group's kind name)");
  on(route_priority_cmd, [&] { return route_set_priority(with(), target_group, handler_id, kind, priority); });
  auto* route_delete_cmd = remote(route, "delete", "Delete a route", o);
  route_delete_cmd->add_option("target-group", target_group, "Target group id")->required();
  route_delete_cmd->add_option("handler", handler_id, "Handler id")->required();
  route_delete_cmd->add_option("--kind", kind, "Route kind (default: the group's kind name)");
  on(route_delete_cmd, [&] { return route_delete(with(), target_group, handler_id, kind); });

  // ---- grant
  GrantRequestArgs request;
  std::string status, subject;
  int limit = 0;
  auto* grant = group(app, "grant", "Access grants: request, list, show, revoke");
  auto* grant_request_cmd = remote(grant, "request", "Request access for a subject to a target", o);
  grant_request_cmd->add_option("--target-group", request.target_group, "Target group id")->required();
  grant_request_cmd->add_option("--target", request.target, "Target property NAME=VALUE (repeat for each)")->required();
  grant_request_cmd
      ->add_option("--duration", request.duration,
                   "How long access lasts once active: numbers with units d, h, m, s, each once, largest first "
                   "(90s, 30m, 8h, 1h30m); whole seconds, at least 1s, at most the target group's maximum; a "
                   "bare number is refused")
      ->required();
  grant_request_cmd->add_option("--subject", request.subject, "Who gets access (default: the token's subject)");
  grant_request_cmd->add_option("--reason", request.reason, "Why (recorded in the audit log)");
  grant_request_cmd->add_option("--not-before", request.not_before, "Start no earlier than this RFC 3339 time");
  grant_request_cmd->add_flag("--wait", request.wait, "Wait until the grant is active (or failed) and say so");
  grant_request_cmd->add_option("--wait-seconds", request.wait_seconds, "How long --wait waits (default 60)");
  grant_request_cmd->add_option("--idempotency-key", request.idempotency_key,
                                "Idempotency-Key to send (1-255 printable ASCII; default: a random one). The same key "
                                "with the same request returns the grant the first request created");
  on(grant_request_cmd, [&] { return grant_request(with(), request); });
  auto* grant_list_cmd = remote(grant, "list", "Grants, newest first", o);
  grant_list_cmd->add_option("--status", status,
                              "pending, active, revoking, revoked, expired, failed, or revoke-failing (revokes no "
                              "handler holding the access could confirm yet)");
  grant_list_cmd->add_option("--subject", subject, "Only this subject");
  grant_list_cmd->add_option("--target-group", target_group, "Only this target group");
  grant_list_cmd->add_option("--limit", limit, "At most this many (default: all, page after page)")
      ->check(CLI::Range(1, 100'000'000));
  on(grant_list_cmd, [&] { return grant_list(with(), status, subject, target_group, limit); });
  auto* grant_show_cmd = remote(grant, "show", "One grant with its history", o);
  grant_show_cmd->add_option("id", id, "Grant id")->required();
  on(grant_show_cmd, [&] { return grant_show(with(), id); });
  GrantRevokeArgs revoke_args;
  auto* grant_revoke_cmd = remote(grant, "revoke",
                                  "End a grant now (a revoke in progress is retried at once; a force-closed one is "
                                  "attempted again)",
                                  o);
  grant_revoke_cmd->add_option("id", revoke_args.id, "Grant id")->required();
  grant_revoke_cmd->add_option("--reason", revoke_args.reason, "Why (recorded in the history and audit log)");
  grant_revoke_cmd->add_flag("--force", revoke_args.force,
                             "Admins: close a grant whose revoke no handler holding the access can confirm (e.g. its "
                             "handler was deleted); recorded as access_may_persist; needs --reason");
  grant_revoke_cmd->add_option("--handler", revoke_args.handler,
                               "Admins: send the revoke to this handler instead (same provider and backend as the "
                               "granting handler)");
  grant_revoke_cmd->add_flag("--wait", revoke_args.wait,
                             "Wait until the grant ended (or its revoke is flagged revoke_failing) and print its state");
  grant_revoke_cmd->add_option("--wait-seconds", revoke_args.wait_seconds, "How long --wait waits (default 60)");
  on(grant_revoke_cmd, [&] { return grant_revoke(with(), revoke_args); });

  // ---- audit
  std::string actor, audit_action, object;
  auto* audit = group(app, "audit", "The audit log");
  auto* audit_list_cmd = remote(audit, "list", "Audit entries, newest first", o);
  audit_list_cmd->add_option("--actor", actor, "Only this actor (token name, engine:<id>)");
  audit_list_cmd->add_option("--action", audit_action, "Only this action (grant.request), or a prefix ending in '.' (grant.)");
  audit_list_cmd->add_option("--object", object, "Only this object (handler/demo-a, grant/<id>)");
  audit_list_cmd->add_option("--limit", limit, "At most this many (default: all, page after page)")
      ->check(CLI::Range(1, 100'000'000));
  on(audit_list_cmd, [&] { return audit_list(with(), actor, audit_action, object, limit); });

  // ---- inventory
  std::string resource_type, match;
  bool no_wait = false;
  auto* sync = group(app, "sync", "Inventory sync: run a handler's loaders now, list past runs");
  auto* sync_run_cmd = remote(sync, "run", "Sync a handler's inventory now (every healthy handler without --handler) "
                                           "and follow its progress",
                              o);
  sync_run_cmd->add_option("--handler", handler_id, "Only this handler");
  sync_run_cmd->add_flag("--no-wait", no_wait, "Start the run(s) and return at once");
  on(sync_run_cmd, [&] { return sync_run(with(), handler_id, !no_wait); });
  auto* sync_list_cmd = remote(sync, "list", "Sync runs, newest first, with their counts and errors", o);
  sync_list_cmd->add_option("--handler", handler_id, "Only this handler");
  sync_list_cmd->add_option("--limit", limit, "At most this many (default 20)")->check(CLI::Range(1, 1000));
  on(sync_list_cmd, [&] { return sync_list(with(), handler_id, limit); });
  auto* resource = group(app, "resource", "The resource inventory loaded from providers");
  auto* resource_list_cmd = remote(resource, "list", "Resources, by handler, type and id", o);
  resource_list_cmd->add_option("--handler", handler_id, "Only this handler");
  resource_list_cmd->add_option("--type", resource_type, "Only this resource type (e.g. Project)");
  resource_list_cmd->add_option("--match", match, "Only ids or names containing this text (any case)");
  resource_list_cmd->add_option("--limit", limit, "At most this many (default 100)")->check(CLI::Range(1, 1000));
  on(resource_list_cmd, [&] { return resource_list(with(), handler_id, resource_type, match, limit); });
  auto* resource_show_cmd = remote(resource, "show", "One resource with its data and relations", o);
  resource_show_cmd->add_option("handler", handler_id, "Handler id")->required();
  resource_show_cmd->add_option("type", resource_type, "Resource type")->required();
  resource_show_cmd->add_option("id", id, "Resource id")->required();
  on(resource_show_cmd, [&] { return resource_show(with(), handler_id, resource_type, id); });

  // ---- apply
  std::string file;
  bool dry_run = false;
  auto* apply = remote(&app, "apply",
                       "Make handlers, target groups and routes what a YAML file says (idempotent; objects the file does "
                       "not name are left alone — delete them explicitly)",
                       o);
  apply->add_option("-f,--file", file, "Declarative config (YAML or JSON), see schemas/apply.v1.schema.json")->required();
  apply->add_flag("--dry-run", dry_run,
                 "Check everything the real run checks (refusing what it would refuse, exit 3) and print the plan; "
                 "change nothing");
  on(apply, [&] { return apply_file(with(), file, dry_run); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return action ? action() : kExitUsage;
}

}  // namespace
}  // namespace gatehouse::cli

int main(int argc, char** argv) {
  try {
    return gatehouse::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return gatehouse::cli::kExitFailure;
  }
}
