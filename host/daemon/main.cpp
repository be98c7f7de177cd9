// gatehoused: the daemon. `gatehoused [--config FILE]` runs it; a few verbs help operators set it up.
#include "auth/tokens.hpp"
#include "daemon/daemon.hpp"
#include "daemon/logging.hpp"
#include "schema/document_schemas.hpp"

#include <gatehouse/version.h>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

namespace {

using namespace gatehouse::host;

constexpr const char* kDefaultConfig = "/etc/gatehouse/gatehoused.yaml";

int load(const std::string& path, daemon::DaemonConfig& out) {
  auto config = daemon::load_daemon_config(path);
  if (!config) {
    std::cerr << "error: " << config.error().describe() << '\n';
    return 3;
  }
  out = std::move(*config);
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"gatehoused — the gatehouse just-in-time access broker daemon"};
  app.set_version_flag("--version", std::string("gatehoused ") + GATEHOUSE_FRAMEWORK_VERSION);
  app.footer(
      "Without --config, " + std::string(kDefaultConfig) +
      " is read when it exists; otherwise the defaults apply (API on 127.0.0.1:8470, embedded PostgreSQL under "
      "/var/lib/gatehouse, no tokens).\n\nExit codes: 0 stopped cleanly, 1 could not start, 2 usage error, 3 invalid config.");
  std::string config_path;
  app.add_option("-c,--config", config_path, "Config file (YAML or JSON), see schemas/gatehoused.schema.json");
  app.fallthrough();  // `gatehoused check-config --config FILE` reads as naturally as `--config FILE check-config`

  auto* check = app.add_subcommand("check-config", "Validate the config file and exit (every fault with its path)");
  auto* schema = app.add_subcommand("config-schema", "Print the JSON Schema of the config file");
  auto* token = app.add_subcommand("token", "API token helpers");
  auto* token_new = token->add_subcommand(
      "new", "Generate an API token; prints it once, and the config entry (with only its SHA-256) to paste under "
             "api.tokens");
  // Subcommands inherit the daemon's footer (config file, exit codes of a running daemon): give each its own.
  token->footer("Exit codes: 0 done, 2 usage error.");
  token_new->footer(
      "Prints `token: gh_…` (give it to the caller; it is not stored anywhere) and a YAML entry with its SHA-256 to "
      "paste under api.tokens in gatehoused.yaml, then restart gatehoused.\n\nExit codes: 0 done, 1 no randomness "
      "available, 2 usage error.");
  check->footer("Exit codes: 0 valid, 2 usage error, 3 invalid config (every fault is listed with its path).");
  schema->footer("Exit codes: 0 printed.");
  std::string token_name, token_role = "admin", token_subject;
  token_new->add_option("--name", token_name, "Who the token is for (the actor in the audit log)")->required();
  CLI::IsMember roles({"admin", "requester", "auditor"});
  roles.description("");  // the help says the choices; CLI11's own rendering of them would repeat them
  token_new->add_option("--role", token_role, "admin (the default), requester or auditor")->check(roles)->type_name("ROLE");
  token_new->add_option("--subject", token_subject, "For requesters: the subject they request access for");
  token->require_subcommand(1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (*schema) {
    std::cout << daemon_config_schema_text();
    return 0;
  }
  if (*token_new) {
    auto generated = auth::generate_token();
    if (!generated) {
      std::cerr << "error: " << generated.error().message << '\n';
      return 1;
    }
    std::cout << "token: " << *generated << "\n\n# under api.tokens in gatehoused.yaml:\n"
              << "- name: " << token_name << "\n  role: " << token_role << '\n'
              << (token_subject.empty() ? "" : "  subject: " + token_subject + "\n")
              << "  sha256: " << auth::sha256_hex(*generated) << '\n';
    return 0;
  }

  daemon::DaemonConfig config;
  if (config_path.empty() && std::filesystem::exists(kDefaultConfig)) config_path = kDefaultConfig;
  if (!config_path.empty()) {
    if (int code = load(config_path, config); code != 0) return code;
  } else {
    auto defaults = daemon::daemon_config_from_json(nlohmann::json::object());
    if (!defaults) {
      std::cerr << "error: " << defaults.error().describe() << '\n';
      return 3;
    }
    config = std::move(*defaults);
  }
  if (*check) {
    std::cout << (config_path.empty() ? std::string("defaults") : config_path) << ": valid ("
              << config.tokens.size() << " API tokens, listen " << config.listen_host << ":" << config.listen_port
              << ")\n";
    return 0;
  }
  daemon::setup_logging(config.log_format, config.log_level);
  return daemon::run_daemon(config);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
