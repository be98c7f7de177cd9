#include "isolation/isolated_module.hpp"

#include <algorithm>

#include "isolation/describe_in_runner.hpp"
#include "isolation/runner_location.hpp"
#include "isolation/supervisor.hpp"

#include <gatehouse/provider/v1/provider.pb.h>

namespace gatehouse::host::isolation {
namespace {

RunnerCommand command_for(const IsolationOptions& options, const std::filesystem::path& runner,
                          const std::filesystem::path& provider) {
  RunnerCommand command;
  command.runner = runner;
  command.provider = provider;
  command.memory_limit_bytes = options.memory_limit_bytes;
  if (options.cpu_limit) command.cpu_limit_seconds = static_cast<std::uint64_t>(options.cpu_limit->count());
  command.threads = options.runner_threads;
  command.grace = options.shutdown_grace;
  return command;
}

}  // namespace

IsolatedClient::IsolatedClient(std::shared_ptr<Supervisor> supervisor, std::chrono::milliseconds call_timeout)
    : supervisor_(std::move(supervisor)), call_timeout_(call_timeout) {}

IsolatedClient::~IsolatedClient() { supervisor_->stop(); }

Result<std::string> IsolatedClient::call(std::string_view request_bytes, CallDeadline deadline) {
  using std::chrono::milliseconds;
  const auto left = deadline == CallDeadline::max()
                        ? call_timeout_
                        : std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  return supervisor_->call(request_bytes, std::clamp(left, milliseconds(0), call_timeout_));
}

RunnerHealth IsolatedClient::health() const { return supervisor_->health(); }

void IsolatedClient::restart_now() { supervisor_->restart_now(); }

IsolatedModule::IsolatedModule(ProviderIdentity identity, nlohmann::json schema, std::string path,
                               std::filesystem::path runner, IsolationOptions options)
    : identity_(std::move(identity)),
      schema_(std::move(schema)),
      path_(std::move(path)),
      runner_(std::move(runner)),
      options_(std::move(options)) {}

Result<std::unique_ptr<ProviderClient>> IsolatedModule::create(const nlohmann::json& config,
                                                               const std::string& handler_id) {
  ::gatehouse::provider::v1::ConfigureRequest request;
  request.set_config_json(config.dump());
  request.set_handler_id(handler_id);
  Supervisor::Settings settings;
  settings.command = command_for(options_, runner_, path_);
  settings.command.handler_id = handler_id;  // the "handler" field of its relayed log lines
  settings.label = identity_.reference() + (handler_id.empty() ? std::string() : " handler '" + handler_id + "'");
  settings.identity = identity_;
  settings.handler_id = handler_id;
  settings.configure_request = request.SerializeAsString();
  settings.options = options_;
  auto supervisor = Supervisor::start(std::move(settings));
  if (!supervisor) return supervisor.take_error();
  return std::unique_ptr<ProviderClient>(std::make_unique<IsolatedClient>(std::move(*supervisor), options_.call_timeout));
}

Result<std::shared_ptr<ProviderModule>> load_provider_isolated(const std::filesystem::path& path,
                                                               const IsolationOptions& options) {
  auto runner = find_runner(options.runner_path);
  if (!runner) return runner.take_error();
  auto description = describe_in_runner(path, command_for(options, *runner, path), options.start_timeout);
  if (!description) return description.take_error();
  return std::shared_ptr<ProviderModule>(std::make_shared<IsolatedModule>(
      std::move(description->identity), std::move(description->schema), std::move(description->path),
      std::move(*runner), options));
}

}  // namespace gatehouse::host::isolation
