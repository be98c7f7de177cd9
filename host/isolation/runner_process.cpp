#include "isolation/runner_process.hpp"

#include "isolation/exit_status.hpp"
#include "isolation/runner_environment.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>
#include <vector>

extern char** environ;

namespace gatehouse::host::isolation {
namespace {

// The descriptor number the runner receives its end of the socket on (`--fd 3`).
constexpr int kRunnerFd = 3;
constexpr std::size_t kInitialReadBuffer = 64 * 1024;

std::string errno_text(int error) { return std::error_code(error, std::system_category()).message(); }

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// Milliseconds left until `deadline` for poll(), rounded up so a sub-millisecond rest does not spin.
int poll_timeout(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// Waits, without reaping, until `pid` has exited or `deadline` passed. True when it exited (or was reaped by
// someone else, in which case nothing more can be learnt).
bool wait_exited(pid_t pid, int pidfd, Clock::time_point deadline) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0) {
      if (info.si_pid == pid) return true;
    } else if (errno != EINTR) {
      return true;  // ECHILD: not our child any more (SIGCHLD ignored by the host?)
    }
    const int timeout = poll_timeout(deadline);
    if (timeout == 0) return false;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      (void)poll(&p, 1, timeout);
    } else {
      ::usleep(static_cast<useconds_t>(std::min(timeout, 2) * 1000));
    }
  }
}

// Reaps `pid`; -1 when its status was collected elsewhere.
int collect(pid_t pid) {
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, 0) == pid) return status;
    if (errno != EINTR) return -1;
  }
}

std::string wait_text(int status) {
  return status == -1 ? "ended (its exit status was collected elsewhere)" : describe_wait_status(status);
}

struct Spawned {
  pid_t pid = -1;
  int fd = -1;
  int log_fd = -1;  // read end of its stderr
};

// Moves `fd` above the runner's socket descriptor (so dup2 onto 0–3 never meets itself); closes it on failure.
int moved_above_runner_fd(int fd) {
  if (fd > kRunnerFd) return fd;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, kRunnerFd + 1);
  const int error = errno;
  ::close(fd);
  errno = error;
  return moved;
}

// Reads what `fd` (non-blocking) holds into the relay, at most `limit` bytes. False at its end (EOF or error).
bool drain_log(int fd, RunnerLogRelay& relay, std::size_t limit) {
  char buffer[16 * 1024];
  std::size_t taken = 0;
  while (taken < limit) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      relay.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
      taken += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
  return true;
}

// What a runner may write to its stderr after it ended (grandchildren still running) that is still relayed.
constexpr std::size_t kLastWordsLimit = 1024 * 1024;

Result<Spawned> spawn(const RunnerCommand& command, const std::string& label) {
  const std::string runner = command.runner.string();
  auto refuse = [&](const std::string& why) {
    return make_error(ErrorCode::runner_unavailable, "could not start provider runner '" + runner + "' for " + label + ": " + why);
  };

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return refuse("socketpair: " + errno_text(errno));
  int child = sv[1];
  // dup2(3, 3) would keep FD_CLOEXEC: make sure the child's end is not already descriptor 3.
  if (child <= kRunnerFd) {
    const int moved = fcntl(child, F_DUPFD_CLOEXEC, kRunnerFd + 1);
    const int error = errno;
    ::close(child);
    if (moved < 0) {
      ::close(sv[0]);
      return refuse("fcntl: " + errno_text(error));
    }
    child = moved;
  }

  std::vector<std::string> args{runner, "--fd", std::to_string(kRunnerFd), "--provider", command.provider.string(),
                                "--threads", std::to_string(std::max(1u, command.threads))};
  if (command.memory_limit_bytes) {
    args.insert(args.end(), {"--memory-limit", std::to_string(*command.memory_limit_bytes)});
  }
  if (command.cpu_limit_seconds) args.insert(args.end(), {"--cpu-limit", std::to_string(*command.cpu_limit_seconds)});
  // Lines below the host's level would only be dropped by the relay: the runner need not write them.
  const auto level = spdlog::level::to_string_view(spdlog::default_logger()->level());
  args.insert(args.end(), {"--log-level", std::string(level.data(), level.size())});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Its stdout and stderr are a pipe the host reads: each line becomes a line of the host's log, in the host's
  // format and tagged with the handler (runner_log_relay.hpp), instead of raw text in the middle of it. The
  // provider's stray prints thus never reach the host's stdout (a CLI's output, say) either.
  int log_pipe[2];
  if (pipe2(log_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(sv[0]);
    ::close(child);
    return refuse("pipe: " + errno_text(error));
  }
  const int log_write = moved_above_runner_fd(log_pipe[1]);
  if (log_write < 0) {
    const int error = errno;
    ::close(sv[0]);
    ::close(child);
    ::close(log_pipe[0]);
    return refuse("fcntl: " + errno_text(error));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_write, 1);
  posix_spawn_file_actions_adddup2(&actions, log_write, 2);
  posix_spawn_file_actions_adddup2(&actions, child, kRunnerFd);
  // Nothing else of ours leaks into the runner (another runner's socket would hide that runner's death).
  posix_spawn_file_actions_addclosefrom_np(&actions, kRunnerFd + 1);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);  // the calling thread may block signals; the runner must not
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGALRM}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  // Its own process group: a Ctrl-C meant for the host does not kill the runners under its feet; the host
  // stops them itself, gracefully.
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  // Not our environment: it holds every handler's env: secrets (runner_environment.hpp).
  std::vector<std::string> environment = runner_environment(environ);
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, runner.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(child);
  ::close(log_write);
  if (rc != 0) {
    ::close(sv[0]);
    ::close(log_pipe[0]);
    return refuse(errno_text(rc));
  }
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  fcntl(log_pipe[0], F_SETFL, fcntl(log_pipe[0], F_GETFL) | O_NONBLOCK);
  return Spawned{pid, sv[0], log_pipe[0]};
}

}  // namespace

struct RunnerProcess::Pending {
  std::condition_variable cv;  // with RunnerProcess::mutex_
  bool done = false;
  bool waiting = false;  // its caller sleeps on cv (and may take over the reading duty)
  std::optional<std::string> payload;
  std::optional<Error> error;

  Result<std::string> take() {
    if (payload) return std::move(*payload);
    return std::move(*error);
  }
};

Result<std::unique_ptr<RunnerProcess>> RunnerProcess::start(const RunnerCommand& command, std::string label,
                                                           Clock::time_point deadline, ExitHandler on_exit) {
  auto spawned = spawn(command, label);
  if (!spawned) return spawned.take_error();
  const pid_t pid = spawned->pid;
  const int fd = spawned->fd;
  const int log_fd = spawned->log_fd;
  // A pidfd turns readable when the process ends, even if a grandchild still holds its socket. glibc 2.36's
  // <sys/pidfd.h> lacks extern "C", so call the system call directly. -1 before Linux 5.3: EOF alone then tells.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const std::string who = "provider runner '" + command.runner.string() + "' for " + label + " (pid " +
                          std::to_string(pid) + ")";

  // Before the watcher thread exists, failures clean up here: kill if asked, reap, close.
  auto fail = [&](ErrorCode code, std::string sentence, bool kill_it) -> Error {
    if (kill_it || !wait_exited(pid, pidfd, Clock::now() + command.grace)) ::kill(pid, SIGKILL);
    wait_exited(pid, pidfd, Clock::time_point::max());
    ::kill(-pid, SIGKILL);  // its process group, as in reap()
    const int status = collect(pid);
    RunnerLogRelay relay(command.handler_id, pid);  // what it said before it went (a failed setrlimit, say)
    (void)drain_log(log_fd, relay, kLastWordsLimit);
    relay.finish();
    ::close(fd);
    ::close(log_fd);
    if (pidfd >= 0) ::close(pidfd);
    if (sentence.empty()) sentence = who + " " + wait_text(status) + " before its handshake";
    return make_error(code, std::move(sentence));
  };

  std::string received;
  std::size_t newline = std::string::npos;
  while (newline == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, poll_timeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      return fail(ErrorCode::runner_start_failed, who + " wrote no handshake line within its start timeout", true);
    }
    char buffer[512];
    const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return fail(ErrorCode::runner_start_failed, "", false);
    received.append(buffer, static_cast<std::size_t>(n));
    newline = received.find('\n');
    if (newline == std::string::npos && received.size() > kMaxHandshakeLine) {
      return fail(ErrorCode::runner_handshake_failed, who + " wrote more than " + std::to_string(kMaxHandshakeLine) +
                                                 " bytes without a handshake line", true);
    }
  }
  auto handshake = parse_handshake(std::string_view(received).substr(0, newline), command.runner.string());
  if (!handshake) {
    Error e = handshake.take_error();
    return fail(e.code, e.message, true);
  }

  std::unique_ptr<RunnerProcess> process(
      new RunnerProcess(pid, fd, pidfd, log_fd, std::move(label), command.handler_id, command.grace));
  process->handshake_ = std::move(*handshake);
  process->on_exit_ = std::move(on_exit);
  const std::string rest = received.substr(newline + 1);  // nothing, unless the runner spoke out of turn
  process->buffer_.resize(std::max(kInitialReadBuffer, rest.size()));
  std::copy(rest.begin(), rest.end(), process->buffer_.begin());
  process->have_ = rest.size();
  process->watcher_ = std::thread([p = process.get()] { p->watch(); });
  return process;
}

RunnerProcess::RunnerProcess(pid_t pid, int fd, int pidfd, int log_fd, std::string label, std::string handler_id,
                             std::chrono::milliseconds grace)
    : pid_(pid),
      fd_(fd),
      pidfd_(pidfd),
      log_fd_(log_fd),
      relay_(std::move(handler_id), pid),
      label_(std::move(label)),
      grace_(grace) {}

RunnerProcess::~RunnerProcess() {
  if (watcher_.joinable()) {
    if (watcher_.get_id() == std::this_thread::get_id()) {
      watcher_.detach();  // destroyed from its own exit handler, which the ExitHandler contract forbids
    } else {
      shutdown();
    }
  }
  ::close(fd_);
  ::close(log_fd_);
  if (pidfd_ >= 0) ::close(pidfd_);
}

std::string RunnerProcess::who() const {
  return "provider runner for " + label_ + " (pid " + std::to_string(pid_) + ")";
}

std::optional<RunnerExit> RunnerProcess::exit_info() const {
  std::lock_guard lock(mutex_);
  return exit_;
}

void RunnerProcess::kill(const std::string& reason) {
  std::lock_guard lock(mutex_);
  kill_locked(reason);
}

void RunnerProcess::kill_locked(const std::string& reason) {
  if (reaped_) return;  // the pid may already name another process
  if (killed_because_.empty()) killed_because_ = reason;
  // The whole process group (the runner leads its own): whatever the provider started goes with it.
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
}

void RunnerProcess::shutdown() {
  if (!watcher_.joinable() || watcher_.get_id() == std::this_thread::get_id()) return;
  {
    std::unique_lock lock(mutex_);
    if (!exit_) {
      stop_requested_ = true;
      // EOF on the runner's side: it stops reading, lets running calls finish, destroys its instances, exits.
      ::shutdown(fd_, SHUT_WR);
      if (!exited_cv_.wait_for(lock, grace_, [&] { return exit_.has_value(); })) {
        kill_locked("it did not exit within " + ms_text(grace_) + " of being asked to stop");
      }
    }
  }
  watcher_.join();
}

bool RunnerProcess::send_frame(FrameKind kind, std::uint64_t request_id, std::uint64_t instance_id,
                               std::string_view payload, Clock::time_point deadline) {
  const EncodedHeader header = encode_header(kind, request_id, instance_id, payload.size());
  // One writer at a time, waiting no longer than the deadline (a runner that stopped reading blocks writers).
  {
    std::unique_lock lock(write_mutex_);
    if (!write_cv_.wait_until(lock, deadline, [&] { return !writing_; })) return false;
    writing_ = true;
  }
  struct Release {
    RunnerProcess& self;
    ~Release() {
      {
        std::lock_guard lock(self.write_mutex_);
        self.writing_ = false;
      }
      self.write_cv_.notify_one();
    }
  } release{*this};
  const auto outcome = send_frame_bytes(fd_, header, payload, [&] { return poll_timeout(deadline); });
  // peer_gone counts as sent: the runner is gone and the request fails with how it died.
  return outcome != SendOutcome::timed_out;
}

Result<std::string> RunnerProcess::request(FrameKind kind, std::uint64_t instance_id, std::string_view payload,
                                           std::chrono::milliseconds timeout) {
  return request_until(kind, instance_id, payload, Clock::now() + timeout, timeout);
}

Result<std::string> RunnerProcess::request_until(FrameKind kind, std::uint64_t instance_id, std::string_view payload,
                                                 Clock::time_point deadline, std::chrono::milliseconds timeout) {
  if (payload.size() > kMaxFramePayload) {
    return make_error(ErrorCode::request_too_large, "a request of " + std::to_string(payload.size()) +
                                               " bytes exceeds the runner frame limit of " +
                                               std::to_string(kMaxFramePayload) + " bytes");
  }
  const std::uint64_t id = next_request_.fetch_add(1, std::memory_order_relaxed);
  auto pending = std::make_shared<Pending>();
  {
    std::lock_guard lock(mutex_);
    if (exit_) return make_error(ErrorCode::transport_failed, exit_->sentence);
    pending_.emplace(id, pending);
  }
  const bool sent = send_frame(kind, id, instance_id, payload, deadline);

  std::unique_lock lock(mutex_);
  while (sent && !pending->done && Clock::now() < deadline) {
    if (!reading_ && !ending_ && !exit_) {
      // Nobody reads: this caller does, for everyone, until its own reply is in.
      reading_ = true;
      lock.unlock();
      const ReadOutcome outcome = read_some(deadline);
      if (outcome == ReadOutcome::ended) {
        end();  // completes every request, ours included
        lock.lock();
        continue;
      }
      lock.lock();
      reading_ = false;
      if (pending->done) hand_over_reading_locked();
      continue;
    }
    pending->waiting = true;
    pending->cv.wait_until(lock, deadline);
    pending->waiting = false;
  }
  if (pending->done) return pending->take();

  // The deadline passed. Unless the reply (or the runner's death) got there first, this request is ours to fail.
  if (pending_.erase(id) == 0) {
    pending->cv.wait(lock, [&] { return pending->done; });
    return pending->take();
  }
  hand_over_reading_locked();
  const std::string what = kind == FrameKind::invoke ? "a call" : "a " + std::string(frame_kind_name(kind)) + " request";
  kill_locked(what + " exceeded its " + ms_text(timeout) + " deadline");
  // As with a crash, the owner learns of the death before this caller does (SIGKILL is reaped in moments).
  exited_cv_.wait_for(lock, grace_, [&] { return exit_handled_; });
  return make_error(ErrorCode::deadline_exceeded,
                    who() + " did not answer " + what + " within " + ms_text(timeout) + "; the runner was killed");
}

void RunnerProcess::hand_over_reading_locked() {
  if (reading_ || ending_ || exit_) return;
  if (watcher_waiting_) {
    watcher_cv_.notify_one();  // the runner ended: its last words first
    return;
  }
  for (auto& [id, pending] : pending_) {
    if (pending->waiting && !pending->done) {
      pending->cv.notify_one();
      return;
    }
  }
}

RunnerProcess::ReadOutcome RunnerProcess::read_some(Clock::time_point deadline) {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
  const int ready = poll(fds, pidfd_ >= 0 ? 2 : 1, poll_timeout(deadline));
  if (ready == 0) return ReadOutcome::timeout;
  if (ready < 0) return errno == EINTR ? ReadOutcome::progress : ReadOutcome::ended;
  if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    const ssize_t n = recv(fd_, buffer_.data() + have_, buffer_.size() - have_, MSG_DONTWAIT);
    if (n > 0) {
      have_ += static_cast<std::size_t>(n);
      std::lock_guard lock(mutex_);
      return dispatch_locked() ? ReadOutcome::progress : ReadOutcome::ended;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return ReadOutcome::progress;
    return ReadOutcome::ended;  // EOF or a socket error: the runner is gone or going
  }
  // The process ended but something still holds its end of the socket.
  if (pidfd_ >= 0 && (fds[1].revents & POLLIN) != 0) return ReadOutcome::ended;
  return ReadOutcome::progress;
}

// Completes the requests whose replies are in the buffer and makes room for the next frame.
bool RunnerProcess::dispatch_locked() {
  std::size_t offset = 0;
  bool healthy = true;
  while (have_ - offset >= kFrameHeaderSize) {
    auto header = decode_header(buffer_.data() + offset);
    if (!header) {
      kill_locked("it broke the runner protocol: " + header.error().message);
      healthy = false;
      break;
    }
    const std::size_t size = kFrameHeaderSize + header->payload_size;
    if (have_ - offset < size) break;
    if (header->kind != FrameKind::reply_ok && header->kind != FrameKind::reply_error) {
      kill_locked("it broke the runner protocol: it sent a frame of kind " +
                  std::to_string(static_cast<unsigned>(header->kind)));
      healthy = false;
      break;
    }
    const std::string_view payload(buffer_.data() + offset + kFrameHeaderSize, header->payload_size);
    offset += size;
    auto it = pending_.find(header->request_id);
    if (it == pending_.end()) continue;  // its caller gave up (deadline): the runner is being killed anyway
    auto pending = std::move(it->second);
    pending_.erase(it);
    if (header->kind == FrameKind::reply_ok) {
      pending->payload.emplace(payload);
    } else {
      pending->error = decode_error(payload);
    }
    pending->done = true;
    pending->cv.notify_one();
  }
  if (offset > 0) {
    std::memmove(buffer_.data(), buffer_.data() + offset, have_ - offset);
    have_ -= offset;
  }
  if (healthy && have_ >= kFrameHeaderSize) {
    if (auto header = decode_header(buffer_.data())) {
      buffer_.resize(std::max(buffer_.size(), kFrameHeaderSize + header->payload_size));
    }
  }
  return healthy;
}

void RunnerProcess::end() {
  {
    std::lock_guard lock(mutex_);
    if (ending_ || exit_) {
      reading_ = false;
      return;
    }
    ending_ = true;
  }
  // Replies it sent before it ended still count.
  for (;;) {
    const ssize_t n = recv(fd_, buffer_.data() + have_, buffer_.size() - have_, MSG_DONTWAIT);
    if (n <= 0) break;
    have_ += static_cast<std::size_t>(n);
    std::lock_guard lock(mutex_);
    if (!dispatch_locked()) break;
  }
  reap();
}

bool RunnerProcess::relay_some() { return drain_log(log_fd_, relay_, 256 * 1024); }

void RunnerProcess::relay_rest() {
  (void)drain_log(log_fd_, relay_, kLastWordsLimit);
  relay_.finish();
}

void RunnerProcess::watch() {
  // Sleeps until the runner process ends (pidfd) or its end of the socket closes (the only sign without pidfd),
  // relaying its stderr meanwhile. poll() skips the entries whose descriptor is negative.
  pollfd fds[3] = {{fd_, POLLRDHUP, 0}, {pidfd_, POLLIN, 0}, {log_fd_, POLLIN, 0}};
  for (;;) {
    fds[0].revents = fds[1].revents = fds[2].revents = 0;
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0 && !relay_some()) fds[2].fd = -1;  // every writer closed it: nothing more to relay
    if (fds[0].revents != 0 || fds[1].revents != 0) break;
  }
  relay_rest();
  {
    std::unique_lock lock(mutex_);
    watcher_waiting_ = true;
    // A caller reading the socket sees the same end and deals with it; else the duty comes to us.
    watcher_cv_.wait(lock, [&] { return !reading_ || ending_ || exit_.has_value(); });
    watcher_waiting_ = false;
    if (ending_ || exit_) return;
    reading_ = true;
  }
  end();
}

void RunnerProcess::reap() {
  if (!wait_exited(pid_, pidfd_, Clock::now() + grace_)) {
    kill("it closed its socket but did not exit within " + ms_text(grace_));
    wait_exited(pid_, pidfd_, Clock::time_point::max());
  }
  {
    std::lock_guard lock(mutex_);
    // While the runner is an unreaped zombie its pid (= its process group id) cannot be reused: take down what
    // the provider left running in the group, so it cannot outlive the runner holding the runner's stderr.
    ::kill(-pid_, SIGKILL);
    reaped_ = true;  // from here on kill() leaves the pid alone
  }
  finish(collect(pid_));
}

void RunnerProcess::finish(int status) {
  RunnerExit exit;
  ExitHandler handler;
  {
    std::lock_guard lock(mutex_);
    exit.wait_status = status;
    exit.during_call = !pending_.empty();
    exit.requested = stop_requested_;
    exit.killed_because = killed_because_;
    exit.sentence = who() + " " + wait_text(status) + (exit.during_call ? " during a call" : " while idle");
    if (!exit.killed_because.empty()) exit.sentence += " (killed by the host: " + exit.killed_because + ")";
    exit_ = exit;
    reading_ = false;
    handler = std::move(on_exit_);
  }
  exited_cv_.notify_all();
  watcher_cv_.notify_all();
  // The owner hears of the death before any caller does: by the time a failed call returns, the handler is
  // already marked unhealthy and a retry is routed (or refused) accordingly.
  if (handler) handler(*this, exit);
  std::lock_guard lock(mutex_);
  exit_handled_ = true;
  for (auto& [id, pending] : pending_) {
    pending->error = make_error(ErrorCode::transport_failed, exit.sentence);
    pending->done = true;
    pending->cv.notify_one();
  }
  pending_.clear();
  exited_cv_.notify_all();
}

}  // namespace gatehouse::host::isolation
