// Shared set-up for the demo provider's tests: the provider loaded as gatehoused loads it, throw-away
// state directories, and readers for what the provider leaves on disk.
#pragma once

#include <gatehouse/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace demo_test {

namespace fs = std::filesystem;
using gatehouse::Code;
using gatehouse::Diagnostic;
using gatehouse::Target;
using gatehouse::testing::grant_request;
using gatehouse::testing::revoke_request;

// Long enough to pass the provider's check, distinctive enough to search for in files.
inline const std::string kToken = "demo-token-7f3a9c21";

// Loaded once per test binary: loading is the expensive part and the provider keeps no global state.
inline const gatehouse::testing::ProviderUnderTest& demo_provider() {
  static const auto provider =
      gatehouse::testing::ProviderUnderTest::load(GATEHOUSE_BINARY_DIR "/plugins/demo/demo.so");
  return provider;
}

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-demo-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A valid config for `state_dir`; `extra` adds or overrides fields.
inline nlohmann::json config_for(const fs::path& state_dir, const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json config = {{"state_dir", state_dir.string()}, {"token", kToken}};
  config.update(extra);
  return config;
}

inline Target project_role(const std::string& project, const std::string& role) {
  return Target{"ProjectRole", {{"project", project}, {"role", role}}};
}

inline bool has_path(const std::vector<Diagnostic>& diagnostics, const std::string& path) {
  for (const auto& d : diagnostics) {
    if (d.path == path) return true;
  }
  return false;
}

// True when some diagnostic names `word` in its path or its reason (validators differ in where they put
// the field of a "required" fault).
inline bool mentions(const std::vector<Diagnostic>& diagnostics, const std::string& word) {
  for (const auto& d : diagnostics) {
    if (d.path.find(word) != std::string::npos || d.reason.find(word) != std::string::npos) return true;
  }
  return false;
}

inline std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// events.log, one parsed JSON object per line.
inline std::vector<nlohmann::json> events(const fs::path& state_dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(state_dir / "events.log");
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Names of the files in <state_dir>/grants.
inline std::vector<std::string> grant_files(const fs::path& state_dir) {
  std::vector<std::string> names;
  if (!fs::is_directory(state_dir / "grants")) return names;
  for (const auto& entry : fs::directory_iterator(state_dir / "grants")) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace demo_test
