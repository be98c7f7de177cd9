// The test harness itself: one cluster per process, fresh databases, nothing left behind after a crash.
#include "postgres_fixture.hpp"
#include "run_process.hpp"
#include "store/database.hpp"
#include "store_test_helpers.hpp"

#include <signal.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

using namespace gatehouse::host::store;
using gatehouse::test::TestPostgres;

TEST_CASE("TestPostgres gives each caller a new empty database") {
  auto& postgres = TestPostgres::instance();
  CHECK(&postgres == &TestPostgres::instance());  // one cluster per process
  const std::string a = postgres.fresh_database("same \"hint\"");
  const std::string b = postgres.fresh_database("same \"hint\"");
  CHECK(a != b);
  Database first(a), second(b);
  REQUIRE(first.with_transaction([](pqxx::work& txn) { txn.exec("CREATE TABLE only_in_a (x int)"); }).ok());
  auto tables = second.with_transaction([](pqxx::work& txn) {
    return txn.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0].as<int>();
  });
  REQUIRE(tables.ok());
  CHECK(tables.value() == 0);
}

TEST_CASE("a test process killed with -9 leaves no cluster behind") {
  const auto run = gatehouse::test::run_process({STORE_CRASH_HELPER}, {}, 120);
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 128 + SIGKILL);
  std::istringstream words(run.out);
  std::string root;
  long pid = 0;
  words >> root >> pid;
  REQUIRE_FALSE(root.empty());
  REQUIRE(pid > 0);

  // The watcher notices the pipe closing, shuts the server down and deletes the directory. The deadline only
  // matters when the watcher is stuck.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::error_code ec;
    const bool dir_gone = !std::filesystem::exists(root, ec);
    const bool server_gone = !std::filesystem::exists("/proc/" + std::to_string(pid) + "/cwd") ||
                             kill(static_cast<pid_t>(pid), 0) != 0;
    gone = dir_gone && server_gone;
  }
  INFO("cluster " << root << " (postmaster " << pid << ") still there 60 s after its test process was killed");
  CHECK(gone);
}
