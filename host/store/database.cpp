#include "store/database.hpp"

#include <condition_variable>
#include <mutex>
#include <vector>

#include <pqxx/except>
#include <pqxx/nontransaction>

namespace gatehouse::host::store {
namespace detail {

struct Pool {
  std::string conninfo;
  DatabaseOptions options;
  std::mutex mutex;
  std::condition_variable freed;
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  std::size_t open = 0;  // idle plus leased
};

}  // namespace detail

namespace {

// libpq messages span lines ("could not connect…\n\tIs the server running…"): one line for a sentence.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// SQLSTATE classes that mean "no usable connection" rather than "statement refused".
bool unavailable_state(const std::string& state) {
  return state.rfind("08", 0) == 0 ||  // connection exception
         state == "57P01" ||           // admin_shutdown
         state == "57P02" ||           // crash_shutdown
         state == "57P03";             // cannot_connect_now (starting up, shutting down)
}

}  // namespace

std::string quote_identifier(pqxx::connection_base& conn, std::string_view name) {
  return conn.quote_name(std::string(name));
}

Error error_from_current_exception() {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return make_error(ErrorCode::database_unavailable, "the database connection is unavailable: " + one_line(e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return make_error(ErrorCode::database_unavailable,
                      "the database connection broke while committing, so the transaction may or may not have "
                      "been applied: " + one_line(e.what()));
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    const ErrorCode code = unavailable_state(state) ? ErrorCode::database_unavailable : ErrorCode::database_error;
    const std::string tag = state.empty() ? "" : " (SQLSTATE " + state + ")";
    Error error = make_error(code, "the database refused a statement" + tag + ": " + one_line(e.what()));
    error.sqlstate = state;
    return error;
  } catch (const pqxx::failure& e) {
    return make_error(ErrorCode::database_error, "the database call failed: " + one_line(e.what()));
  } catch (const pqxx::pqxx_exception& e) {
    return make_error(ErrorCode::database_error, "the database library reported an error: " + one_line(e.base().what()));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error, std::string("a database callback failed: ") + e.what());
  } catch (...) {
    return make_error(ErrorCode::internal_error, "a database callback threw a value that is not an exception");
  }
}

std::string sqlstate_of(const Error& error) {
  for (const Error* e = &error; e; e = e->cause.get())
    if (!e->sqlstate.empty()) return e->sqlstate;
  return "";
}

std::string conninfo(std::initializer_list<std::pair<std::string_view, std::string>> pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += ' ';
    out += key;
    out += "='";
    for (char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

// ---- ConnectionLease ----

ConnectionLease::ConnectionLease(std::shared_ptr<detail::Pool> pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(std::move(pool)), conn_(std::move(conn)) {}

ConnectionLease::ConnectionLease(ConnectionLease&& other) noexcept
    : pool_(std::move(other.pool_)), conn_(std::move(other.conn_)), discard_(other.discard_) {}

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
    conn_ = std::move(other.conn_);
    discard_ = other.discard_;
  }
  return *this;
}

ConnectionLease::~ConnectionLease() { release(); }

void ConnectionLease::release() noexcept {
  if (!pool_ || !conn_) return;
  std::unique_ptr<pqxx::connection> closing;
  {
    std::lock_guard lock(pool_->mutex);
    if (discard_ || !conn_->is_open()) {
      closing = std::move(conn_);
      --pool_->open;
    } else {
      pool_->idle.push_back(std::move(conn_));
    }
  }
  pool_->freed.notify_one();
  closing.reset();  // closes the socket outside the lock
  pool_.reset();
}

// ---- Database ----

Database::Database(std::string connection_string, DatabaseOptions options)
    : pool_(std::make_shared<detail::Pool>()) {
  pool_->conninfo = std::move(connection_string);
  if (options.max_connections == 0) options.max_connections = 1;
  pool_->options = options;
}

Database::~Database() = default;

const std::string& Database::connection_string() const { return pool_->conninfo; }

Result<ConnectionLease> Database::acquire() {
  {
    std::unique_lock lock(pool_->mutex);
    const auto deadline = std::chrono::steady_clock::now() + pool_->options.acquire_timeout;
    while (pool_->idle.empty() && pool_->open >= pool_->options.max_connections) {
      if (pool_->freed.wait_until(lock, deadline) == std::cv_status::timeout && pool_->idle.empty() &&
          pool_->open >= pool_->options.max_connections) {
        return make_error(ErrorCode::database_unavailable,
                          "no database connection became free within " +
                              std::to_string(pool_->options.acquire_timeout.count()) + " ms (all " +
                              std::to_string(pool_->options.max_connections) + " are in use)");
      }
    }
    if (!pool_->idle.empty()) {
      auto conn = std::move(pool_->idle.back());
      pool_->idle.pop_back();
      return ConnectionLease(pool_, std::move(conn));
    }
    ++pool_->open;  // reserve the slot, then connect without holding the lock
  }
  try {
    auto conn = std::make_unique<pqxx::connection>(pool_->conninfo);
    return ConnectionLease(pool_, std::move(conn));
  } catch (...) {
    {
      std::lock_guard lock(pool_->mutex);
      --pool_->open;
    }
    pool_->freed.notify_one();
    Error error = error_from_current_exception();
    // Whatever libpq disliked (unreachable server, bad option, refused login), no connection exists.
    std::string reason = error.message;
    const auto colon = reason.find(": ");
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    return make_error(ErrorCode::database_unavailable, "cannot connect to the database: " + reason);
  }
}

Result<void> Database::ping() {
  return with_connection([](pqxx::connection& conn) {
    pqxx::nontransaction query(conn);
    query.exec("SELECT 1");
  });
}

Result<bool> create_database_if_missing(Database& maintenance, std::string_view name) {
  return maintenance.with_connection([&](pqxx::connection& conn) -> bool {
    {
      pqxx::nontransaction query(conn);
      if (!query.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", std::string(name)).empty())
        return false;
    }
    try {
      // CREATE DATABASE cannot run inside a transaction block.
      pqxx::nontransaction create(conn);
      create.exec("CREATE DATABASE " + quote_identifier(conn, name));
      return true;
    } catch (const pqxx::sql_error& e) {
      // Someone created it between our check and our CREATE: it exists, which is all we wanted.
      if (e.sqlstate() == "42P04" || e.sqlstate() == "23505") return false;
      throw;
    }
  });
}

}  // namespace gatehouse::host::store
