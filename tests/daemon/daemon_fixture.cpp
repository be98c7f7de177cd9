#include "daemon_fixture.hpp"

#include "postgres_fixture.hpp"

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace gatehouse::test {
namespace {

std::string sha256_hex(const std::string& text) {
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}


}  // namespace

std::string gatehoused_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/host/daemon/gatehoused"; }
std::string gatehouse_cli_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/host/cli/gatehouse"; }

DaemonFixture::DaemonFixture(const std::string& name, DaemonOptions options) {
  port = free_port();
  env["DEMO_TOKEN"] = "demo-token-for-daemon-tests";
  const std::string url =
      options.database_url.empty() ? TestPostgres::instance().fresh_database(name) : options.database_url;
  std::ostringstream config;
  config << "listen: 127.0.0.1:" << port << "\n"
         << "data_dir: " << dir.path() << "/data\n"
         << "database:\n  url: env:GATEHOUSE_TEST_DATABASE_URL\n"
         << "providers:\n  search_paths:\n    - " << GATEHOUSE_BINARY_DIR << "/plugins/demo\n"
         << "    - " << GATEHOUSE_BINARY_DIR << "/sdk/examples/hello\n"
         << "    - " << GATEHOUSE_BINARY_DIR << "/plugins/postgres\n"
         << "health:\n  interval_seconds: 2\n"
         << "grants:\n  workers: 2\n  engine_id: test-" << name << "\n"
         << "api:\n  threads: 4\n"
         << options.api_extra
         << "  tokens:\n"
         << "    - {name: admin, role: admin, sha256: " << sha256_hex(admin_token) << "}\n"
         << "    - {name: alice, role: requester, subject: alice@example.com, sha256: " << sha256_hex(requester_token) << "}\n"
         << "    - {name: bob, role: requester, subject: bob@example.com, sha256: " << sha256_hex(other_requester_token) << "}\n"
         << "    - {name: auditor, role: auditor, sha256: " << sha256_hex(auditor_token) << "}\n"
         << options.extra_config;
  env["GATEHOUSE_TEST_DATABASE_URL"] = url;
  for (const auto& [name, value] : options.env) env[name] = value;
  config_path = dir.write("gatehoused.yaml", config.str());
  std::filesystem::create_directories(dir.path() + "/demo-state");
  log_path_ = dir.path() + "/gatehoused.log";
  if (options.start) start();
}

void DaemonFixture::start() {
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.push_back(*e);
  for (const auto& [k, v] : env) environment.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = gatehoused_path(), flag = "--config";
  std::vector<char*> argv{exe.data(), flag.data(), config_path.data(), nullptr};
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    const int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int null = ::open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  // Ready when /readyz says so (the database is migrated and the API is serving).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("gatehoused exited during start-up:\n" << log());
    }
    if (http_call(port, "GET", "/readyz").status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("gatehoused did not become ready within 90 s:\n" << log());
}

int DaemonFixture::stop(int timeout_seconds) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return 128 + SIGKILL;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

DaemonFixture::~DaemonFixture() {
  if (pid_ > 0) {
    const int code = stop();
    if (code != 0) {
      // Destructors must not throw: report through Catch's message channel and a visible stderr line.
      WARN("gatehoused did not stop cleanly (exit " << code << "):\n" << log());
    }
  }
}

ProcessResult DaemonFixture::cli(const std::vector<std::string>& args, const std::string& token) const {
  std::vector<std::string> argv{gatehouse_cli_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto environment = env;
  environment["GATEHOUSE_SERVER"] = "http://127.0.0.1:" + std::to_string(port);
  environment["GATEHOUSE_TOKEN"] = token;
  return run_process(argv, environment, 120);
}

std::string DaemonFixture::log() const { return read_text_file(log_path_); }

std::string DaemonFixture::example_config() const {
  std::string text = read_text_file(std::string(GATEHOUSE_SOURCE_DIR) + "/packaging/examples/gatehouse.yaml");
  const std::string marker = "@DEMO_STATE_DIR@";
  for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker))
    text.replace(at, marker.size(), dir.path() + "/demo-state");
  return dir.write("gatehouse.yaml", text);
}

}  // namespace gatehouse::test
