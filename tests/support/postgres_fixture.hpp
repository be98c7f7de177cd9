// A real PostgreSQL for tests: one private cluster per test process, started on first use under a fresh
// temp directory and stopped and deleted at process exit. It listens on a unix socket inside that directory
// only, so it never meets another cluster, and this fixture never touches a cluster it did not start.
// If the test process dies without running static destructors (crash, abort), a small watcher process
// shuts the cluster down (immediate) and deletes the directory.
// Speed: instead of running initdb (seconds on a busy machine) each process copies a cleanly stopped
// template cluster made once per build tree (<build>/postgres-template-<major>, under a file lock);
// without a build tree it runs initdb. Test clusters use initdb --no-sync and synchronous_commit=off
// (fsync stays on): a crash of the test server itself could lose the last commits, which no test needs.
#pragma once

#include "store/embedded_postgres.hpp"

#include <memory>
#include <string>

namespace gatehouse::test {

class TestPostgres {
 public:
  // The process's cluster, started on the first call (initdb + start, about 1-2 s).
  // Throws std::runtime_error with the store's message when it cannot start: tests only.
  static TestPostgres& instance();

  // Creates a new, empty database named after `name_hint` (made unique, quoted) and returns its libpq
  // connection string. Thread-safe.
  std::string fresh_database(const std::string& name_hint);

  // Connection string of the cluster's maintenance database ("postgres").
  std::string maintenance_connection_string() const;
  host::store::EmbeddedPostgres& cluster() { return *cluster_; }
  // The temp directory holding the data directory (removed at exit).
  const std::string& root() const { return root_; }

  TestPostgres(const TestPostgres&) = delete;
  TestPostgres& operator=(const TestPostgres&) = delete;
  ~TestPostgres();

 private:
  TestPostgres();
  struct State;
  std::string root_;
  std::unique_ptr<host::store::EmbeddedPostgres> cluster_;
  std::unique_ptr<State> state_;
  int watcher_pipe_ = -1;
};

}  // namespace gatehouse::test
