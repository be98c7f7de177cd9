// Talking to the administered cluster: the admin connection string (a secret), one short-lived session per
// call, and the translation of libpqxx failures into gatehouse outcomes.
#pragma once

#include <gatehouse/sdk.hpp>

#include <pqxx/connection>
#include <pqxx/errorhandler>

#include <memory>
#include <string>
#include <vector>

namespace pgprovider {

// The `dsn` config field, parsed once by libpq. It carries a password more often than not, so it is never
// put into a message: redact() scrubs it (and its password) from any text that leaves the provider,
// because libpq and the server are free to quote connection details back.
class Dsn {
 public:
  // Throws invalid_argument naming "/dsn" (never its contents) when libpq cannot parse it.
  // `connect_timeout_seconds` replaces any connect_timeout of the string itself.
  Dsn(const std::string& dsn, int connect_timeout_seconds);

  // The connection string actually used: the parsed options re-quoted, plus connect_timeout and an
  // application_name (unless the dsn names one) so DBAs can tell gatehouse's sessions apart.
  const std::string& conninfo() const noexcept { return conninfo_; }

  // `text` with the dsn, the connection string and its passwords (password, sslpassword) replaced by
  // "[redacted]".
  std::string redact(std::string text) const;

 private:
  std::string conninfo_;
  std::vector<std::string> secrets_;  // longest first, so a password inside the dsn is still caught
};

// Server notices (WARNING, NOTICE) go to the host's log instead of libpq's default, stderr.
class NoticesToLog final : public pqxx::errorhandler {
 public:
  NoticesToLog(pqxx::connection_base& connection, const gatehouse::Logger& log, const Dsn& dsn)
      : pqxx::errorhandler(connection), log_(log), dsn_(dsn) {}
  bool operator()(const char message[]) noexcept override;

 private:
  gatehouse::Logger log_;
  const Dsn& dsn_;
};

// One connection for one call. Calls are rare (grants, revokes, a loader page, a health check) and a fresh
// session cannot be a stale one, so there is no pool to keep healthy.
struct Session {
  Session(const Dsn& dsn, const gatehouse::Logger& log);
  pqxx::connection connection;
  NoticesToLog notices;  // declared after the connection: unregistered before it closes
};

// Connects and applies the session settings (statement and lock timeouts, quiet notices).
// Throws gatehouse::Error: unavailable when the server cannot be reached, permission_denied when it
// refuses the login.
std::unique_ptr<Session> open_session(const Dsn& dsn, const gatehouse::Logger& log);

// Rethrows the exception being handled as a gatehouse::Error, redacted; `doing` starts the message
// ("grant app_readers to alice"). Call only inside a catch block.
//   connection lost / server shutting down / timeouts -> unavailable (retryable: the host fails over)
//   insufficient privilege                           -> permission_denied, with the server's message
//   serialization failure, deadlock                  -> aborted (retryable)
//   anything else from the server                    -> internal, with the server's message
[[noreturn]] void rethrow_as_error(const Dsn& dsn, const std::string& doing);

}  // namespace pgprovider
