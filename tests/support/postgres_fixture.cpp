#include "postgres_fixture.hpp"

#include "run_process.hpp"
#include "store/database.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <pqxx/nontransaction>

namespace gatehouse::test {
namespace fs = std::filesystem;
namespace store = host::store;

struct TestPostgres::State {
  std::mutex mutex;
  int counter = 0;
  std::unique_ptr<store::Database> maintenance;
};

namespace {

// Everything below runs in the watcher, a child forked from a possibly multi-threaded process: only
// async-signal-safe calls, on data prepared before fork().
long read_pid(const char* pid_file) {
  int fd = open(pid_file, O_RDONLY);
  if (fd < 0) return 0;
  char buf[32] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  long pid = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid = pid * 10 + (buf[i] - '0');
  return pid;
}

void sleep_ms(long ms) {
  timespec t{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, nullptr);
}

[[noreturn]] void watch(int fd, const char* pid_file, char* const rm_argv[]) {
  char byte;
  while (true) {
    ssize_t n = read(fd, &byte, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) break;  // the test process is gone
  }
  const long pid = read_pid(pid_file);
  if (pid > 0 && kill(static_cast<pid_t>(pid), SIGQUIT) == 0) {  // immediate shutdown
    for (int i = 0; i < 200 && kill(static_cast<pid_t>(pid), 0) == 0; ++i) sleep_ms(50);
    kill(static_cast<pid_t>(pid), SIGKILL);
  }
  const pid_t rm = fork();
  if (rm == 0) {
    execv(rm_argv[0], rm_argv);
    _exit(127);
  }
  if (rm > 0) waitpid(rm, nullptr, 0);
  _exit(0);
}

// Forks the watcher; returns the write end of its pipe, which this process holds until it exits.
int start_watcher(const std::string& root, const std::string& pid_file) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  std::string rm_path = "/bin/rm", flag = "-rf", target = root;
  char* rm_argv[] = {rm_path.data(), flag.data(), target.data(), nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();  // survive a Ctrl-C aimed at the test's process group
    close(fds[1]);
    // Hold nothing of the test's: a parent reading our stdout/stderr (ctest) must see them close.
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    if (dup2(fds[0], 3) != 3) _exit(1);
    close_range(4, ~0U, 0);
    watch(3, pid_file.c_str(), rm_argv);
  }
  close(fds[0]);
  if (pid < 0) {
    close(fds[1]);
    return -1;
  }
  // The watcher outlives us by design; nobody waits for it (init reaps it).
  return fds[1];
}

// Settings of every test cluster. Throwaway: skip initdb's fsyncs and commit without waiting for the disk.
// The server's fsync stays on; only a crash of the test server itself could lose the last commits.
store::EmbeddedPostgresOptions test_cluster_options(const fs::path& data_dir) {
  store::EmbeddedPostgresOptions options;
  options.data_dir = data_dir;
  options.database = "postgres";
  options.sync_initdb = false;
  options.settings = {{"synchronous_commit", "off"}};
  return options;
}

// The build tree holding this executable (the directory with CMakeCache.txt), or empty.
fs::path build_root() {
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (; !ec && !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
    if (fs::exists(dir / "CMakeCache.txt", ec)) return dir;
  return {};
}

std::string newest_postgres_major() {
  int newest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      newest = std::max(newest, std::stoi(name));
  }
  return newest > 0 ? std::to_string(newest) : std::string();
}

// A cleanly stopped cluster that test processes copy (cp -a, well under a second) instead of each running
// initdb (seconds on a busy machine). Made once per build tree and PostgreSQL major version, under a file
// lock so parallel test processes (ctest -j) agree. Empty when it cannot be made: callers fall back to initdb.
fs::path cluster_template() {
  const fs::path build = build_root();
  const std::string major = newest_postgres_major();
  if (build.empty() || major.empty()) return {};
  const fs::path dir = build / ("postgres-template-" + major);
  const int lock = open((dir.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) return {};
  flock(lock, LOCK_EX);
  std::error_code ec;
  if (!fs::exists(dir / "PG_VERSION", ec)) {
    const fs::path staging = dir.string() + ".staging";
    fs::remove_all(staging, ec);
    auto made = store::EmbeddedPostgres::start(test_cluster_options(staging));
    if (made.ok() && made.value()->stop().ok()) {
      fs::remove(staging / "postgresql.log", ec);
      fs::remove_all(dir, ec);
      fs::rename(staging, dir, ec);
    } else {
      fs::remove_all(staging, ec);
    }
  }
  flock(lock, LOCK_UN);
  close(lock);
  return fs::exists(dir / "PG_VERSION", ec) ? dir : fs::path();
}

std::string printable(const std::string& hint) {
  std::string out;
  for (char c : hint) {
    if (out.size() >= 40) break;
    out += (c >= 0x20 && c < 0x7f) ? c : '_';
  }
  return out.empty() ? std::string("test") : out;
}

}  // namespace

TestPostgres& TestPostgres::instance() {
  static TestPostgres postgres;
  return postgres;
}

TestPostgres::TestPostgres() : state_(std::make_unique<State>()) {
  std::string pattern = (fs::temp_directory_path() / "gatehouse-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  root_ = pattern;
  // mkdtemp makes it 0700 root; the cluster's user ("postgres" when tests run as root) must pass through.
  chmod(root_.c_str(), 0711);

  const fs::path data_dir = root_ + "/data";
  if (const fs::path from = cluster_template(); !from.empty()) {
    const auto copied = run_process({"/bin/cp", "-a", from.string(), data_dir.string()});
    std::error_code ignored;
    if (copied.exit_code != 0) fs::remove_all(data_dir, ignored);  // start() runs initdb instead
  }
  auto started = store::EmbeddedPostgres::start(test_cluster_options(data_dir));
  if (!started.ok()) {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
    throw std::runtime_error("cannot start the test PostgreSQL: " + started.error().describe());
  }
  cluster_ = std::move(started.value());
  watcher_pipe_ = start_watcher(root_, (cluster_->data_dir() / "postmaster.pid").string());
  state_->maintenance = std::make_unique<store::Database>(cluster_->connection_string_for("postgres"),
                                                          store::DatabaseOptions{2, std::chrono::seconds(30)});
}

TestPostgres::~TestPostgres() {
  state_->maintenance.reset();
  if (cluster_) (void)cluster_->stop();
  cluster_.reset();
  std::error_code ignored;
  fs::remove_all(root_, ignored);
  if (watcher_pipe_ >= 0) close(watcher_pipe_);  // the watcher finds nothing left to do
}

std::string TestPostgres::maintenance_connection_string() const { return cluster_->connection_string_for("postgres"); }

std::string TestPostgres::fresh_database(const std::string& name_hint) {
  std::string name;
  {
    std::lock_guard lock(state_->mutex);
    name = printable(name_hint) + "_" + std::to_string(++state_->counter);
  }
  auto created = state_->maintenance->with_connection([&](pqxx::connection& conn) {
    pqxx::nontransaction create(conn);
    create.exec("CREATE DATABASE " + store::quote_identifier(conn, name));
  });
  if (!created.ok()) throw std::runtime_error("cannot create test database " + name + ": " + created.error().describe());
  return cluster_->connection_string_for(name);
}

}  // namespace gatehouse::test
