// A PostgreSQL database reached through libpqxx: a connection string and a small thread-safe pool.
// libpqxx throws; nothing leaves this header's entry points as an exception: callbacks run inside
// with_connection()/with_transaction() and whatever they throw comes back as an Error value:
//   database_unavailable  no connection (refused, broken, server shutting down, commit outcome unknown)
//   database_error        the server refused a statement (the message carries "(SQLSTATE xxxxx)")
//   internal_error        the callback threw something that is not a database error
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// Callers write SQL through libpqxx inside the callbacks: give them all of it (6.4 API).
#include <pqxx/pqxx>

namespace gatehouse::host::store {

// `name` as a quoted SQL identifier (conn.quote_name): safe to splice into statements whatever it holds.
std::string quote_identifier(pqxx::connection_base& conn, std::string_view name);

// The Error for the exception being handled; call only inside a catch block.
Error error_from_current_exception();

// The SQLSTATE PostgreSQL gave for this error or its causes ("23505"), or "" when there is none.
std::string sqlstate_of(const Error& error);

// Work a caller adds to the transaction of a change it asks for, run after the change's own statements and just
// before the commit: the API's audit row (issue 14 item 2). If it throws, the change is rolled back with it, so
// a change whose audit row cannot be written does not happen. Empty: nothing is added.
using BeforeCommit = std::function<void(pqxx::work&)>;

// A libpq keyword/value string ("host='/x' dbname='y'") from pairs, each value quoted as libpq requires.
std::string conninfo(std::initializer_list<std::pair<std::string_view, std::string>> pairs);

struct DatabaseOptions {
  std::size_t max_connections = 8;                       // connections opened at most, all callers together
  std::chrono::milliseconds acquire_timeout{10'000};     // how long a caller waits for a free one
};

namespace detail {
struct Pool;
template <class T> struct as_result { using type = Result<T>; };
template <class T> struct as_result<Result<T>> { using type = Result<T>; };
template <class T> using as_result_t = typename as_result<std::decay_t<T>>::type;
template <class T> inline constexpr bool is_result_v = false;
template <class T> inline constexpr bool is_result_v<Result<T>> = true;
}  // namespace detail

// A pooled connection, returned to the pool when destroyed. Movable, not copyable.
// Not thread-safe: like any pqxx::connection, one thread uses it at a time (it may be moved to another thread).
// Returning it to the pool is thread-safe, and a lease may outlive its Database.
class ConnectionLease {
 public:
  ConnectionLease(ConnectionLease&& other) noexcept;
  ConnectionLease& operator=(ConnectionLease&& other) noexcept;
  ConnectionLease(const ConnectionLease&) = delete;
  ConnectionLease& operator=(const ConnectionLease&) = delete;
  ~ConnectionLease();

  pqxx::connection& operator*() const { return *conn_; }
  pqxx::connection* operator->() const { return conn_.get(); }
  // The connection is broken or in an unknown state: close it instead of returning it to the pool.
  void discard() { discard_ = true; }

 private:
  friend class Database;
  ConnectionLease(std::shared_ptr<detail::Pool> pool, std::unique_ptr<pqxx::connection> conn);
  void release() noexcept;

  std::shared_ptr<detail::Pool> pool_;
  std::unique_ptr<pqxx::connection> conn_;
  bool discard_ = false;
};

// One database. Thread-safe: any number of threads may call it at once. Connections open lazily.
class Database {
 public:
  explicit Database(std::string connection_string, DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& connection_string() const;

  // Opens (or reuses) a connection and runs SELECT 1.
  Result<void> ping();

  // A connection for the caller's exclusive use until the lease is destroyed.
  Result<ConnectionLease> acquire();

  // Runs fn(pqxx::connection&) on a pooled connection. fn may return void, a value T or a Result<T>;
  // the answer is a Result of that. Exceptions become Errors; a broken connection is not reused.
  template <class Fn>
  auto with_connection(Fn&& fn) -> detail::as_result_t<std::invoke_result_t<Fn&, pqxx::connection&>>;

  // Runs fn(pqxx::work&) in one transaction, committed when fn returns normally (or an ok Result) and
  // rolled back when it throws or returns an Error.
  template <class Fn>
  auto with_transaction(Fn&& fn) -> detail::as_result_t<std::invoke_result_t<Fn&, pqxx::work&>>;

 private:
  std::shared_ptr<detail::Pool> pool_;
};

// Creates database `name` unless it exists. True when this call created it. Safe against a concurrent
// creator (counts as existing). `maintenance` is a connection to another database, usually "postgres".
Result<bool> create_database_if_missing(Database& maintenance, std::string_view name);

// ---- templates ----

template <class Fn>
auto Database::with_connection(Fn&& fn) -> detail::as_result_t<std::invoke_result_t<Fn&, pqxx::connection&>> {
  using R = std::invoke_result_t<Fn&, pqxx::connection&>;
  using Out = detail::as_result_t<R>;
  auto lease = acquire();
  if (!lease.ok()) return Out(lease.take_error());
  try {
    if constexpr (std::is_void_v<R>) {
      fn(*lease.value());
      return Out();
    } else {
      return Out(fn(*lease.value()));
    }
  } catch (...) {
    Error error = error_from_current_exception();
    if (error.code == ErrorCode::database_unavailable) lease->discard();
    return Out(std::move(error));
  }
}

template <class Fn>
auto Database::with_transaction(Fn&& fn) -> detail::as_result_t<std::invoke_result_t<Fn&, pqxx::work&>> {
  using R = std::invoke_result_t<Fn&, pqxx::work&>;
  using Out = detail::as_result_t<R>;
  return with_connection([&fn](pqxx::connection& conn) -> Out {
    pqxx::work txn(conn);
    if constexpr (std::is_void_v<R>) {
      fn(txn);
      txn.commit();
      return Out();
    } else if constexpr (detail::is_result_v<std::decay_t<R>>) {
      Out result = fn(txn);
      if (result.ok()) txn.commit();
      return result;
    } else {
      Out result(fn(txn));
      txn.commit();
      return result;
    }
  });
}

}  // namespace gatehouse::host::store
