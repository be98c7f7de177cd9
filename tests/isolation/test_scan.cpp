// Scanning out of process: files that kill or block whoever loads them are refused without ever being loaded
// here; accepted files are remembered until they change.
#include "isolation_support.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace isolation_test;
namespace fs = std::filesystem;

namespace {

ScanOptions scan_options(const std::string& cache_file = {}) {
  ScanOptions o;
  o.runner_path = runner_path();
  o.timeout = 5s;
  o.shutdown_grace = 500ms;
  o.cache_file = cache_file;
  return o;
}

nlohmann::json read_json(const std::string& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("a provider that dies or hangs in a static constructor is refused, and this process survives",
          "[isolation][scan]") {
  auto [mode, code, reason] = GENERATE(table<std::string, std::string, std::string>({
      {"abort_in_static_constructor", "crashed_while_loading", "it crashed while loading (signal 6, Aborted)"},
      {"crash_in_static_constructor", "crashed_while_loading",
       "it crashed while loading (signal 11, Segmentation fault)"},
      {"exit_in_static_constructor", "exited_while_loading", "it exited while loading (exit status 7)"},
      {"hang_in_static_constructor", "hung_while_loading",
       "it did not finish loading within 500 ms (the runner was killed)"},
  }));
  INFO(mode);
  // The hang is cut short at 500 ms; the others crash or exit by themselves, however long loading takes here.
  const auto timeout = mode == "hang_in_static_constructor" ? std::chrono::milliseconds(500) : 60s;
  auto options = scan_options();
  options.timeout = timeout;
  const std::string path = fixture_path(mode);

  auto verdict = scan_provider(path, options);
  REQUIRE_FALSE(verdict.ok());
  CHECK(verdict.error().code == code);
  CHECK(verdict.error().message == "provider '" + path + "' refused: " + reason);

  // load_provider_scanned never dlopens it here: if it did, this test process would be gone.
  auto loaded = load_provider_scanned(path, options);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code == code);

  // Loading it isolated refuses it the same way.
  auto isolated_options = fast_options();
  isolated_options.start_timeout = timeout;
  auto isolated_load = load_provider_isolated(path, isolated_options);
  REQUIRE_FALSE(isolated_load.ok());
  CHECK(isolated_load.error().code == code);
}

TEST_CASE("accepted files are remembered by path, size, mtime and hash until they change", "[isolation][scan]") {
  TempDir dir("gatehouse-iso-scan");
  const std::string provider = dir.path() + "/demo.so";
  fs::copy_file(demo_provider_path(), provider);
  const std::string cache = dir.path() + "/state/scan-cache.json";
  const auto options = scan_options(cache);

  auto first = scan_provider(provider, options);
  REQUIRE(first.ok());
  CHECK_FALSE(first->from_cache);
  CHECK(first->identity.reference() == "gatehouse/demo@1.0.0");
  CHECK(first->file.path == provider);
  CHECK(first->file.size == fs::file_size(provider));
  CHECK(first->file.sha256.size() == 64);

  auto entries = read_json(cache)["providers"];
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["path"] == provider);
  CHECK(entries[0]["sha256"] == first->file.sha256);
  CHECK(entries[0]["name"] == "demo");

  auto second = scan_provider(provider, options);
  REQUIRE(second.ok());
  CHECK(second->from_cache);
  CHECK(second->identity.reference() == "gatehouse/demo@1.0.0");

  SECTION("a new mtime means a new scan") {
    fs::last_write_time(provider, fs::last_write_time(provider) + 1s);
    auto third = scan_provider(provider, options);
    REQUIRE(third.ok());
    CHECK_FALSE(third->from_cache);
    CHECK(scan_provider(provider, options)->from_cache);
  }
  SECTION("other content with the same size and mtime means a new scan") {
    auto j = read_json(cache);
    j["providers"][0]["sha256"] = std::string(64, '0');  // as if the file held other bytes when it was accepted
    std::ofstream(cache) << j.dump();
    auto third = scan_provider(provider, options);
    REQUIRE(third.ok());
    CHECK_FALSE(third->from_cache);
  }
  SECTION("a replaced file is scanned and, when refused, not remembered") {
    fs::copy_file(fixture_path("abort_in_static_constructor"), provider, fs::copy_options::overwrite_existing);
    auto refused = scan_provider(provider, options);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "crashed_while_loading");
    auto after = read_json(cache)["providers"];
    REQUIRE(after.size() == 1);
    CHECK(after[0]["sha256"] == first->file.sha256);  // still the old, accepted content only
  }
  SECTION("an unreadable cache is an empty one") {
    std::ofstream(cache) << "{ not json";
    auto third = scan_provider(provider, options);
    REQUIRE(third.ok());
    CHECK_FALSE(third->from_cache);
    CHECK(read_json(cache)["providers"].size() == 1);
  }
}

TEST_CASE("load_provider_scanned loads an accepted file in process", "[isolation][scan]") {
  TempDir dir("gatehouse-iso-scan-load");
  auto module = load_provider_scanned(demo_provider_path(), scan_options(dir.path() + "/cache.json"));
  REQUIRE(module.ok());
  CHECK((*module)->identity().reference() == "gatehouse/demo@1.0.0");
  CHECK(dynamic_cast<IsolatedModule*>(module->get()) == nullptr);  // in process

  auto missing = scan_provider(dir.path() + "/nothing.so", scan_options());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "file_not_found");
}

TEST_CASE("a provider file others may write, or whose digest is not listed, is refused before anything runs",
          "[isolation][scan]") {
  TempDir dir("gatehouse-iso-scan-safety");
  const fs::path copy = fs::path(dir.path()) / "demo.so";
  fs::copy_file(demo_provider_path(), copy);
  fs::permissions(copy, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  const std::string digest = fingerprint(copy)->sha256;
  REQUIRE(scan_provider(copy, scan_options()).ok());

  SECTION("group- or world-writable") {
    fs::permissions(copy, fs::perms::group_write, fs::perm_options::add);
    auto verdict = scan_provider(copy, scan_options());
    REQUIRE_FALSE(verdict.ok());
    CHECK(verdict.error().code == "provider_file_unsafe");
    CHECK(verdict.error().message == "provider file '" + copy.string() +
                                         "' is not loaded: its mode 0764 lets group or others write it; chmod go-w '" +
                                         copy.string() + "'");
  }
  SECTION("in a directory anyone may write to") {
    fs::permissions(dir.path(), fs::perms::others_write, fs::perm_options::add);
    auto verdict = scan_provider(copy, scan_options());
    REQUIRE_FALSE(verdict.ok());
    CHECK(verdict.error().code == "provider_file_unsafe");
    CHECK_THAT(verdict.error().message, Catch::Contains("lets anyone replace it; chmod o-w '" + dir.path() + "'"));
  }
  SECTION("providers.allowed_sha256 lists other digests") {
    auto options = scan_options();
    options.safety.allowed_sha256 = {std::string(64, '0')};
    auto verdict = scan_provider(copy, options);
    REQUIRE_FALSE(verdict.ok());
    CHECK(verdict.error().code == "provider_not_allowed");
    CHECK(verdict.error().message == "provider file '" + copy.string() + "' is not loaded: its SHA-256 " + digest +
                                         " is not in providers.allowed_sha256; add it there if this file is trusted");
    options.safety.allowed_sha256.push_back(digest);
    CHECK(scan_provider(copy, options).ok());
  }
  SECTION("owned by someone else") {
    if (::geteuid() != 0) return;  // only root can give a file away
    REQUIRE(::chown(copy.c_str(), 65534, 65534) == 0);
    auto verdict = scan_provider(copy, scan_options());
    REQUIRE_FALSE(verdict.ok());
    CHECK(verdict.error().code == "provider_file_unsafe");
    CHECK_THAT(verdict.error().message, Catch::Contains("is owned by uid 65534, neither root nor the daemon's user"));
  }
}
