#include "store/embedded_postgres.hpp"

#include "store/database.hpp"
#include "store/process.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace gatehouse::host::store {
namespace fs = std::filesystem;

struct EmbeddedPostgres::Impl {
  std::optional<UnixUser> run_as;  // set when gatehouse runs as root and drops to this user
  fs::path bin_dir;
};

namespace {

using Clock = std::chrono::steady_clock;

// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;
constexpr auto kInitdbTimeout = std::chrono::minutes(5);
constexpr std::uintmax_t kRotateLogAbove = 10 * 1024 * 1024;
const char* const kPostgresRoot = "/usr/lib/postgresql";

const UnixUser* user_of(const EmbeddedPostgres::Impl& impl) { return impl.run_as ? &*impl.run_as : nullptr; }

Error data_dir_error(const fs::path& dir, const std::string& why) {
  return make_error(ErrorCode::postgres_data_dir, "cannot use " + dir.string() + " as the PostgreSQL data directory: " + why);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

long pid_in(const fs::path& pid_file) {
  try {
    return std::stol(first_line(pid_file));
  } catch (const std::exception&) {
    return 0;
  }
}

// "15" -> {15}, "9.6" -> {9, 6}; empty when the name is not a version.
std::vector<int> version_key(const std::string& name) {
  std::vector<int> key;
  std::stringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '.')) {
    if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return {};
    key.push_back(std::stoi(part));
  }
  return key;
}

bool has_tools(const fs::path& bin) {
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (access((bin / tool).c_str(), X_OK) != 0) return false;
  }
  return true;
}

Result<fs::path> find_bin_dir(const fs::path& requested, const fs::path& data_dir) {
  if (!requested.empty()) {
    if (has_tools(requested)) return requested;
    return make_error(ErrorCode::postgres_not_found, "PostgreSQL programs initdb, pg_ctl and postgres are not all in " +
                                                requested.string());
  }
  const fs::path version_file = data_dir / "PG_VERSION";
  std::error_code ec;
  if (fs::exists(version_file, ec)) {
    const std::string major = first_line(version_file);
    const fs::path bin = fs::path(kPostgresRoot) / major / "bin";
    if (!major.empty() && has_tools(bin)) return bin;
    return make_error(ErrorCode::postgres_not_found,
                      "the data directory " + data_dir.string() + " was initialised by PostgreSQL " + major +
                          ", which is not installed (no " + bin.string() +
                          "); install it, or upgrade the cluster with pg_upgrade");
  }
  std::vector<std::pair<std::vector<int>, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(kPostgresRoot, ec)) {
    auto key = version_key(entry.path().filename().string());
    if (!key.empty() && has_tools(entry.path() / "bin")) found.emplace_back(std::move(key), entry.path() / "bin");
  }
  if (found.empty())
    return make_error(ErrorCode::postgres_not_found,
                      std::string("PostgreSQL is not installed: no ") + kPostgresRoot +
                          "/<version>/bin holds initdb, pg_ctl and postgres; install the postgresql package or "
                          "give gatehouse a database URL");
  std::sort(found.begin(), found.end());
  return found.back().second;
}

Result<std::optional<UnixUser>> resolve_run_as(const EmbeddedPostgresOptions& options) {
  const std::string refuse_root = "cannot run PostgreSQL as root: create an unprivileged user or set run_as";
  if (geteuid() == 0) {
    std::string name = options.run_as_user.value_or("");
    if (name.empty()) {
      if (!lookup_user("postgres").ok()) return make_error(ErrorCode::postgres_run_as, refuse_root);
      name = "postgres";
    }
    auto user = lookup_user(name);
    if (!user.ok())
      return make_error(ErrorCode::postgres_run_as, "cannot run PostgreSQL as '" + name + "': there is no such user");
    if (user->uid == 0) return make_error(ErrorCode::postgres_run_as, refuse_root);
    return std::optional<UnixUser>(std::move(user.value()));
  }
  if (options.run_as_user && !options.run_as_user->empty()) {
    auto me = current_user();
    if (!me.ok() || me->name != *options.run_as_user)
      return make_error(ErrorCode::postgres_run_as, "cannot run PostgreSQL as '" + *options.run_as_user +
                                               "': gatehouse is not running as root, so it cannot switch users; "
                                               "leave run_as unset to use the current user");
  }
  return std::optional<UnixUser>();
}

// pg_ctl hands the data directory to /bin/sh inside double quotes, and the socket directory travels in a
// setting value: refuse the characters that would be interpreted there rather than escape them.
Result<void> check_path_characters(const fs::path& dir) {
  for (char c : dir.string()) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '$' || c == '`')
      return data_dir_error(dir, "the path may not contain control characters, '\"', '\\', '$' or '`'");
  }
  return {};
}

Result<void> check_settings(const std::map<std::string, std::string>& settings) {
  static const std::regex name_shape("^[a-z_][a-z0-9_.]*$");
  static const std::vector<std::string> managed = {
      "listen_addresses", "unix_socket_directories", "unix_socket_permissions", "unix_socket_group", "port",
      "data_directory",   "config_file",             "hba_file",                "ident_file"};
  for (const auto& [name, value] : settings) {
    if (!std::regex_match(name, name_shape))
      return make_error(ErrorCode::postgres_setting, "'" + name + "' is not a PostgreSQL setting name");
    if (std::find(managed.begin(), managed.end(), name) != managed.end())
      return make_error(ErrorCode::postgres_setting, "the setting " + name +
                                                " is managed by gatehouse for the embedded cluster and cannot be set");
    if (name == "fsync" && value != "on" && value != "true" && value != "yes" && value != "1")
      return make_error(ErrorCode::postgres_setting,
                        "fsync must stay on: without it a crash can corrupt the embedded database");
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20)
        return make_error(ErrorCode::postgres_setting, "the value of setting " + name + " contains a control character");
    }
  }
  return {};
}

// One word for /bin/sh (pg_ctl runs the -o text through it): single quotes, ' as '\''.
std::string shell_word(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Result<void> own_directory(const fs::path& dir, const UnixUser* user) {
  if (chmod(dir.c_str(), 0700) != 0) return data_dir_error(dir, std::string("chmod failed: ") + std::strerror(errno));
  if (user != nullptr && chown(dir.c_str(), user->uid, user->gid) != 0)
    return data_dir_error(dir, "cannot give it to user '" + user->name + "': " + std::strerror(errno));
  return {};
}

Result<void> prepare_data_dir(const fs::path& dir, const UnixUser* user, std::vector<std::string>& notes) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return data_dir_error(dir, "cannot create its parent: " + ec.message());
    fs::create_directory(dir, ec);
    if (ec) return data_dir_error(dir, "cannot create it: " + ec.message());
    if (auto owned = own_directory(dir, user); !owned.ok()) return owned;
    notes.push_back("created the PostgreSQL data directory " + dir.string());
  } else if (!fs::is_directory(dir, ec)) {
    return data_dir_error(dir, "it exists and is not a directory");
  } else if (user != nullptr && !fs::exists(dir / "PG_VERSION", ec)) {
    struct stat info {};
    if (stat(dir.c_str(), &info) != 0) return data_dir_error(dir, std::strerror(errno));
    if (info.st_uid != user->uid) {
      if (!fs::is_empty(dir, ec))
        return data_dir_error(dir, "it is not empty, holds no cluster and belongs to uid " +
                                       std::to_string(info.st_uid) + ", not to user '" + user->name + "'");
      if (auto owned = own_directory(dir, user); !owned.ok()) return owned;
    }
  }
  if (user != nullptr) {
    if (int err = access_errno_as(*user, dir.string()); err != 0)
      return data_dir_error(dir, "user '" + user->name + "' cannot reach it (" + std::strerror(err) +
                                     "); every parent directory must be searchable by that user");
  }
  return {};
}

Result<void> prepare_socket_dir(const fs::path& dir, const UnixUser* user) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directory(dir, ec);
    if (ec)
      return make_error(ErrorCode::postgres_data_dir, "cannot create the socket directory " + dir.string() + ": " + ec.message());
  } else if (!fs::is_directory(dir, ec)) {
    return make_error(ErrorCode::postgres_data_dir, "the socket path " + dir.string() + " exists and is not a directory");
  }
  if (chmod(dir.c_str(), 0700) != 0 || (user != nullptr && chown(dir.c_str(), user->uid, user->gid) != 0))
    return make_error(ErrorCode::postgres_data_dir,
                      "cannot set the owner and mode of the socket directory " + dir.string() + ": " + std::strerror(errno));
  return {};
}

// True when process `pid` runs with `dir` as its working directory, which every postmaster does (it
// chdir()s into its data directory). Guards against a stale postmaster.pid naming a reused pid.
bool is_postmaster_of(long pid, const fs::path& dir) {
  std::error_code ec;
  const fs::path cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  if (ec) return false;
  const fs::path canonical = fs::canonical(dir, ec);
  return !ec && cwd == canonical;
}

bool is_zombie(long pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

std::string log_since(const fs::path& log, std::uintmax_t offset) {
  std::string text = read_text(log);
  return offset < text.size() ? text.substr(offset) : std::string();
}

}  // namespace

EmbeddedPostgres::EmbeddedPostgres() : impl_(std::make_unique<Impl>()) {}

EmbeddedPostgres::~EmbeddedPostgres() {
  if (running_) (void)stop();
}

Result<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::start(const EmbeddedPostgresOptions& options) {
  // ---- checks that touch nothing ----
  if (options.data_dir.empty())
    return make_error(ErrorCode::postgres_data_dir, "no PostgreSQL data directory was given");
  std::error_code ec;
  const fs::path data_dir = fs::absolute(options.data_dir, ec).lexically_normal();
  if (ec) return data_dir_error(options.data_dir, ec.message());
  if (auto checked = check_path_characters(data_dir); !checked.ok()) return checked.take_error();
  if (options.port < 1 || options.port > 65535)
    return make_error(ErrorCode::postgres_setting, "the port " + std::to_string(options.port) + " is not between 1 and 65535");
  if (options.database.empty() || options.database.size() > 63 || options.database.find('\0') != std::string::npos)
    return make_error(ErrorCode::postgres_setting, "the database name must be 1 to 63 bytes long");
  if (auto checked = check_settings(options.settings); !checked.ok()) return checked.take_error();

  std::unique_ptr<EmbeddedPostgres> pg(new EmbeddedPostgres());
  pg->data_dir_ = data_dir;
  pg->socket_dir_ = data_dir / "socket";
  pg->log_file_ = data_dir / "postgresql.log";
  pg->database_ = options.database;
  pg->port_ = options.port;
  pg->timeout_ = options.start_timeout.count() > 0 ? options.start_timeout : std::chrono::seconds(60);

  const std::string socket_file = (pg->socket_dir_ / (".s.PGSQL." + std::to_string(options.port))).string();
  if (socket_file.size() > kMaxSocketPath)
    return data_dir_error(data_dir, "its socket path " + socket_file + " is " + std::to_string(socket_file.size()) +
                                        " bytes, longer than the " + std::to_string(kMaxSocketPath) +
                                        " a unix socket allows; choose a shorter data directory");

  auto run_as = resolve_run_as(options);
  if (!run_as.ok()) return run_as.take_error();
  pg->impl_->run_as = std::move(run_as.value());
  const UnixUser* user = user_of(*pg->impl_);

  // ---- the directory and the cluster in it ----
  if (auto prepared = prepare_data_dir(data_dir, user, pg->notes_); !prepared.ok()) return prepared.take_error();
  auto bin = find_bin_dir(options.bin_dir, data_dir);
  if (!bin.ok()) return bin.take_error();
  pg->impl_->bin_dir = bin.value();
  const std::string pg_ctl = (bin.value() / "pg_ctl").string();

  if (!fs::exists(data_dir / "PG_VERSION", ec)) {
    std::vector<std::string> argv = {(bin.value() / "initdb").string(), "-D", data_dir.string(), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"};
    if (!options.sync_initdb) argv.push_back("--no-sync");
    auto initdb = run_command(argv, user, kInitdbTimeout);
    if (!initdb.ok()) return initdb.take_error();
    if (initdb->exit_code != 0)
      return make_error(ErrorCode::postgres_initdb_failed, "initdb failed for " + data_dir.string() + ": " +
                                                      (initdb->timed_out ? "timed out; " : "") + initdb->tail());
    pg->notes_.push_back("initialised a new PostgreSQL cluster in " + data_dir.string() + " with " +
                         bin.value().string());
  }
  if (auto prepared = prepare_socket_dir(pg->socket_dir_, user); !prepared.ok()) return prepared.take_error();

  // ---- a server from an earlier run ----
  const fs::path pid_file = data_dir / "postmaster.pid";
  const auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(pg->timeout_) + std::chrono::seconds(10);
  const std::string timeout_s = std::to_string(pg->timeout_.count());
  if (fs::exists(pid_file, ec)) {
    const long old_pid = pid_in(pid_file);
    auto status = run_command({pg_ctl, "status", "-D", data_dir.string()}, user, std::chrono::seconds(30));
    if (!status.ok()) return status.take_error();
    if (status->exit_code == 0 && old_pid > 0 && is_postmaster_of(old_pid, data_dir)) {
      // Left running by a gatehouse that crashed (or was killed). Restart it rather than adopt it: the
      // server then runs this binary's PostgreSQL and this process's settings, and its state is known.
      auto stopped = run_command({pg_ctl, "stop", "-D", data_dir.string(), "-m", "fast", "-w", "-t", timeout_s}, user,
                                 timeout_ms);
      if (!stopped.ok()) return stopped.take_error();
      if (stopped->exit_code != 0)
        return make_error(ErrorCode::postgres_start_failed, "the PostgreSQL server (pid " + std::to_string(old_pid) +
                                                       ") left running on " + data_dir.string() +
                                                       " did not stop: " + stopped->tail());
      pg->notes_.push_back("stopped the PostgreSQL server (pid " + std::to_string(old_pid) +
                           ") left running by an earlier gatehouse, to start it with this process's settings");
    } else if (status->exit_code == 0) {
      // The pid exists but is no postmaster of this directory: a killed server not yet reaped (a zombie:
      // init can be slow in containers) or a number reused after a crash. PostgreSQL would take either for
      // a live server and refuse to start, so the lock file goes.
      fs::remove(pid_file, ec);
      if (is_zombie(old_pid))
        pg->notes_.push_back("the PostgreSQL server (pid " + std::to_string(old_pid) +
                             ") did not shut down cleanly last time; it recovers from its write-ahead log on start");
      else
        pg->notes_.push_back("removed a stale postmaster.pid naming process " + std::to_string(old_pid) +
                             ", which is not a PostgreSQL server of this directory");
    } else {
      pg->notes_.push_back("the PostgreSQL server (pid " + std::to_string(old_pid) +
                           ") did not shut down cleanly last time; it recovers from its write-ahead log on start");
    }
  }

  // ---- start ----
  if (fs::exists(pg->log_file_, ec) && fs::file_size(pg->log_file_, ec) > kRotateLogAbove)
    fs::rename(pg->log_file_, fs::path(pg->log_file_.string() + ".1"), ec);
  std::string server_options = "-p " + std::to_string(options.port);
  server_options += " -c " + shell_word("listen_addresses=");
  server_options += " -c " + shell_word("unix_socket_directories=\"" + pg->socket_dir_.string() + "\"");
  server_options += " -c " + shell_word("unix_socket_permissions=0700");
  for (const auto& [name, value] : options.settings) server_options += " -c " + shell_word(name + "=" + value);

  const auto deadline = Clock::now() + pg->timeout_;
  for (;;) {
    const auto remaining = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now());
    const std::string wait_s = std::to_string(std::max<long>(1, static_cast<long>(remaining.count())));
    const std::uintmax_t log_offset = fs::exists(pg->log_file_, ec) ? fs::file_size(pg->log_file_, ec) : 0;
    auto started = run_command({pg_ctl, "start", "-D", data_dir.string(), "-l", pg->log_file_.string(), "-w", "-t",
                                wait_s, "-o", server_options},
                               user, remaining + std::chrono::seconds(10));
    if (!started.ok()) return started.take_error();
    if (started->exit_code == 0) break;

    const std::string log = log_since(pg->log_file_, log_offset);
    // After a kill -9 the old server's children may still hold its shared memory for a moment.
    const bool transient = log.find("pre-existing shared memory block") != std::string::npos ||
                           (log.find("lock file") != std::string::npos && log.find("already exists") != std::string::npos);
    if (transient && Clock::now() + std::chrono::milliseconds(250) < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    // pg_ctl gives up after -t seconds but the server may still be coming up: do not leave it behind.
    const long pid = pid_in(pid_file);
    if (pid > 0 && is_postmaster_of(pid, data_dir))
      (void)run_command({pg_ctl, "stop", "-D", data_dir.string(), "-m", "fast", "-w"}, user, timeout_ms);
    const std::string why = log.empty() ? started->tail() : last_lines(log, 5);
    return make_error(ErrorCode::postgres_start_failed, "PostgreSQL did not start for " + data_dir.string() + ": " + why +
                                                   " (log: " + pg->log_file_.string() + ")");
  }
  pg->running_ = true;

  // ---- the database (the server is stopped again by pg's destructor when this fails) ----
  if (options.database != "postgres") {
    Database maintenance(pg->connection_string_for("postgres"), DatabaseOptions{1, std::chrono::seconds(30)});
    auto created = create_database_if_missing(maintenance, options.database);
    if (!created.ok()) return created.take_error();
    if (created.value()) pg->notes_.push_back("created database " + options.database);
  }
  return pg;
}

std::string EmbeddedPostgres::connection_string() const { return connection_string_for(database_); }

std::string EmbeddedPostgres::connection_string_for(const std::string& database) const {
  return conninfo({{"host", socket_dir_.string()}, {"port", std::to_string(port_)}, {"dbname", database},
                   {"user", "postgres"}});
}

long EmbeddedPostgres::postmaster_pid() const { return running_ ? pid_in(data_dir_ / "postmaster.pid") : 0; }

Result<void> EmbeddedPostgres::stop() {
  if (!running_) return {};
  const UnixUser* user = user_of(*impl_);
  const std::string pg_ctl = (impl_->bin_dir / "pg_ctl").string();
  auto stopped = run_command({pg_ctl, "stop", "-D", data_dir_.string(), "-m", "fast", "-w", "-t",
                              std::to_string(timeout_.count())},
                             user, std::chrono::duration_cast<std::chrono::milliseconds>(timeout_) + std::chrono::seconds(10));
  if (!stopped.ok()) return stopped.take_error();
  if (stopped->exit_code != 0) {
    // Already gone (killed, crashed): nothing is running, which is what stop() is for.
    auto status = run_command({pg_ctl, "status", "-D", data_dir_.string()}, user, std::chrono::seconds(30));
    if (!status.ok() || status->exit_code != 3)
      return make_error(ErrorCode::postgres_stop_failed,
                        "PostgreSQL did not stop for " + data_dir_.string() + ": " + stopped->tail());
  }
  running_ = false;
  return {};
}

void EmbeddedPostgres::release() { running_ = false; }

}  // namespace gatehouse::host::store
