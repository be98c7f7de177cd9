#include "isolation/exit_status.hpp"

#include <string.h>  // sigdescr_np (GNU): thread-safe, unlike strsignal
#include <sys/wait.h>

namespace gatehouse::host::isolation {

std::string signal_description(int signal) {
  const char* text = sigdescr_np(signal);
  return text != nullptr ? std::string(text) : "signal " + std::to_string(signal);
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "died with signal " + std::to_string(sig) + " (" + signal_description(sig) + ")";
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0 ? "exited normally" : "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return "stopped with wait status " + std::to_string(status);
}

std::string short_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "signal " + std::to_string(sig) + ", " + signal_description(sig);
  }
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return "wait status " + std::to_string(status);
}

}  // namespace gatehouse::host::isolation
