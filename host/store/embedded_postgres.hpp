// The embedded default: a private PostgreSQL cluster that gatehouse initialises (initdb) and runs (pg_ctl)
// under a data directory, using the PostgreSQL installed on the machine.
//
// - Unix socket only: listen_addresses='' and the socket in <data_dir>/socket (mode 0700), so no TCP port is
//   opened, nothing clashes with another cluster, and only the cluster's user (and root) can connect.
//   Authentication is "trust" for that reason. The port only names the socket file (.s.PGSQL.<port>).
// - As root, the cluster runs as an unprivileged user (initdb refuses root): "postgres" by default.
// - A postmaster left running by a crashed gatehouse is stopped (fast) and started again, so the cluster
//   always runs this binary's PostgreSQL and settings; a stale postmaster.pid whose process is gone (or is
//   not a postmaster of this directory) is cleared. See start() for the details.
// - fsync stays on: the store's durability promises depend on it.
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::host::store {

struct EmbeddedPostgresOptions {
  std::filesystem::path data_dir;  // the cluster's PGDATA; created when missing
  int port = 5432;                 // names the socket file only: no TCP listener
  // The user the cluster runs as. Unset: the current user, or "postgres" when running as root.
  std::optional<std::string> run_as_user;
  std::string database = "gatehouse";  // created when missing
  std::chrono::seconds start_timeout{60};
  // Extra server settings passed as -c name=value (e.g. shared_buffers, synchronous_commit).
  // listen_addresses, unix_socket_directories, unix_socket_permissions and port are managed here; fsync
  // cannot be turned off.
  std::map<std::string, std::string> settings;
  // Directory holding initdb, pg_ctl and postgres. Empty: the one of the data directory's major version, or
  // for a new cluster the newest /usr/lib/postgresql/*/bin.
  std::filesystem::path bin_dir;
  // false: initdb --no-sync, seconds faster on slow disks but a power loss right after initialisation
  // can leave a broken cluster. Only for throwaway clusters (tests); the daemon keeps the default.
  bool sync_initdb = true;
};

// Not thread-safe: one owner thread starts, stops and releases it (the daemon's main thread). The getters read
// values fixed by start() and may be called from any thread while nobody calls stop() or release().
class EmbeddedPostgres {
 public:
  // Prepares the data directory, runs initdb when it holds no cluster (no PG_VERSION), starts the server
  // with `pg_ctl -w start` and creates the database. Errors (codes): postgres_not_found, postgres_run_as,
  // postgres_data_dir, postgres_setting, postgres_initdb_failed, postgres_start_failed, and the database_*
  // codes of Database while creating the database; each message is one sentence naming the directory.
  static Result<std::unique_ptr<EmbeddedPostgres>> start(const EmbeddedPostgresOptions& options);

  // Stops the server (pg_ctl -m fast -w stop) unless stop() or release() was called.
  ~EmbeddedPostgres();
  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;

  // libpq keyword/value string for the database: host=<socket dir> port=<port> dbname=<db> user=postgres.
  std::string connection_string() const;
  // The same for another database of the cluster (e.g. "postgres" for CREATE DATABASE).
  std::string connection_string_for(const std::string& database) const;

  // pg_ctl -m fast -w stop. Idempotent; an Error (postgres_stop_failed) when pg_ctl fails.
  Result<void> stop();
  // Stop managing the server: it keeps running and the destructor leaves it alone (e.g. a process that
  // hands the cluster to its successor; tests simulating a crash).
  void release();

  bool running() const { return running_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& socket_dir() const { return socket_dir_; }
  const std::filesystem::path& log_file() const { return log_file_; }
  int port() const { return port_; }
  // The postmaster's process id (from postmaster.pid), 0 when not running.
  long postmaster_pid() const;
  // What start() had to do besides starting, in operator words (initialised a new cluster, cleared a
  // stale lock, restarted a leftover server…): for the daemon's log.
  const std::vector<std::string>& notes() const { return notes_; }

  struct Impl;  // opaque: the resolved user and program directory

 private:
  EmbeddedPostgres();
  std::unique_ptr<Impl> impl_;
  std::filesystem::path data_dir_;
  std::filesystem::path socket_dir_;
  std::filesystem::path log_file_;
  std::string database_;
  int port_ = 0;
  std::chrono::seconds timeout_{60};
  bool running_ = false;
  std::vector<std::string> notes_;
};

}  // namespace gatehouse::host::store
