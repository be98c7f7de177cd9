// Runs a real binary (the CLI, later the daemon) the way an operator's shell would, capturing its output.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gatehouse::test {

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with arguments, extra environment variables added to ours, stdin from /dev/null.
// Gives up (SIGKILL) after `timeout_seconds` and reports exit_code 128 + 9.
ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                          int timeout_seconds = 60);

// The whole file ("" when it cannot be read).
std::string read_text_file(const std::string& path);

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "gatehouse-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

}  // namespace gatehouse::test
