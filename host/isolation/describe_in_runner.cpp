#include "isolation/describe_in_runner.hpp"

#include "isolation/exit_status.hpp"

#include <sys/wait.h>

namespace gatehouse::host::isolation {
namespace {

std::string duration_text(std::chrono::milliseconds ms) {
  if (ms.count() >= 1000 && ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  return std::to_string(ms.count()) + " ms";
}

Error refuse(const std::filesystem::path& path, ErrorCode code, const std::string& reason) {
  return make_error(code, "provider '" + path.string() + "' refused: " + reason);
}

}  // namespace

Result<Description> describe_in_runner(const std::filesystem::path& path, RunnerCommand command,
                                       std::chrono::milliseconds timeout) {
  std::error_code ec;
  command.provider = std::filesystem::absolute(path, ec);
  if (ec) command.provider = path;
  const auto deadline = Clock::now() + timeout;
  auto started = RunnerProcess::start(command, "provider file '" + command.provider.string() + "'", deadline);
  if (!started) return started.take_error();
  auto& runner = **started;

  const auto left = std::max(std::chrono::milliseconds(1),
                             std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
  auto reply = runner.request(FrameKind::describe, 0, {}, left);
  runner.shutdown();
  if (reply) return decode_description(*reply);

  Error error = reply.take_error();
  if (error.code == ErrorCode::deadline_exceeded) {
    return refuse(command.provider, ErrorCode::hung_while_loading,
                  "it did not finish loading within " + duration_text(timeout) + " (the runner was killed)");
  }
  if (error.code == ErrorCode::transport_failed) {
    const auto exit = runner.exit_info();
    const int status = exit ? exit->wait_status : -1;
    if (status != -1 && WIFSIGNALED(status)) {
      return refuse(command.provider, ErrorCode::crashed_while_loading, "it crashed while loading (" + short_wait_status(status) + ")");
    }
    if (status != -1 && WIFEXITED(status)) {
      return refuse(command.provider, ErrorCode::exited_while_loading, "it exited while loading (" + short_wait_status(status) + ")");
    }
    return refuse(command.provider, ErrorCode::crashed_while_loading, "its runner ended while loading it: " + error.message);
  }
  return error;  // the runner's refusal: same code and sentence as an in-process load
}

}  // namespace gatehouse::host::isolation
