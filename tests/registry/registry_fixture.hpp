// A registry on a fresh database of the test cluster, with the demo and hello providers loaded for real.
#pragma once

#include "loader/dll_loader.hpp"
#include "paths.hpp"
#include "postgres_fixture.hpp"
#include "registry/registry.hpp"
#include "run_process.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

namespace gatehouse::test {

inline std::string hello_provider_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/sdk/examples/hello/hello.so"; }

struct RegistryFixture {
  explicit RegistryFixture(const std::string& name, host::registry::RegistryOptions registry_options = {})
      : db(TestPostgres::instance().fresh_database(name)),
        catalog(std::make_shared<host::registry::ProviderCatalog>()),
        options(std::move(registry_options)) {
    REQUIRE(host::store::migrate(db).ok());
    for (const auto& path : {demo_provider_path(), hello_provider_path()}) {
      auto module = host::load_provider_in_process(path);
      REQUIRE(module.ok());
      REQUIRE(catalog->add(*module).ok());
    }
    REQUIRE(catalog->record(db).ok());
    reopen();
  }

  void reopen() {
    registry.reset();
    auto opened = host::registry::Registry::open(db, catalog, options);
    if (!opened) FAIL(opened.error().describe());
    registry = std::move(*opened);
  }

  // A demo handler whose token comes from the environment and whose state lives in its own temp dir.
  host::registry::HandlerInfo demo_handler(const std::string& id,
                                           host::registry::Isolation isolation = host::registry::Isolation::in_process) {
    setenv("GATEHOUSE_TEST_DEMO_TOKEN", "demo-token-abcdef", 1);
    auto created = registry->create_handler(
        {id, "gatehouse/demo@1.0.0", {{"state_dir", state.path()}, {"token", "env:GATEHOUSE_TEST_DEMO_TOKEN"}},
         isolation});
    if (!created) FAIL(created.error().describe());
    return *created;
  }

  host::store::Database db;
  std::shared_ptr<host::registry::ProviderCatalog> catalog;
  host::registry::RegistryOptions options;  // used by every reopen()
  std::unique_ptr<host::registry::Registry> registry;
  TempDir state{"gatehouse-registry-state"};
};

}  // namespace gatehouse::test
