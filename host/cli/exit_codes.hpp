// The CLI's exit codes, documented in `gatehouse --help`. Scripts depend on them: never renumber.
#pragma once

namespace gatehouse::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // anything unexpected (the server failed, I/O error writing output)
  kExitUsage = 2,        // the command line itself is wrong
  kExitRefused = 3,      // input refused: invalid config or request, a conflict, a provider refused
  kExitUnreachable = 4,  // gatehoused could not be reached (or did not answer in time)
  kExitAuth = 5,         // no token, an invalid token, or a role that may not do this
  kExitNotFound = 6,     // the named object does not exist
};

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  unexpected failure (the server failed; see its log)\n"
    "  2  usage error (unknown command or option, missing argument)\n"
    "  3  refused: invalid input, config or provider, or a conflict (the reason is printed on stderr)\n"
    "  4  gatehoused is unreachable (--server / GATEHOUSE_SERVER)\n"
    "  5  authentication or authorization failed (--token / GATEHOUSE_TOKEN)\n"
    "  6  not found\n";

}  // namespace gatehouse::cli
