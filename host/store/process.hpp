// Runs PostgreSQL's programs (initdb, pg_ctl) the way the embedded cluster needs: an argv array and never a
// shell string, stdin from /dev/null, stdout and stderr captured together for error messages, optionally as
// another (unprivileged) user. Internal to host/store.
#pragma once

#include "common/result.hpp"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::host::store {

// Who a child process runs as. Looked up in the parent: after fork() in a threaded process only
// async-signal-safe calls are allowed, so the child must not read /etc/passwd or /etc/group itself.
struct UnixUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, as initgroups() would set them
  std::string home;
};

// The user named `name`, with its groups; an Error when it does not exist.
Result<UnixUser> lookup_user(const std::string& name);
// The user this process runs as (effective uid).
Result<UnixUser> current_user();

struct CommandOutcome {
  int exit_code = -1;    // exit status, or 128 + signal number
  bool timed_out = false;
  std::string output;    // stdout and stderr interleaved, the last 64 KiB at most
  std::string tail(std::size_t lines = 5) const;  // last_lines(output, lines)
};

// The last `lines` non-empty lines of `text` joined with "; " (or "(no output)"): for error sentences.
std::string last_lines(const std::string& text, std::size_t lines = 5);

// Runs argv[0] (an absolute path) with the rest as arguments. When `run_as` is given the child drops to
// that user (setgroups, setgid, setuid) before exec. PG* variables are removed from the environment so a
// caller's PGHOST/PGPORT/PGDATA cannot redirect the tools. The child is killed after `timeout`.
// An Error only when the process could not be started at all.
Result<CommandOutcome> run_command(const std::vector<std::string>& argv, const UnixUser* run_as,
                                   std::chrono::milliseconds timeout);

// 0 when `user` may read, write and enter `path`, else the errno it would get. Checked in a child process
// that switches to the user, so every parent directory's permissions count, exactly as for initdb.
int access_errno_as(const UnixUser& user, const std::string& path);

}  // namespace gatehouse::host::store
