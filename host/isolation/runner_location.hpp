// Where gatehouse-provider-runner is, when the caller does not say.
#pragma once

#include "common/result.hpp"

#include <filesystem>

namespace gatehouse::host::isolation {

inline constexpr const char* kRunnerFileName = "gatehouse-provider-runner";
inline constexpr const char* kRunnerEnvironmentVariable = "GATEHOUSE_PROVIDER_RUNNER";

// The first of: `explicit_path` when not empty; $GATEHOUSE_PROVIDER_RUNNER; gatehouse-provider-runner next to
// the current executable (/proc/self/exe); <executable dir>/../libexec/gatehouse/gatehouse-provider-runner (the
// installed layout); the runner of the build tree this library was built in. Error "runner_unavailable" names
// every place it looked.
Result<std::filesystem::path> find_runner(const std::filesystem::path& explicit_path = {});

}  // namespace gatehouse::host::isolation
