// ProviderCatalog::scan loads provider files only after a runner loaded and described them: a file that aborts,
// segfaults, exits or hangs in a static constructor is refused with that reason and this process survives.
#include "paths.hpp"
#include "registry/provider_catalog.hpp"
#include "run_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

using namespace gatehouse::host;
using namespace std::chrono_literals;
using gatehouse::test::demo_provider_path;
using gatehouse::test::fixture_path;
using gatehouse::test::TempDir;
namespace fs = std::filesystem;

namespace {

isolation::ScanOptions scan_options(const std::string& cache_file = {}) {
  isolation::ScanOptions o;
  o.runner_path = GATEHOUSE_RUNNER_PATH;
  o.timeout = 1s;
  o.shutdown_grace = 500ms;
  o.cache_file = cache_file;
  return o;
}

// A provider directory holding the demo provider and the fixtures that kill or block whoever loads them.
struct ProviderDir {
  ProviderDir() {
    fs::copy_file(demo_provider_path(), dir.path() + "/demo.so");
    for (const char* mode : {"abort_in_static_constructor", "crash_in_static_constructor", "exit_in_static_constructor",
                             "hang_in_static_constructor"}) {
      fs::copy_file(fixture_path(mode), dir.path() + "/" + mode + ".so");
    }
  }
  std::string file(const std::string& name) const { return dir.path() + "/" + name + ".so"; }
  TempDir dir{"gatehouse-catalog-scan"};
};

std::map<std::string, Error> by_message_file(const std::vector<Error>& errors, const ProviderDir& d) {
  std::map<std::string, Error> out;
  for (const auto& e : errors) {
    for (const char* mode : {"abort_in_static_constructor", "crash_in_static_constructor", "exit_in_static_constructor",
                             "hang_in_static_constructor"}) {
      if (e.message.find("'" + d.file(mode) + "'") != std::string::npos) out.emplace(mode, e);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the catalog refuses provider files that die or hang while loading, with the reason",
          "[registry][catalog][isolation]") {
  ProviderDir d;
  TempDir state("gatehouse-catalog-cache");
  const std::string cache = state.path() + "/provider-scan-cache.json";
  registry::ProviderCatalog catalog;
  const auto refused = catalog.scan({d.dir.path()}, scan_options(cache));

  // Still here: nothing that kills its loader was loaded into this process.
  REQUIRE(refused.size() == 4);
  const auto errors = by_message_file(refused, d);
  REQUIRE(errors.size() == 4);
  CHECK(errors.at("abort_in_static_constructor").code == "crashed_while_loading");
  CHECK(errors.at("abort_in_static_constructor").message ==
        "provider '" + d.file("abort_in_static_constructor") + "' refused: it crashed while loading (signal 6, Aborted)");
  CHECK(errors.at("crash_in_static_constructor").code == "crashed_while_loading");
  CHECK_THAT(errors.at("crash_in_static_constructor").message,
             Catch::EndsWith("refused: it crashed while loading (signal 11, Segmentation fault)"));
  CHECK(errors.at("exit_in_static_constructor").code == "exited_while_loading");
  CHECK_THAT(errors.at("exit_in_static_constructor").message,
             Catch::EndsWith("refused: it exited while loading (exit status 7)"));
  CHECK(errors.at("hang_in_static_constructor").code == "hung_while_loading");
  CHECK_THAT(errors.at("hang_in_static_constructor").message,
             Catch::EndsWith("refused: it did not finish loading within 1 s (the runner was killed)"));
  CHECK(catalog.refusals().size() == 4);

  // The good file is loaded and remembered; the refused ones are not remembered.
  REQUIRE(catalog.list().size() == 1);
  CHECK(catalog.find({"gatehouse", "demo", "1.0.0"}) != nullptr);
  std::ifstream in(cache);
  const auto entries = nlohmann::json::parse(in)["providers"];
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["path"] == d.file("demo"));

  // A second catalog (a restarted host) takes the demo provider from the cache and still refuses the others.
  registry::ProviderCatalog again;
  CHECK(again.scan({d.dir.path()}, scan_options(cache)).size() == 4);
  CHECK(again.find({"gatehouse", "demo", "1.0.0"}) != nullptr);
}

TEST_CASE("scan(dirs) without options scans out of process too, without a cache", "[registry][catalog][isolation]") {
  TempDir dir("gatehouse-catalog-plain");
  fs::copy_file(demo_provider_path(), dir.path() + "/demo.so");
  fs::copy_file(fixture_path("abort_in_static_constructor"), dir.path() + "/abort.so");
  registry::ProviderCatalog catalog;
  // The runner is found without being named (in this build tree: the one next to the library's build).
  const auto refused = catalog.scan({dir.path()});
  REQUIRE(refused.size() == 1);
  CHECK(refused.front().code == "crashed_while_loading");
  CHECK_THAT(refused.front().message, Catch::Contains("abort.so' refused: it crashed while loading (signal 6, Aborted)"));
  CHECK(catalog.find({"gatehouse", "demo", "1.0.0"}) != nullptr);
  CHECK_FALSE(fs::exists(dir.path() + "/provider-scan-cache.json"));
}
