#include "isolation/runner_environment.hpp"

namespace gatehouse::host::isolation {
namespace {

// What a process needs to run, and nothing that could carry a credential. HOME is left out on purpose:
// libraries look there for credential files (~/.pgpass, ~/.aws) that belong to gatehoused, not to a provider.
constexpr std::string_view kExact[] = {"PATH", "LANG", "LANGUAGE", "TZ"};
constexpr std::string_view kDefaultPath = "PATH=/usr/local/bin:/usr/bin:/bin";

}  // namespace

bool passed_to_runner(std::string_view name) {
  for (auto exact : kExact)
    if (name == exact) return true;
  return name.size() > 3 && name.substr(0, 3) == "LC_";  // LC_ALL, LC_CTYPE, LC_MESSAGES, ...
}

std::vector<std::string> runner_environment(char* const* environment) {
  std::vector<std::string> out;
  bool has_path = false;
  for (char* const* e = environment; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) continue;
    const auto name = entry.substr(0, equals);
    if (!passed_to_runner(name)) continue;
    has_path = has_path || name == "PATH";
    out.emplace_back(entry);
  }
  if (!has_path) out.emplace_back(kDefaultPath);
  return out;
}

}  // namespace gatehouse::host::isolation
