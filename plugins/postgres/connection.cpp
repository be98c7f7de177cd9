#include "connection.hpp"

#include <libpq-fe.h>

#include <pqxx/except>
#include <pqxx/nontransaction>

#include <algorithm>
#include <initializer_list>
#include <map>

namespace pgprovider {

using gatehouse::Code;
using gatehouse::Error;

namespace {

// A libpq keyword/value pair with the value single-quoted and escaped as libpq requires.
std::string keyword_value(const std::string& keyword, const std::string& value) {
  std::string out = keyword + "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// A server or libpq message as one line: without the "ERROR:  " label (the status code already says it
// failed) and with libpq's continuation lines ("\n\tIs the server running...") joined. Spaces inside
// are kept: they may be part of a quoted name.
std::string tidy(std::string text) {
  for (const char* label : {"ERROR:", "FATAL:", "WARNING:", "NOTICE:"}) {
    if (text.rfind(label, 0) == 0) text.erase(0, std::string(label).size());
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') {
      out += text[i];
      continue;
    }
    while (i + 1 < text.size() && (text[i + 1] == '\t' || text[i + 1] == '\n' || text[i + 1] == '\r')) ++i;
    out += ' ';
  }
  const auto first = out.find_first_not_of(' ');
  const auto last = out.find_last_not_of(' ');
  return first == std::string::npos ? std::string() : out.substr(first, last - first + 1);
}

bool contains_any(const std::string& message, std::initializer_list<const char*> markers) {
  return std::any_of(markers.begin(), markers.end(),
                     [&](const char* marker) { return message.find(marker) != std::string::npos; });
}

// libpq reports refused logins (wrong password, no pg_hba.conf entry) with the same exception as an
// unreachable server; only the text tells them apart. A refused login will not fix itself, so it is not
// reported as transient.
bool refused_login(const std::string& message) {
  return contains_any(message, {"authentication failed", "no pg_hba.conf entry", "permission denied",
                                "password is required", "not permitted to log in"});
}

// libpqxx 6.4 throws a subclass for some SQLSTATE classes but then leaves sqlstate() empty, so the
// subclasses are matched first and the code is consulted for the rest.
Error from_sql_error(const pqxx::sql_error& e, const std::string& doing, const std::string& message) {
  const std::string text = doing + ": " + message;
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return Error::permission_denied(text);
  if (dynamic_cast<const pqxx::insufficient_resources*>(&e)) return Error::unavailable(text);
  if (dynamic_cast<const pqxx::data_exception*>(&e)) return Error::invalid_argument(text);

  const std::string& state = e.sqlstate();
  const auto starts = [&](const char* prefix) { return state.rfind(prefix, 0) == 0; };
  if (state == "42501") return Error::permission_denied(text);                // insufficient_privilege
  if (state == "42710") return Error(Code::aborted, text);                    // a concurrent CREATE ROLE
  if (state == "57014" || state == "55P03") return Error::unavailable(text);  // statement/lock timeout
  if (starts("08") || starts("53") || starts("57P")) {  // connection, resources, server shutting down
    return Error::unavailable(text);
  }
  if (state == "0LP01" || starts("22")) return Error::invalid_argument(text);  // invalid grant, bad data
  if (state == "42704") return Error::not_found(text);                         // undefined_object
  return Error::internal(text + (state.empty() ? "" : " (SQLSTATE " + state + ")"));
}

}  // namespace

Dsn::Dsn(const std::string& dsn, int connect_timeout_seconds) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    // libpq's reason quotes the offending part of the string, which may be the password: not repeated.
    if (error != nullptr) PQfreemem(error);
    throw Error::invalid_argument(
        "config field 'dsn' is not a valid libpq connection string "
        "(keyword=value pairs or a postgresql:// URI)",
        "/dsn");
  }
  std::map<std::string, std::string> values;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') values[o->keyword] = o->val;
  }
  PQconninfoFree(options);

  values["connect_timeout"] = std::to_string(connect_timeout_seconds);
  values.emplace("application_name", "gatehouse-postgres");
  for (const auto& [keyword, value] : values) {
    if (!conninfo_.empty()) conninfo_ += ' ';
    conninfo_ += keyword_value(keyword, value);
  }

  secrets_ = {dsn, conninfo_};
  for (const char* keyword : {"password", "sslpassword"}) {
    if (auto secret = values.find(keyword); secret != values.end()) secrets_.push_back(secret->second);
  }
  std::sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string Dsn::redact(std::string text) const {
  for (const auto& secret : secrets_) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[redacted]");
      at += 10;
    }
  }
  return text;
}

bool NoticesToLog::operator()(const char message[]) noexcept {
  try {
    log_.debug("server notice: " + tidy(dsn_.redact(message)));
  } catch (...) {  // a notice is never worth an exception escaping into libpq
  }
  return false;  // handled: nothing reaches stderr
}

Session::Session(const Dsn& dsn, const gatehouse::Logger& log)
    : connection(dsn.conninfo()), notices(connection, log, dsn) {}

std::unique_ptr<Session> open_session(const Dsn& dsn, const gatehouse::Logger& log) {
  try {
    auto session = std::make_unique<Session>(dsn, log);
    // A grant waits on catalog locks at most lock_timeout; no statement of ours should ever take long.
    // Both surface as unavailable, so the host retries instead of hanging on a busy cluster.
    pqxx::nontransaction setup(session->connection);
    setup.exec("SET statement_timeout = '30s'; SET lock_timeout = '10s'; SET client_min_messages = warning");
    return session;
  } catch (...) {
    rethrow_as_error(dsn, "cannot connect to PostgreSQL");
  }
}

void rethrow_as_error(const Dsn& dsn, const std::string& doing) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    const std::string message = tidy(dsn.redact(e.what()));
    if (refused_login(message)) throw Error::permission_denied(doing + ": " + message);
    // An unknown database or role in the dsn: the server answered, and only the operator can fix it.
    if (contains_any(message, {"does not exist"})) throw Error::failed_precondition(doing + ": " + message);
    throw Error::unavailable(doing + ": " + message);
  } catch (const pqxx::transaction_rollback& e) {
    // Serialization failure or deadlock: nothing happened, and trying again will likely work.
    throw Error(Code::aborted, doing + ": " + tidy(dsn.redact(e.what())));
  } catch (const pqxx::in_doubt_error&) {
    // The connection broke during COMMIT. Grant and revoke are idempotent, so asking again is safe.
    throw Error::unavailable(doing + ": the connection was lost while committing; the outcome is unknown");
  } catch (const pqxx::sql_error& e) {
    throw from_sql_error(e, doing, tidy(dsn.redact(e.what())));
  } catch (const std::exception& e) {
    throw Error::internal(doing + ": " + tidy(dsn.redact(e.what())));
  }
}

}  // namespace pgprovider
