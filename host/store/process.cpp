#include "store/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace gatehouse::host::store {
namespace {

constexpr std::size_t kMaxOutput = 64 * 1024;

Result<UnixUser> user_from_passwd(const passwd& pw) {
  UnixUser user;
  user.name = pw.pw_name;
  user.uid = pw.pw_uid;
  user.gid = pw.pw_gid;
  user.home = pw.pw_dir != nullptr ? pw.pw_dir : "/";
  int count = 16;
  for (int attempt = 0; attempt < 8; ++attempt) {
    user.groups.resize(static_cast<std::size_t>(count));
    int n = count;
    if (getgrouplist(user.name.c_str(), user.gid, user.groups.data(), &n) >= 0) {
      user.groups.resize(static_cast<std::size_t>(n));
      return user;
    }
    count = n > count ? n : count * 2;
  }
  return make_error(ErrorCode::user_lookup_failed, "cannot list the groups of user '" + user.name + "'");
}

// Exec environment: ours without PG* variables, with HOME of the user the child becomes.
std::vector<std::string> child_environment(const UnixUser* run_as) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (entry.rfind("PG", 0) == 0) continue;
    if (run_as != nullptr && (entry.rfind("HOME=", 0) == 0 || entry.rfind("USER=", 0) == 0 ||
                              entry.rfind("LOGNAME=", 0) == 0))
      continue;
    env.push_back(std::move(entry));
  }
  if (run_as != nullptr) {
    env.push_back("HOME=" + run_as->home);
    env.push_back("USER=" + run_as->name);
    env.push_back("LOGNAME=" + run_as->name);
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Only async-signal-safe calls from here on: the child of a possibly multi-threaded process.
void child_write(const char* text) {
  ssize_t ignored = write(2, text, std::strlen(text));
  (void)ignored;
}

void child_reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) sigaction(sig, &dfl, nullptr);
}

void child_close_other_fds(long max_fd) {
  if (close_range(3, ~0U, 0) == 0) return;
  for (long fd = 3; fd < max_fd; ++fd) close(static_cast<int>(fd));
}

bool child_become(const UnixUser& user) {
  if (setgroups(user.groups.size(), user.groups.data()) != 0) return false;
  if (setgid(user.gid) != 0) return false;
  if (setuid(user.uid) != 0) return false;
  return getuid() == user.uid && geteuid() == user.uid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void append_capped(std::string& out, const char* data, std::size_t n) {
  out.append(data, n);
  if (out.size() > 2 * kMaxOutput) out.erase(0, out.size() - kMaxOutput);
}

}  // namespace

std::string CommandOutcome::tail(std::size_t lines) const { return last_lines(output, lines); }

std::string last_lines(const std::string& output, std::size_t lines) {
  std::vector<std::string> kept;
  std::size_t end = output.size();
  while (end > 0 && kept.size() < lines) {
    std::size_t start = output.rfind('\n', end - 1);
    std::size_t from = start == std::string::npos ? 0 : start + 1;
    std::string line = output.substr(from, end - from);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) kept.insert(kept.begin(), line);
    if (start == std::string::npos) break;
    end = start;
  }
  std::string joined;
  for (const auto& line : kept) joined += (joined.empty() ? "" : "; ") + line;
  return joined.empty() ? std::string("(no output)") : joined;
}

Result<UnixUser> lookup_user(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr)
    return make_error(ErrorCode::user_not_found, "there is no user named '" + name + "' on this system");
  return user_from_passwd(pw);
}

Result<UnixUser> current_user() {
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = getpwuid_r(geteuid(), &pw, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr)
    return make_error(ErrorCode::user_not_found, "the user id " + std::to_string(geteuid()) + " of this process has no name");
  return user_from_passwd(pw);
}

Result<CommandOutcome> run_command(const std::vector<std::string>& argv, const UnixUser* run_as,
                                   std::chrono::milliseconds timeout) {
  if (argv.empty()) return make_error(ErrorCode::spawn_failed, "no program to run");
  std::vector<std::string> args = argv;
  std::vector<std::string> env = child_environment(run_as);
  std::vector<char*> c_args = c_strings(args);
  std::vector<char*> c_env = c_strings(env);
  const long max_fd = sysconf(_SC_OPEN_MAX) > 0 ? sysconf(_SC_OPEN_MAX) : 1024;

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return make_error(ErrorCode::spawn_failed, "cannot run " + argv[0] + ": pipe: " + std::strerror(errno));

  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return make_error(ErrorCode::spawn_failed, "cannot run " + argv[0] + ": fork: " + std::strerror(err));
  }
  if (pid == 0) {
    child_reset_signals();
    const int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0) _exit(126);
    child_close_other_fds(max_fd);
    if (run_as != nullptr && !child_become(*run_as)) {
      child_write("gatehouse: cannot switch to the PostgreSQL user\n");
      _exit(126);
    }
    // The caller's working directory may be closed to that user (/root); the tools take absolute paths.
    if (chdir("/") != 0) _exit(126);
    execve(c_args[0], c_args.data(), c_env.data());
    child_write("gatehouse: cannot execute the program\n");
    _exit(127);
  }

  close(fds[1]);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  CommandOutcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[4096];
  int status = 0;
  bool exited = false;
  bool lost = false;  // waitpid failed (SIGCHLD ignored by the host?): the exit status is unknown
  // Read until the child exits, not until end of file: a daemon it starts might keep the pipe open.
  while (!exited) {
    pollfd p{fds[0], POLLIN, 0};
    poll(&p, 1, 20);
    for (;;) {
      ssize_t n = read(fds[0], chunk, sizeof chunk);
      if (n <= 0) break;
      append_capped(outcome.output, chunk, static_cast<std::size_t>(n));
    }
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      exited = true;
    } else if (done < 0 && errno != EINTR) {
      lost = true;
      break;
    } else if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      outcome.timed_out = true;
      exited = true;
    }
  }
  for (;;) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    append_capped(outcome.output, chunk, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (outcome.output.size() > kMaxOutput) outcome.output.erase(0, outcome.output.size() - kMaxOutput);
  outcome.exit_code = lost ? -1 : exit_code_of(status);
  return outcome;
}

int access_errno_as(const UnixUser& user, const std::string& path) {
  const pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    if (!child_become(user)) _exit(EPERM);
    _exit(access(path.c_str(), R_OK | W_OK | X_OK) == 0 ? 0 : (errno & 0xff));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

}  // namespace gatehouse::host::store
