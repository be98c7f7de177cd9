#pragma once

#include <string>

namespace gatehouse::test {
inline std::string fixture_path(const std::string& mode) {
  return std::string(GATEHOUSE_BINARY_DIR) + "/tests/fixtures/fixture_" + mode + ".so";
}
inline std::string demo_provider_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/plugins/demo/demo.so"; }
inline std::string cli_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/host/cli/gatehouse"; }
}  // namespace gatehouse::test
