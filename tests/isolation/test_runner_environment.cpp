// A runner starts with a minimal environment: what the host keeps in its own (every handler's env: secrets,
// the database URL, API tokens) never reaches an isolated provider, which could read it from
// /proc/<runner>/environ. Checked on the environ of real runners started through the real code.
#include "isolation/runner_environment.hpp"
#include "isolation_support.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

using namespace isolation_test;

namespace {

// NAME → value of a live process's environment, as the kernel shows it.
std::map<std::string, std::string> environ_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < bytes.size()) {
    auto end = bytes.find('\0', start);
    if (end == std::string::npos) end = bytes.size();
    const std::string entry = bytes.substr(start, end - start);
    if (const auto eq = entry.find('='); eq != std::string::npos) out[entry.substr(0, eq)] = entry.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

// Sets a variable for the test's duration, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("a runner's environment holds none of the host's secret variables", "[isolation][runner][environment]") {
  // What a daemon's environment typically holds besides the runtime's needs.
  ScopedEnv secret("GATEHOUSE_TEST_HANDLER_SECRET", "s3cret-of-another-handler");
  ScopedEnv database("GATEHOUSE_DATABASE_URL", "postgresql://gatehouse:db-password@127.0.0.1/gatehouse");
  ScopedEnv aws("AWS_SECRET_ACCESS_KEY", "aws-secret-value");
  ScopedEnv preload("LD_PRELOAD", "");
  ScopedEnv lang("LANG", "C.UTF-8");
  ScopedEnv messages("LC_MESSAGES", "C");
  ScopedEnv tz("TZ", "Europe/Paris");

  TempDir state("gatehouse-runner-env");
  auto module = load_provider_isolated(demo_provider_path(), fast_options());
  REQUIRE(module.ok());
  auto client = (*module)->create(demo_config(state), "h-env");
  REQUIRE(client.ok());
  const pid_t pid = isolated(**client).health().pid;
  REQUIRE(pid > 0);

  const auto env = environ_of(pid);
  REQUIRE_FALSE(env.empty());  // we could read it: the check below is not vacuous
  for (const auto& [name, value] : env) {
    INFO(name);
    CHECK(passed_to_runner(name));
    CHECK(value.find("s3cret") == std::string::npos);
    CHECK(value.find("db-password") == std::string::npos);
  }
  CHECK_FALSE(env.count("GATEHOUSE_TEST_HANDLER_SECRET"));
  CHECK_FALSE(env.count("GATEHOUSE_DATABASE_URL"));
  CHECK_FALSE(env.count("AWS_SECRET_ACCESS_KEY"));
  CHECK_FALSE(env.count("LD_PRELOAD"));
  CHECK_FALSE(env.count("HOME"));
  // What the runtime needs is still there.
  CHECK(env.count("PATH"));
  CHECK(env.at("LANG") == "C.UTF-8");
  CHECK(env.at("LC_MESSAGES") == "C");
  CHECK(env.at("TZ") == "Europe/Paris");

  // And the provider works with it.
  auto granted = grant(**client, project_grant("g-env"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(granted.ok());
}

TEST_CASE("the runner environment keeps only PATH, the locale and TZ", "[isolation][environment]") {
  std::string entries[] = {"PATH=/opt/bin:/usr/bin", "HOME=/root", "LC_ALL=C.UTF-8", "LCX=1", "LANG=C",
                           "GATEHOUSE_TOKEN=gh_x", "TZ=UTC", "PGPASSWORD=pw", "LANGUAGE=en", "no-equals-sign"};
  std::vector<char*> environment;
  for (auto& e : entries) environment.push_back(e.data());
  environment.push_back(nullptr);
  CHECK(runner_environment(environment.data()) ==
        std::vector<std::string>{"PATH=/opt/bin:/usr/bin", "LC_ALL=C.UTF-8", "LANG=C", "TZ=UTC", "LANGUAGE=en"});

  char* none[] = {nullptr};
  CHECK(runner_environment(none) == std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin"});
}
