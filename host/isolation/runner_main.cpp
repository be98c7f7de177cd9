// gatehouse-provider-runner: loads ONE provider shared object in this process and serves it to the gatehouse
// host over an inherited socket (isolation mode). The host starts it; a person running it by hand gets the
// usage and exit status 2 instead of a process waiting forever for frames that never come.
#include "isolation/runner_server.hpp"
#include "isolation/wire.hpp"
#include "loader/dll_loader.hpp"
#include "logging/log_sinks.hpp"

#include <gatehouse/abi.h>
#include <gatehouse/version.h>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace gatehouse::host;

constexpr int kUsageExit = 2;
constexpr int kSetupExit = 3;
// After the host went away, how long running calls get before the runner exits regardless.
constexpr auto kOrphanGrace = std::chrono::seconds(10);

void usage(std::FILE* out) {
  std::fprintf(out,
               "gatehouse-provider-runner %s (runner protocol %u, provider ABI %d.%d)\n"
               "\n"
               "Runs ONE gatehouse provider (.so) in its own process for the gatehouse host (isolation mode),\n"
               "serving length-prefixed frames over a socket the host passes in. It is started by gatehoused and\n"
               "the gatehouse CLI, not by hand.\n"
               "\n"
               "usage: gatehouse-provider-runner --fd N --provider PATH [--threads N]\n"
               "                                 [--memory-limit BYTES] [--cpu-limit SECONDS]\n"
               "                                 [--log-level LEVEL]\n"
               "       gatehouse-provider-runner --version | --help\n"
               "\n"
               "  --fd N               inherited socket to serve (the host passes 3)\n"
               "  --provider PATH      provider shared object to load\n"
               "  --threads N          calls served at once (default 8)\n"
               "  --memory-limit BYTES address-space limit (RLIMIT_AS) set before loading the provider\n"
               "  --cpu-limit SECONDS  CPU-time limit (RLIMIT_CPU) set before loading the provider\n"
               "  --log-level LEVEL    trace, debug, info (default), warn, error, critical, off\n"
               "\n"
               "Its log (and the provider's log calls) goes to stderr as JSON lines, which the host relays\n"
               "into its own log in its own format.\n",
               GATEHOUSE_FRAMEWORK_VERSION, isolation::kRunnerProtocolVersion, GATEHOUSE_ABI_MAJOR,
               GATEHOUSE_ABI_MINOR);
}

// Parses a whole decimal number into `out`; false when `text` is not one.
bool number(std::string_view text, std::uint64_t& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

struct Arguments {
  std::optional<int> fd;
  std::string provider;
  unsigned threads = 8;
  std::optional<std::uint64_t> memory_limit;
  std::optional<std::uint64_t> cpu_limit;
  spdlog::level::level_enum log_level = spdlog::level::info;
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool set_limit(int resource, rlim_t soft, rlim_t hard, const char* what) {
  const rlimit limit{soft, hard};
  if (::setrlimit(resource, &limit) == 0) return true;
  std::fprintf(stderr, "gatehouse-provider-runner: cannot set the %s limit: %s\n", what, std::strerror(errno));
  return false;
}

// The host normally closes the socket and waits for us; if it vanished while calls hang, do not linger.
void watch_for_orphaning(int fd) {
  std::thread([fd] {
    pollfd p{fd, POLLRDHUP, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    std::this_thread::sleep_for(kOrphanGrace);
    std::_Exit(0);
  }).detach();
}

}  // namespace

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer builds only: a runner that its provider crashes must die by that signal, as it does in
// production (the host reports "died with signal 11"); its environment is minimal, so TSAN_OPTIONS cannot say so.
extern "C" const char* __tsan_default_options() {
  return "handle_segv=0 handle_sigbus=0 handle_abort=0 handle_sigill=0 handle_sigfpe=0";
}
#endif

int main(int argc, char** argv) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
    if (a == "--version") {
      std::fputs(isolation::handshake_line().c_str(), stdout);
      return 0;
    }
    const std::optional<std::string_view> v = value();
    std::uint64_t n = 0;
    const bool numeric = v && number(*v, n);
    if (a == "--provider" && v) {
      args.provider = std::string(*v);
    } else if (a == "--fd" && numeric && n <= 1'000'000) {
      args.fd = static_cast<int>(n);
    } else if (a == "--threads" && numeric && n >= 1 && n <= 1024) {
      args.threads = static_cast<unsigned>(n);
    } else if (a == "--memory-limit" && numeric) {
      args.memory_limit = n;
    } else if (a == "--cpu-limit" && numeric) {
      args.cpu_limit = n;
    } else if (a == "--log-level" && v && (*v == "off" || spdlog::level::from_str(std::string(*v)) != spdlog::level::off)) {
      args.log_level = spdlog::level::from_str(std::string(*v));
    } else {
      std::fprintf(stderr, "gatehouse-provider-runner: bad argument '%.*s'\n\n", static_cast<int>(a.size()), a.data());
      usage(stderr);
      return kUsageExit;
    }
  }
  if (!args.fd || args.provider.empty()) {
    // Run by hand (no socket from a host): say what this is rather than wait for frames forever.
    usage(stdout);
    return kUsageExit;
  }
  const int fd = *args.fd;
  if (::fcntl(fd, F_GETFD) < 0) {
    std::fprintf(stderr, "gatehouse-provider-runner: --fd %d is not an open descriptor\n", fd);
    return kUsageExit;
  }

  // Logs (ours and the provider's, through the host API, with "handler" and "source" fields) go to stderr as
  // JSON lines: stderr is a pipe the host reads and relays into its own log, in its own format
  // (isolation/runner_log_relay.hpp). Whatever else lands on stderr is relayed as plain provider output.
  auto logger = std::make_shared<spdlog::logger>("gatehouse-provider-runner", logging::json_lines_sink(STDERR_FILENO));
  logger->set_level(args.log_level);
  spdlog::set_default_logger(logger);
  ::signal(SIGPIPE, SIG_IGN);

  // Limits first: they must already hold while the provider's static constructors run.
  if (args.memory_limit && !set_limit(RLIMIT_AS, *args.memory_limit, *args.memory_limit, "memory")) return kSetupExit;
  // SIGXCPU at the soft limit; SIGKILL at the hard one, in case the provider catches SIGXCPU.
  if (args.cpu_limit && !set_limit(RLIMIT_CPU, *args.cpu_limit, *args.cpu_limit + 2, "CPU")) return kSetupExit;

  // Providers that exec programs must not hand them our socket (it would hide our death from the host).
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  // The handshake comes before the provider is loaded: a provider that dies in its static constructors then
  // shows up as "crashed while loading", not as a broken runner.
  if (!write_all(fd, isolation::handshake_line())) return kSetupExit;
  watch_for_orphaning(fd);

  auto module = load_provider_in_process(args.provider);
  // The refusal travels to the host in the reply to its describe, and the host reports it; a warning here would
  // print it twice on the stderr both share (the CLI's offline verbs print "error: ..." as their first line).
  if (!module) spdlog::debug("{}", module.error().message);
  return isolation::serve(fd, std::move(module), args.threads);
}
