// The CLI's exit codes, documented in `gatehouse --help`. Scripts depend on them: never renumber.
#pragma once

namespace gatehouse::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,  // anything unexpected (I/O error writing output, internal error)
  kExitUsage = 2,    // the command line itself is wrong
  kExitRefused = 3,  // a provider was refused or a config is invalid
};

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  unexpected failure\n"
    "  2  usage error (unknown command or option, missing argument)\n"
    "  3  provider refused or config invalid (the reason is printed on stderr)\n";

}  // namespace gatehouse::cli
