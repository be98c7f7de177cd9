// Shared set-up for the postgres provider's tests: the provider loaded as gatehoused loads it, the test
// process's private PostgreSQL cluster (tests/support/postgres_fixture.hpp) with the roles the tests grant,
// a superuser connection to look at pg_auth_members directly, and a capture of everything the provider logs.
#pragma once

#include "postgres_fixture.hpp"

#include <gatehouse/testing.hpp>

#include <catch2/catch.hpp>

#include <pqxx/nontransaction>
#include <pqxx/pqxx>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace pg_test {

using gatehouse::Code;
using gatehouse::Diagnostic;
using gatehouse::Target;
using gatehouse::testing::grant_request;
using gatehouse::testing::revoke_request;

// Goes into every dsn the tests hand the provider. The test cluster trusts local connections, so the
// password is ignored; it is there to be searched for in every message and log line, and never found.
inline const std::string kPasswordToken = "hunter2-5e7a1c9f";

inline const gatehouse::testing::ProviderUnderTest& pg_provider() {
  static const auto provider =
      gatehouse::testing::ProviderUnderTest::load(GATEHOUSE_BINARY_DIR "/plugins/postgres/postgres.so");
  return provider;
}

inline gatehouse::test::TestPostgres& cluster() { return gatehouse::test::TestPostgres::instance(); }

// Everything the host's logger receives (the provider's log lines arrive there), from the first call on.
class LogCapture {
 public:
  static LogCapture& instance() {
    static LogCapture capture;
    return capture;
  }
  std::string text() const {
    std::lock_guard lock(mutex_);
    return stream_->str();
  }

 private:
  LogCapture() : stream_(std::make_shared<std::ostringstream>()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  mutable std::mutex mutex_;
  std::shared_ptr<std::ostringstream> stream_;
};

// A superuser session on one database of the test cluster.
class Sql {
 public:
  explicit Sql(const std::string& connection_string) : connection_(connection_string) {}

  void exec(const std::string& statement) {
    pqxx::nontransaction txn(connection_);
    txn.exec(statement);
  }
  template <class... Args>
  pqxx::result query(const std::string& query, Args&&... args) {
    pqxx::nontransaction txn(connection_);
    return txn.exec_params(query, std::forward<Args>(args)...);
  }
  std::string quote_name(const std::string& name) { return connection_.quote_name(name); }

  bool role_exists(const std::string& role) {
    return !query("SELECT 1 FROM pg_roles WHERE rolname = $1", role).empty();
  }
  // A direct membership of `login` in `role`, as pg_auth_members records it.
  bool is_member(const std::string& role, const std::string& login) {
    return !query(
                "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = "
                "m.member "
                "WHERE r.rolname = $1 AND u.rolname = $2",
                role, login)
                .empty();
  }
  // Every membership of the cluster as "role <- member", to show that nothing else changed.
  std::set<std::string> memberships() {
    std::set<std::string> out;
    for (const auto& row : query("SELECT r.rolname || ' <- ' || u.rolname FROM pg_auth_members m "
                                 "JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member")) {
      out.insert(row[0].as<std::string>());
    }
    return out;
  }
  std::set<std::string> roles() {
    std::set<std::string> out;
    for (const auto& row : query("SELECT rolname FROM pg_roles")) out.insert(row[0].as<std::string>());
    return out;
  }
  void create_role(const std::string& name, const std::string& options = "NOLOGIN") {
    if (!role_exists(name)) exec("CREATE ROLE " + quote_name(name) + " " + options);
  }
  void drop_role(const std::string& name) { exec("DROP ROLE IF EXISTS " + quote_name(name)); }
  // Removes every membership `login` holds, so each test starts from none.
  void clear_memberships(const std::string& login) {
    for (const auto& row : query("SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                                 "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1",
                                 login)) {
      exec("REVOKE " + quote_name(row[0].as<std::string>()) + " FROM " + quote_name(login));
    }
  }

 private:
  pqxx::connection connection_;
};

// The cluster prepared for one test: a fresh database, the group roles the tests grant, a subject's login
// with no memberships, and provider configs pointing at it.
//   app_readers, app_writers  grantable (match ^app_), NOLOGIN
//   admin_secret              does not match ^app_
//   app_escalate              matches ^app_ but is a member of the superuser role root_like
//   app_creator               matches ^app_ but has CREATEROLE
//   alice@example.com         the subject's login (LOGIN)
struct Scenario {
  explicit Scenario(const std::string& hint)
      : database_dsn(cluster().fresh_database(hint)), database(database_of(database_dsn)), admin(database_dsn) {
    LogCapture::instance();  // capture from the first provider call on
    admin.create_role("app_readers");
    admin.create_role("app_writers");
    admin.create_role("admin_secret");
    admin.create_role("root_like", "NOLOGIN SUPERUSER");
    admin.create_role("app_escalate");
    admin.exec("GRANT root_like TO app_escalate");
    admin.create_role("app_creator", "NOLOGIN CREATEROLE");
    admin.create_role("alice@example.com", "LOGIN");
    admin.clear_memberships("alice@example.com");
  }

  // A dsn for `user` on this scenario's database, with the password token that must never leak.
  std::string dsn(const std::string& user = "postgres") const {
    return database_dsn + " user='" + user + "' password=" + kPasswordToken;
  }
  nlohmann::json config(const nlohmann::json& extra = nlohmann::json::object()) const {
    nlohmann::json config = {{"dsn", dsn()}};
    config.update(extra);
    return config;
  }
  Target target(const std::string& role) const {
    return Target{"DatabaseRole", {{"database", database}, {"role", role}}};
  }

  static std::string database_of(const std::string& dsn) {
    // The fixture's strings are libpq keyword/value pairs with quoted values: dbname='name_1'.
    const auto at = dsn.find("dbname='");
    REQUIRE(at != std::string::npos);
    const auto begin = at + 8;
    return dsn.substr(begin, dsn.find('\'', begin) - begin);
  }

  std::string database_dsn;
  std::string database;
  Sql admin;
};

inline bool has_path(const std::vector<Diagnostic>& diagnostics, const std::string& path) {
  for (const auto& d : diagnostics) {
    if (d.path == path) return true;
  }
  return false;
}

inline nlohmann::json parsed(const std::string& state) { return nlohmann::json::parse(state); }

}  // namespace pg_test
