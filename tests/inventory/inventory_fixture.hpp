// A registry on a fresh database of the test cluster with the demo provider and the inventory_scripted
// fixture loaded for real, and helpers to create handlers and read the inventory tables.
#pragma once

#include "inventory/sync_engine.hpp"
#include "loader/dll_loader.hpp"
#include "paths.hpp"
#include "postgres_fixture.hpp"
#include "registry/registry.hpp"
#include "run_process.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>

namespace gatehouse::test {

struct InventoryFixture {
  explicit InventoryFixture(const std::string& name)
      : db(TestPostgres::instance().fresh_database(name), host::store::DatabaseOptions{16, std::chrono::seconds(30)}),
        catalog(std::make_shared<host::registry::ProviderCatalog>()) {
    REQUIRE(host::store::migrate(db).ok());
    for (const auto& path : {demo_provider_path(), fixture_path("inventory_scripted")}) {
      auto module = host::load_provider_in_process(path);
      if (!module) FAIL(module.error().describe());
      REQUIRE(catalog->add(*module).ok());
    }
    REQUIRE(catalog->record(db).ok());
    auto opened = host::registry::Registry::open(db, catalog);
    if (!opened) FAIL(opened.error().describe());
    registry = std::move(*opened);
  }

  host::registry::HandlerInfo demo_handler(const std::string& id, long synthetic_users = 0, int page_size = 500) {
    setenv("GATEHOUSE_TEST_DEMO_TOKEN", "demo-token-abcdef", 1);
    auto created = registry->create_handler({id,
                                             "gatehouse/demo@1.0.0",
                                             {{"state_dir", state.path()},
                                              {"token", "env:GATEHOUSE_TEST_DEMO_TOKEN"},
                                              {"synthetic_users", synthetic_users},
                                              {"page_size", page_size}}});
    if (!created) FAIL(created.error().describe());
    return *created;
  }

  // A scripted handler; its script files live in script.path().
  host::registry::HandlerInfo scripted_handler(const std::string& id) {
    auto created =
        registry->create_handler({id, "gatehouse-tests/inventory-scripted@1.0.0", {{"state_dir", script.path()}}});
    if (!created) FAIL(created.error().describe());
    return *created;
  }

  void script_file(const std::string& name, const std::string& text) { script.write(name, text); }
  void remove_script_file(const std::string& name) { std::remove((script.path() + "/" + name).c_str()); }

  long long scalar(const std::string& sql, const std::string& param = "") {
    auto r = db.with_transaction([&](pqxx::work& txn) -> long long {
      const auto rows = param.empty() ? txn.exec(sql) : txn.exec_params(sql, param);
      return rows[0][0].is_null() ? -1 : rows[0][0].as<long long>();
    });
    if (!r) FAIL(r.error().describe());
    return *r;
  }

  host::store::Database db;
  std::shared_ptr<host::registry::ProviderCatalog> catalog;
  std::unique_ptr<host::registry::Registry> registry;
  TempDir state{"gatehouse-inventory-demo"};
  TempDir script{"gatehouse-inventory-script"};
};

// Options that keep the tests quick: short backoff, small batches.
inline host::inventory::SyncOptions quick_options() {
  host::inventory::SyncOptions o;
  o.backoff_initial = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(50);
  o.max_attempts = 3;
  o.call_timeout = std::chrono::milliseconds(5000);
  o.batch_rows = 1000;
  return o;
}

}  // namespace gatehouse::test
