// What a runner writes to its stderr becomes lines of the host's log in the host's format: its JSON lines keep
// level, message and source; anything else is a "provider-output" warning; the handler and runner pid are the
// host's, never the line's. Checked through the real JSON sink, and through a real spawned process.
#include "isolation/runner_log_relay.hpp"
#include "isolation_support.hpp"
#include "logging/log_sinks.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

using namespace isolation_test;
using nlohmann::json;

namespace {

// The default logger writes JSON lines into a pipe for the test's duration; lines() reads what came.
class CapturedLog {
 public:
  CapturedLog() {
    REQUIRE(::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) == 0);
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("test-host", gatehouse::host::logging::json_lines_sink(fds_[1]));
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() {
    spdlog::set_default_logger(previous_);
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::vector<json> lines() {
    char buffer[4096];
    for (ssize_t n; (n = ::read(fds_[0], buffer, sizeof buffer)) > 0;) text_.append(buffer, static_cast<std::size_t>(n));
    std::vector<json> out;
    std::istringstream in(text_);
    for (std::string line; std::getline(in, line);) {
      INFO(line);
      out.push_back(json::parse(line));  // throws (fails) on a line that is not JSON
    }
    return out;
  }

 private:
  int fds_[2];
  std::string text_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace

TEST_CASE("runner lines are relayed as the host's own, with the host's handler and pid", "[isolation][logging]") {
  CapturedLog log;
  RunnerLogRelay relay("h-relay", 4242);
  relay.feed(R"({"time":"x","level":"warning","logger":"gatehouse-provider-runner","msg":"disk almost full",)"
             R"("handler":"someone-else","source":"provider"})"
             "\nplain text from a provider\r\n{\"no\":\"msg\"}\n");
  relay.feed("a line in two ");
  relay.feed("pieces\nunterminated");
  relay.finish();

  const auto lines = log.lines();
  REQUIRE(lines.size() == 5);
  CHECK(lines[0]["msg"] == "disk almost full");
  CHECK(lines[0]["level"] == "warning");
  CHECK(lines[0]["source"] == "provider");
  CHECK(lines[0]["handler"] == "h-relay");  // the host's, not what the line claimed
  CHECK(lines[0]["runner_pid"] == "4242");
  CHECK(lines[1]["msg"] == "plain text from a provider");
  CHECK(lines[1]["source"] == "provider-output");
  CHECK(lines[1]["level"] == "warning");
  CHECK(lines[2]["msg"] == "{\"no\":\"msg\"}");  // JSON, but not a log record: relayed as text
  CHECK(lines[3]["msg"] == "a line in two pieces");
  CHECK(lines[4]["msg"] == "unterminated");
  for (const auto& line : lines) CHECK(line["handler"] == "h-relay");
}

TEST_CASE("what a runner process prints to stderr reaches the host's log as JSON lines", "[isolation][logging]") {
  CapturedLog log;
  TempDir dir("gatehouse-relay-runner");
  // A "runner" that prints before it fails its handshake: its words are relayed, then the start fails.
  const std::string runner = dir.write("fake-runner", "#!/bin/sh\necho 'cannot set the memory limit' >&2\n"
                                                      "echo 'stdout goes the same way'\nexit 7\n");
  ::chmod(runner.c_str(), 0755);
  auto options = fast_options();
  options.runner_path = runner;
  auto module = load_provider_isolated(demo_provider_path(), options);
  REQUIRE_FALSE(module.ok());
  CHECK(module.error().code == "runner_start_failed");

  const auto lines = log.lines();
  std::vector<std::string> messages;
  for (const auto& line : lines) {
    if (line.value("source", "") == "provider-output") messages.push_back(line["msg"]);
    if (line.contains("runner_pid")) CHECK(line["runner_pid"].is_string());
  }
  CHECK(messages == std::vector<std::string>{"cannot set the memory limit", "stdout goes the same way"});
}
