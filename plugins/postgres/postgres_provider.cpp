// The postgres provider: just-in-time membership in PostgreSQL group roles. A grant makes the subject's
// login a member of a role (GRANT role TO login), a revoke takes it away (REVOKE role FROM login); the
// loaders list the cluster's databases, roles and logins. README.md says what an operator needs to know.
//
// Every name in a request reaches SQL either as a query parameter (catalog lookups) or as an identifier
// quoted by libpq (GRANT, REVOKE, CREATE ROLE): a role called  x"; DROP TABLE t; --  is just a role name.
#include "catalog.hpp"
#include "connection.hpp"
#include "inventory.hpp"
#include "names.hpp"
#include "powers.hpp"
#include "privileges.hpp"

#include <gatehouse/sdk.hpp>

#include <pqxx/transaction>

#include <cstdint>
#include <memory>
#include <string>

namespace pgprovider {

using namespace gatehouse;  // this file is written against the SDK and the helpers beside it

namespace {

// "'postgres'", or what to say when the grantor role has been dropped since.
std::string grantor_text(const Membership& membership) {
  return membership.grantor.empty() ? "a role that no longer exists" : "'" + membership.grantor + "'";
}

std::int64_t integer_in(const Config& config, const std::string& field, std::int64_t min, std::int64_t max) {
  const std::int64_t value = config.integer(field);
  if (value < min || value > max)
    throw Error::invalid_argument("config field '" + field + "' is out of range", "/" + field);
  return value;
}

std::string checked_prefix(const Config& config) {
  std::string prefix = config.string("login_prefix");
  // An empty prefix is the default; a non-empty one must be usable inside a role name.
  if (!prefix.empty()) check_name(prefix, "login_prefix", "/login_prefix");
  return prefix;
}

// What one grant is about, every name checked.
struct Access {
  std::string database;
  std::string role;
  std::string login;
  // The membership existed before this grant and was made by someone else: revoke leaves it alone.
  bool pre_existing = false;
  std::string pre_existing_grantor;  // who made it, for the messages ("" when unknown)
  // PostgreSQL 16+: gatehouse's membership is a row of its own (GRANTED BY its login), so revoke removes only
  // that row and anyone else's survives, even one made while this grant was active.
  bool own_row = false;

  // The state the host keeps and hands back to revoke().
  std::string state() const {
    nlohmann::json state{{"database", database}, {"role", role}, {"login", login}, {"pre_existing", pre_existing}};
    if (!pre_existing_grantor.empty()) state["pre_existing_grantor"] = pre_existing_grantor;
    if (own_row) state["membership"] = "granted_by";
    return state.dump();
  }
  std::string describe() const { return "role '" + role + "' for login '" + login + "'"; }
};

}  // namespace

class PostgresProvider final : public Provider {
 public:
  explicit PostgresProvider(const Context& context)
      : log_(context.log),
        dsn_(context.config.string("dsn"),
             static_cast<int>(integer_in(context.config, "connect_timeout_seconds", 1, 300))),
        grantable_(context.config.string("grantable")),
        policy_(context.config.string("allow_predefined")),
        create_logins_(context.config.boolean("create_logins")),
        login_prefix_(checked_prefix(context.config)),
        page_size_(static_cast<std::size_t>(integer_in(context.config, "page_size", 1, 10000))) {
    // No connection here: a cluster that is down at start-up makes the handler unhealthy, with the reason,
    // rather than refusing a config that is fine.
  }

  static Schema schema() {
    const auto databases = DataField::string_list("Databases it may connect to").relation("Database");
    return Schema()
        .config("dsn", Field::string("libpq connection string (keyword=value or postgresql:// URI) of the admin "
                                     "login gatehouse acts as")
                           .required()
                           .secret())
        .config("grantable", Field::string("Regular expression (ECMAScript, matched anywhere: anchor it) of the role "
                                           "names that may be granted")
                                 .default_value("^app_"))
        .config("allow_predefined",
                Field::string("Predefined roles (pg_read_all_data, pg_write_all_data, pg_monitor, ...) that granted roles "
                              "may reach; comma-separated. Refused by default")
                    .default_value(""))
        .config("create_logins",
                Field::boolean("Create the subject's login role (LOGIN, no password) when it does not exist")
                    .default_value(false))
        .config("login_prefix",
                Field::string("Prepended to the subject to name its login role (\"\" = the subject itself)")
                    .default_value(""))
        .config("connect_timeout_seconds",
                Field::integer("Seconds to wait for a connection").default_value(5).minimum(1).maximum(300))
        .config("page_size", Field::integer("Resources per loader page").default_value(500).minimum(1).maximum(10000))
        .resource_type("Database", ResourceType("Database"))
        .resource_type("Role", ResourceType("Role")
                                   .data("databases", databases)
                                   .data("grantable", DataField::boolean("Grantable by this handler")))
        .resource_type("Login", ResourceType("Login role").data("databases", databases))
        .loader("fetch_databases", "Databases", {"Database"})
        .loader("fetch_roles", "Roles and logins", {"Role", "Login"})
        .target("DatabaseRole",
                TargetKind("Role in a database")
                    .description("Membership of the subject's login in a group role that may connect to the database")
                    .property("database", Property::string("Database").resource("Database"))
                    .property("role", Property::string("Role").resource("Role")));
  }

  GrantResult grant(const GrantRequest& request) override {
    Access access = requested(request.subject, request.target);
    if (!grantable_.allows(access.role)) {
      throw Error::invalid_argument(
          "role '" + access.role + "' does not match grantable '" + grantable_.pattern() + "'", "/target/role");
    }
    const auto session = open_session(dsn_, log_);
    try {
      pqxx::work txn(session->connection);
      lock_login(txn, access.login);
      check_role(txn, access);
      check_database(txn, access);
      check_can_grant(txn, access.role);
      const bool created = ensure_login(txn, access.login, request.subject);
      // 16+ keeps one membership row per grantor: gatehouse adds its own and later removes only that one.
      access.own_row = session->connection.server_version() >= 160000;
      const auto membership = find_membership(txn, access.role, access.login);
      if (membership && membership->granted_by_others) {
        access.pre_existing = true;
        access.pre_existing_grantor = membership->grantor;
      }
      const std::string grantor = membership ? grantor_text(*membership) : "";
      const std::string pre_note =
          access.pre_existing ? "pre_existing: the membership was granted by " + grantor + " before this grant" : "";
      if (membership && (!access.own_row || membership->granted_by_us)) {
        txn.commit();
        return GrantResult{access.state(),
                           access.pre_existing ? pre_note + "; revoke will leave it in place"
                                               : "already a member (granted by gatehouse)",
                           true};
      }
      txn.exec("GRANT " + txn.quote_name(access.role) + " TO " + txn.quote_name(access.login) +
               (access.own_row ? " GRANTED BY CURRENT_USER" : ""));
      txn.commit();
      log_.info("granted " + access.describe() + " (database '" + access.database + "', grant " + request.grant_id +
                (created ? ", login created)" : ")"));
      std::string note = created ? "login '" + access.login + "' created" : "";
      if (access.pre_existing) {
        note += (note.empty() ? "" : "; ") + pre_note +
                "; gatehouse added a membership of its own (GRANTED BY), and revoke removes only that one";
      }
      return GrantResult{access.state(), note, false};
    } catch (...) {
      rethrow_as_error(dsn_, "grant " + access.describe());
    }
  }

  RevokeResult revoke(const RevokeRequest& request) override {
    const Access access = granted(request);
    const auto session = open_session(dsn_, log_);
    try {
      pqxx::work txn(session->connection);
      lock_login(txn, access.login);
      const auto membership = find_membership(txn, access.role, access.login);
      if (!membership || (access.own_row && !membership->granted_by_us)) {
        txn.commit();
        if (membership) {
          return RevokeResult{"gatehouse's membership of login '" + access.login + "' in role '" + access.role +
                                  "' is gone; left the membership granted by " + grantor_text(*membership) + " in place",
                              true};
        }
        return RevokeResult{"login '" + access.login + "' is not a member of role '" + access.role + "'", true};
      }
      // PostgreSQL 15 and older: one row per role and member. Left alone only while it is still someone
      // else's: if gatehouse granted it since, it is ours to take. A GRANT by someone else made while this
      // grant was active does not show here (that row still names gatehouse): see README, "Version differences".
      if (!access.own_row && access.pre_existing && !membership->granted_by_us) {
        txn.commit();
        return RevokeResult{"left the membership granted by " + grantor_text(*membership) +
                                " in place (pre_existing: it existed before this grant, made outside gatehouse)",
                            false};
      }
      txn.exec("REVOKE " + txn.quote_name(access.role) + " FROM " + txn.quote_name(access.login) +
               (access.own_row ? " GRANTED BY CURRENT_USER" : ""));
      txn.commit();
      log_.info("revoked " + access.describe() + " (grant " + request.grant_id + ")");
      if (access.own_row && membership->granted_by_others) {
        return RevokeResult{"revoked gatehouse's membership of " + access.describe() +
                                "; left the membership granted by " + grantor_text(*membership) + " in place",
                            false};
      }
      return RevokeResult{"revoked " + access.describe(), false};
    } catch (...) {
      rethrow_as_error(dsn_, "revoke " + access.describe());
    }
  }

  LoadResult load(const LoadRequest& request) override {
    if (request.loader != "fetch_databases" && request.loader != "fetch_roles") {
      throw Error(Code::not_found, "the postgres provider has no loader named '" + request.loader + "'");
    }
    const auto session = open_session(dsn_, log_);
    try {
      // One snapshot per page; pages are consistent on their own and keyset tokens stitch them together.
      pqxx::read_transaction txn(session->connection);
      return request.loader == "fetch_databases" ? database_page(txn, request.page_token, page_size_)
                                                 : role_page(txn, grantable_, policy_, request.page_token, page_size_);
    } catch (...) {
      rethrow_as_error(dsn_, "load " + request.loader);
    }
  }

  Health check_health() override {
    try {
      const auto session = open_session(dsn_, log_);
      pqxx::read_transaction txn(session->connection);
      return check_privileges(txn, grantable_, policy_, create_logins_);
    } catch (...) {
      try {
        rethrow_as_error(dsn_, "cannot check privileges");
      } catch (const Error& e) {
        return Health::failing(e.what());
      }
    }
  }

 private:
  // The access a grant request asks for, every name checked before anything is sent to the server.
  Access requested(const std::string& subject, const Target& target) const {
    if (target.kind != "DatabaseRole") {
      throw Error::invalid_argument("target kind '" + target.kind + "' is not DatabaseRole", "/target/kind");
    }
    Access access;
    access.database = target.at("database");
    access.role = target.at("role");
    access.login = login_for(login_prefix_, subject);
    check_name(access.database, "database", "/target/database");
    check_name(access.role, "role", "/target/role");
    return access;
  }

  // What a grant gave, from the state it returned; from the request when the state is unreadable (a revoke
  // must still be possible, and login_prefix may have changed since the grant, so the state comes first).
  Access granted(const RevokeRequest& request) const {
    const auto state = nlohmann::json::parse(request.state, nullptr, /*allow_exceptions=*/false);
    const auto text = [&](const char* key) {
      return state.is_object() && state.contains(key) && state[key].is_string() ? state[key].get<std::string>() : "";
    };
    if (!text("role").empty() && !text("login").empty()) {
      Access access;
      access.database = text("database");
      access.role = text("role");
      access.login = text("login");
      access.pre_existing =
          state.contains("pre_existing") && state["pre_existing"].is_boolean() && state["pre_existing"].get<bool>();
      access.pre_existing_grantor = text("pre_existing_grantor");
      // Revoked as it was granted: a grant made on 15 is revoked the 15 way even after an upgrade to 16.
      access.own_row = text("membership") == "granted_by";
      check_name(access.role, "role", "/state");
      check_name(access.login, "login role", "/state");
      return access;
    }
    return requested(request.subject, request.target);
  }

  // The role exists, is a group role (NOLOGIN) and reaches no power gatehouse must not hand out. The refusal
  // names the chain of memberships that reaches the power, so the DBA sees which membership to undo.
  void check_role(pqxx::transaction_base& txn, const Access& access) const {
    const auto role = find_role(txn, access.role, policy_);
    if (!role) throw Error::invalid_argument("role '" + access.role + "' does not exist", "/target/role");
    if (role->can_login) {
      throw Error::invalid_argument(
          "role '" + access.role + "' is a login role; only group roles (NOLOGIN) are granted", "/target/role");
    }
    if (role->privileged_via.empty()) return;
    const bool predefined = PowerPolicy::is_optional_predefined(role->privileged_via);
    std::string message = "role '" + access.role + "' is not grantable: it carries " + role->privileges;
    if (!predefined && role->privileged_via != access.role) message += " (held by role '" + role->privileged_via + "')";
    if (role->chain.size() > 1) {
      std::string chain;
      for (const auto& name : role->chain) chain += (chain.empty() ? "" : " -> ") + name;
      message += " through role '" + role->chain[role->chain.size() - 2] + "' (" + chain + ")";
    }
    if (predefined) message += "; list " + role->privileged_via + " in allow_predefined to grant it anyway";
    throw Error::invalid_argument(message, "/target/role");
  }

  // The provider's login may grant the role. Checked before GRANT so that a role the health check reports as
  // unavailable (degraded) is refused with the same reason rather than the server's bare error.
  static void check_can_grant(pqxx::transaction_base& txn, const std::string& role) {
    if (can_grant(txn, role)) return;
    throw Error::permission_denied("the provider's login cannot grant role '" + role +
                                     "': it is not SUPERUSER and has no ADMIN OPTION on it (GRANT " +
                                     txn.quote_name(role) + " TO <the provider's login> WITH ADMIN OPTION)");
  }

  // The database exists and accepts connections, and the role may connect to it. CONNECT is not granted
  // here: a role that cannot reach the database is a setup mistake the operator should see, not paper over.
  static void check_database(pqxx::transaction_base& txn, const Access& access) {
    const auto database = find_database(txn, access.database);
    if (!database)
      throw Error::invalid_argument("database '" + access.database + "' does not exist", "/target/database");
    if (database->is_template || !database->allows_connections) {
      throw Error::invalid_argument("database '" + access.database + "' is a template or does not accept connections",
                                    "/target/database");
    }
    if (!can_connect(txn, access.role, access.database)) {
      throw Error::failed_precondition("role '" + access.role + "' has no CONNECT privilege on database '" +
                                       access.database + "' (GRANT CONNECT ON DATABASE ... TO the role first)");
    }
  }

  // The subject's login exists and can log in, or is created when create_logins is on. True when created.
  bool ensure_login(pqxx::transaction_base& txn, const std::string& login, const std::string& subject) const {
    if (const auto existing = find_role(txn, login, policy_)) {
      if (!existing->can_login) {
        // A group role as subject would pass the access on to all of its members.
        throw Error::invalid_argument("role '" + login + "' exists but is not a login role (NOLOGIN)", "/subject");
      }
      return false;
    }
    if (!create_logins_) {
      const std::string message = "login role '" + login + "' does not exist (create_logins is off)";
      throw Error(Code::not_found, message, {{"/subject", message}});
    }
    if (login.rfind("pg_", 0) == 0)
      throw Error::invalid_argument("role names starting with pg_ are reserved", "/subject");
    // No password: the login authenticates only by what pg_hba.conf allows without one (peer, cert, GSSAPI,
    // LDAP...); every power beyond LOGIN is spelled out as absent.
    txn.exec("CREATE ROLE " + txn.quote_name(login) +
             " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT");
    txn.exec("COMMENT ON ROLE " + txn.quote_name(login) + " IS " +
             txn.quote("created by gatehouse for subject " + subject));
    return true;
  }

  Logger log_;
  Dsn dsn_;  // secret: never in a message or a log line unredacted
  Grantable grantable_;
  PowerPolicy policy_;
  bool create_logins_;
  std::string login_prefix_;
  std::size_t page_size_;
};

}  // namespace pgprovider

GATEHOUSE_PROVIDER(pgprovider::PostgresProvider, "gatehouse", "postgres", "1.0.0")
