#include "isolation/runner_location.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace gatehouse::host::isolation {
namespace {

namespace fs = std::filesystem;

bool executable(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<fs::path> find_runner(const fs::path& explicit_path) {
  if (!explicit_path.empty()) {
    if (executable(explicit_path)) return fs::absolute(explicit_path);
    return make_error(ErrorCode::runner_unavailable,
                      "provider runner '" + explicit_path.string() + "' does not exist or is not executable");
  }
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv(kRunnerEnvironmentVariable); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(self.parent_path() / kRunnerFileName);
    candidates.push_back((self.parent_path() / ".." / "libexec" / "gatehouse" / kRunnerFileName).lexically_normal());
  }
#ifdef GATEHOUSE_RUNNER_BUILD_PATH
  candidates.emplace_back(GATEHOUSE_RUNNER_BUILD_PATH);
#endif
  std::string looked;
  for (const auto& c : candidates) {
    if (executable(c)) return c;
    looked += (looked.empty() ? "" : ", ") + c.string();
  }
  return make_error(ErrorCode::runner_unavailable, std::string("gatehouse-provider-runner not found (looked at: ") + looked +
                                              "); install it next to the executable or set " +
                                              kRunnerEnvironmentVariable);
}

}  // namespace gatehouse::host::isolation
