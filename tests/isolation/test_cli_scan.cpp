// The offline CLI verbs scan a provider file in a runner before loading it: a file that aborts, segfaults, exits
// or hangs while loading is refused (exit 3, the reason on stderr) and the CLI itself survives to say so.
#include "paths.hpp"
#include "run_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using gatehouse::test::cli_path;
using gatehouse::test::demo_provider_path;
using gatehouse::test::fixture_path;
using gatehouse::test::run_process;
using gatehouse::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("provider inspect and validate-config refuse files that die while loading, exit 3", "[cli][isolation][scan]") {
  auto [mode, reason] = GENERATE(table<std::string, std::string>({
      {"abort_in_static_constructor", "refused: it crashed while loading (signal 6, Aborted)"},
      {"crash_in_static_constructor", "refused: it crashed while loading (signal 11, Segmentation fault)"},
      {"exit_in_static_constructor", "refused: it exited while loading (exit status 7)"},
  }));
  INFO(mode);
  TempDir cache("gatehouse-cli-cache");
  const std::map<std::string, std::string> env{{"XDG_CACHE_HOME", cache.path()}};
  const std::string path = fixture_path(mode);

  auto inspected = run_process({cli_path(), "provider", "inspect", path}, env);
  CHECK(inspected.exit_code == 3);  // not 128 + signal: the CLI did not load it
  CHECK_THAT(inspected.err, Catch::Contains("error: provider '" + path + "' " + reason));
  CHECK(inspected.out.empty());

  TempDir configs("gatehouse-cli-config");
  const std::string config = configs.write("config.yaml", "greeting: hi\n");
  auto validated = run_process({cli_path(), "provider", "validate-config", path, config}, env);
  CHECK(validated.exit_code == 3);
  CHECK_THAT(validated.err, Catch::Contains("error: provider '" + path + "' " + reason));

  // Refused files are not remembered.
  const std::string cache_file = cache.path() + "/gatehouse/provider-scan-cache.json";
  if (fs::exists(cache_file)) {
    std::ifstream in(cache_file);
    CHECK(nlohmann::json::parse(in)["providers"].empty());
  }
}

TEST_CASE("provider inspect refuses a file that hangs while loading, after the scan timeout", "[cli][isolation][scan]") {
  TempDir cache("gatehouse-cli-cache");
  const std::string path = fixture_path("hang_in_static_constructor");
  auto inspected = run_process({cli_path(), "provider", "inspect", path}, {{"XDG_CACHE_HOME", cache.path()}}, 60);
  CHECK(inspected.exit_code == 3);
  CHECK_THAT(inspected.err, Catch::Contains("error: provider '" + path +
                                            "' refused: it did not finish loading within 10 s (the runner was killed)"));
}

TEST_CASE("accepted files are remembered in the user's cache directory, or nowhere when it is unwritable",
          "[cli][isolation][scan]") {
  TempDir cache("gatehouse-cli-cache");
  auto shown = run_process({cli_path(), "provider", "inspect", demo_provider_path()}, {{"XDG_CACHE_HOME", cache.path()}});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.err.empty());
  CHECK_THAT(shown.out, Catch::Contains("gatehouse/demo@1.0.0"));
  const std::string cache_file = cache.path() + "/gatehouse/provider-scan-cache.json";
  REQUIRE(fs::exists(cache_file));
  {
    std::ifstream in(cache_file);
    const auto entries = nlohmann::json::parse(in)["providers"];
    REQUIRE(entries.size() == 1);
    CHECK(entries[0]["path"] == fs::absolute(demo_provider_path()).lexically_normal().string());
  }
  // Second run: from the cache, same output.
  auto again = run_process({cli_path(), "provider", "inspect", demo_provider_path()}, {{"XDG_CACHE_HOME", cache.path()}});
  CHECK(again.exit_code == 0);
  CHECK(again.out == shown.out);

  SECTION("no usable cache directory: scanned every time, no error and no warning") {
    TempDir home("gatehouse-cli-home");
    const std::string not_a_dir = home.write("file", "x");  // XDG_CACHE_HOME/gatehouse cannot be created under a file
    auto plain = run_process({cli_path(), "provider", "inspect", demo_provider_path()}, {{"XDG_CACHE_HOME", not_a_dir}});
    CHECK(plain.exit_code == 0);
    CHECK(plain.err.empty());
    CHECK(plain.out == shown.out);
  }
}
