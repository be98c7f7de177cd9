// `gatehouse`: the operator CLI. Parsing lives here (CLI11 is compiled once); each verb is a plain
// function returning an exit code from exit_codes.hpp.
#include "cli/exit_codes.hpp"
#include "cli/provider_commands.hpp"

#include <gatehouse/version.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <map>

namespace gatehouse::cli {
namespace {

void add_output_option(CLI::App* command, OutputFormat& format) {
  static const std::map<std::string, OutputFormat> formats{{"table", OutputFormat::table}, {"json", OutputFormat::json}};
  command->add_option("-o,--output", format, "Output format: table (for people) or json (for scripts)")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->default_str("table");
}

int run(int argc, char** argv) {
  // Provider log lines go to stderr: stdout carries the command's output (and JSON for scripts).
  spdlog::set_default_logger(spdlog::stderr_color_mt("gatehouse"));
  spdlog::set_level(spdlog::level::warn);
  CLI::App app{"gatehouse — operator CLI of the gatehouse just-in-time access broker"};
  app.set_version_flag("--version", std::string("gatehouse ") + GATEHOUSE_FRAMEWORK_VERSION);
  app.footer(kExitCodeHelp);
  app.require_subcommand(1);

  OutputFormat format = OutputFormat::table;
  std::string provider_path;
  std::string config_path;
  int exit_code = kExitOk;

  auto* provider = app.add_subcommand("provider", "Inspect provider libraries (.so) and check handler configs");
  provider->require_subcommand(1);
  provider->footer(kExitCodeHelp);

  auto* inspect = provider->add_subcommand(
      "inspect", "Load a provider .so and show its identity, ABI, config fields, resource types, loaders and "
                 "target kinds (--output json prints its schema document)");
  inspect->add_option("path", provider_path, "Path to the provider shared object")->required();
  add_output_option(inspect, format);
  inspect->callback([&] { exit_code = provider_inspect(provider_path, format, std::cout, std::cerr); });

  auto* validate = provider->add_subcommand(
      "validate-config", "Check a handler config (YAML or JSON) against a provider's config schema; every fault "
                         "is listed with its field path, secret values are never printed");
  validate->add_option("path", provider_path, "Path to the provider shared object")->required();
  validate->add_option("config", config_path, "Handler config file (YAML or JSON)")->required();
  add_output_option(validate, format);
  validate->callback(
      [&] { exit_code = provider_validate_config(provider_path, config_path, format, std::cout, std::cerr); });

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
  return exit_code;
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
