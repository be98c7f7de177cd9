// The embedded default: a private cluster under a data directory, started, stopped, restarted after crashes.
#include "store/database.hpp"
#include "store/embedded_postgres.hpp"
#include "store_test_helpers.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include <pqxx/nontransaction>

using namespace gatehouse::host::store;
using gatehouse::host::Result;
using gatehouse::test::ClusterDir;
using gatehouse::test::contains;

namespace {

bool any_note(const EmbeddedPostgres& pg, const std::string& part) {
  for (const auto& note : pg.notes())
    if (contains(note, part)) return true;
  return false;
}

std::unique_ptr<EmbeddedPostgres> start_ok(const EmbeddedPostgresOptions& options) {
  auto pg = EmbeddedPostgres::start(options);
  if (!pg.ok()) FAIL(pg.error().code << ": " << pg.error().describe());
  return std::move(pg.value());
}

Result<std::string> query_text(Database& db, const std::string& sql) {
  return db.with_connection([&](pqxx::connection& conn) {
    pqxx::nontransaction q(conn);
    return q.exec(sql)[0][0].as<std::string>();
  });
}

// Alive and not a zombie: the postmaster's parent is init, which may be slow to reap it (containers).
bool alive(long pid) {
  if (kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] != 'Z';
}

// The processes whose parent is `pid` (a postmaster's backends and auxiliary processes).
std::vector<long> children_of(long pid) {
  std::vector<long> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(text.substr(paren + 1));
    std::string state;
    long parent = 0;
    if (fields >> state >> parent && parent == pid) children.push_back(std::stol(name));
  }
  return children;
}

// Waits for `pid` to be gone (or a zombie). The deadline only matters when the test is stuck.
void wait_until_gone(long pid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (alive(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  INFO("process " << pid << " still alive 60 s after it was killed");
  REQUIRE_FALSE(alive(pid));
}

}  // namespace

TEST_CASE("embedded cluster keeps its data across stop and start") {
  ClusterDir dir;
  EmbeddedPostgresOptions options;
  options.data_dir = dir.data();
  options.sync_initdb = false;  // throwaway cluster
  options.database = "inventory";
  options.settings = {{"shared_buffers", "16MB"}, {"application_name", "it's gatehouse"}};

  auto pg = start_ok(options);
  CHECK(pg->running());
  CHECK(any_note(*pg, "initialised a new PostgreSQL cluster"));
  CHECK(any_note(*pg, "created database inventory"));
  CHECK(contains(pg->connection_string(), "host='" + dir.data() + "/socket'"));
  CHECK(contains(pg->connection_string(), "dbname='inventory'"));
  CHECK(pg->postmaster_pid() > 0);
  {
    Database db(pg->connection_string());
    REQUIRE(db.ping().ok());
    // Socket only: no TCP listener, so nothing clashes with another cluster on this machine.
    CHECK(query_text(db, "SHOW listen_addresses").value().empty());
    CHECK(query_text(db, "SHOW fsync").value() == "on");
    CHECK(query_text(db, "SHOW shared_buffers").value() == "16MB");
    CHECK(query_text(db, "SHOW application_name").value() == "it's gatehouse");
    REQUIRE(db.with_transaction([](pqxx::work& txn) {
                txn.exec("CREATE TABLE survivors (name text)");
                txn.exec("INSERT INTO survivors VALUES ('kept')");
              }).ok());
  }
  REQUIRE(pg->stop().ok());
  CHECK_FALSE(pg->running());
  CHECK(pg->stop().ok());  // idempotent
  pg.reset();

  auto again = start_ok(options);
  CHECK_FALSE(any_note(*again, "initialised"));
  CHECK_FALSE(any_note(*again, "created database"));
  Database db(again->connection_string());
  CHECK(query_text(db, "SELECT name FROM survivors").value() == "kept");
}

TEST_CASE("embedded cluster starts again after its postmaster is killed") {
  ClusterDir dir;
  EmbeddedPostgresOptions options;
  options.data_dir = dir.data();
  options.sync_initdb = false;  // throwaway cluster
  auto pg = start_ok(options);
  const long pid = pg->postmaster_pid();
  {
    Database db(pg->connection_string());
    REQUIRE(db.with_transaction([](pqxx::work& txn) {
                txn.exec("CREATE TABLE committed (n int)");
                txn.exec("INSERT INTO committed VALUES (42)");
              }).ok());
    // Its backends outlive a SIGKILLed postmaster until they notice: one still serving the pooled connection
    // would answer the query below. They exit on their own; wait for that, not for a fixed time.
    const auto children = children_of(pid);
    REQUIRE(kill(static_cast<pid_t>(pid), SIGKILL) == 0);
    wait_until_gone(pid);
    for (const long child : children) wait_until_gone(child);
    // The pooled connection died with the server: an error value, not an exception.
    auto lost = query_text(db, "SELECT 1");
    REQUIRE_FALSE(lost.ok());
    CHECK(lost.error().code == "database_unavailable");
  }
  REQUIRE(pg->stop().ok());  // nothing left to stop: not an error
  pg.reset();

  auto again = start_ok(options);
  CHECK(any_note(*again, "did not shut down cleanly"));
  CHECK(again->postmaster_pid() != pid);
  Database db(again->connection_string());
  CHECK(query_text(db, "SELECT n::text FROM committed").value() == "42");
}

TEST_CASE("embedded cluster restarts a server left running by a crashed gatehouse") {
  ClusterDir dir;
  EmbeddedPostgresOptions options;
  options.data_dir = dir.data();
  options.sync_initdb = false;  // throwaway cluster
  auto first = start_ok(options);
  const long pid = first->postmaster_pid();
  first->release();  // like a gatehouse killed with -9: the postmaster keeps running
  first.reset();
  REQUIRE(alive(pid));

  auto second = start_ok(options);
  CHECK(any_note(*second, "left running by an earlier gatehouse"));
  CHECK(second->postmaster_pid() != pid);
  CHECK_FALSE(alive(pid));
  Database db(second->connection_string());
  CHECK(db.ping().ok());
}

TEST_CASE("embedded cluster clears a stale postmaster.pid naming an unrelated live process") {
  ClusterDir dir;
  EmbeddedPostgresOptions options;
  options.data_dir = dir.data();
  options.sync_initdb = false;  // throwaway cluster
  {
    auto pg = start_ok(options);
  }  // stopped cleanly: no postmaster.pid
  // A crash left the lock file behind and the pid now belongs to someone else (here: this test).
  std::ofstream(dir.data() + "/postmaster.pid") << getpid() << "\n" << dir.data() << "\n";

  auto pg = start_ok(options);
  Database db(pg->connection_string());
  CHECK(db.ping().ok());
  CHECK(pg->postmaster_pid() != getpid());
}

TEST_CASE("embedded cluster refuses unusable options with a sentence") {
  ClusterDir dir;
  EmbeddedPostgresOptions options;
  options.data_dir = dir.data();
  options.sync_initdb = false;  // throwaway cluster

  SECTION("a socket path longer than a unix socket allows") {
    options.data_dir = dir.path() + "/" + std::string(100, 'd');
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().code == "postgres_data_dir");
    CHECK(contains(pg.error().message, "longer than the 107 a unix socket allows; choose a shorter data directory"));
  }
  SECTION("fsync off") {
    options.settings = {{"fsync", "off"}};
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().code == "postgres_setting");
    CHECK(pg.error().message == "fsync must stay on: without it a crash can corrupt the embedded database");
  }
  SECTION("a setting gatehouse manages") {
    options.settings = {{"listen_addresses", "*"}};
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().message ==
          "the setting listen_addresses is managed by gatehouse for the embedded cluster and cannot be set");
  }
  SECTION("a path pg_ctl's shell would interpret") {
    options.data_dir = dir.path() + "/$HOME";
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().code == "postgres_data_dir");
    CHECK(contains(pg.error().message, "may not contain"));
  }
  SECTION("running the cluster as root") {
    if (geteuid() != 0) return;
    options.run_as_user = "root";
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().code == "postgres_run_as");
    CHECK(pg.error().message == "cannot run PostgreSQL as root: create an unprivileged user or set run_as");
  }
  SECTION("a user that does not exist") {
    options.run_as_user = "no-such-gatehouse-user";
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().code == "postgres_run_as");
    CHECK(contains(pg.error().message, "cannot run PostgreSQL as 'no-such-gatehouse-user'"));
  }
  SECTION("a data directory the cluster's user cannot reach") {
    if (geteuid() != 0) return;
    chmod(dir.path().c_str(), 0700);
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().code == "postgres_data_dir");
    CHECK(contains(pg.error().message, "user 'postgres' cannot reach it (Permission denied)"));
  }
  SECTION("a data directory that is a file") {
    std::ofstream(dir.data()) << "not a directory";
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().message == "cannot use " + dir.data() +
                                    " as the PostgreSQL data directory: it exists and is not a directory");
  }
  SECTION("initdb failing names the directory and says why") {
    // Not empty, no cluster, already owned by the cluster's user: initdb itself refuses.
    std::filesystem::create_directory(dir.data());
    std::ofstream(dir.data() + "/stray") << "x";
    if (geteuid() == 0) {
      auto user = getpwnam("postgres");
      REQUIRE(user != nullptr);
      REQUIRE(chown(dir.data().c_str(), user->pw_uid, user->pw_gid) == 0);
    }
    auto pg = EmbeddedPostgres::start(options);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.error().code == "postgres_initdb_failed");
    CHECK(contains(pg.error().message, "initdb failed for " + dir.data() + ": "));
    CHECK(contains(pg.error().message, "exists but is not empty"));
  }
}
