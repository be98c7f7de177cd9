// Small POSIX helpers for state that must survive a crash or power loss: a change is either fully on disk
// or not there at all. Failures throw std::system_error whose what() names the file and the errno text.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace demo::durable {

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() noexcept = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const noexcept { return fd_; }
  int release() noexcept;

 private:
  int fd_ = -1;
};

// Blocks until this process holds an exclusive flock() on `lock_file` (created if missing). The lock
// is released when the returned Fd is closed, including when the process dies.
Fd lock_exclusive(const std::filesystem::path& lock_file);

// Creates `dir` unless it already exists (a single level: the parent must exist).
void make_directory(const std::filesystem::path& dir);

// The whole file, or nullopt when it does not exist.
std::optional<std::string> read_file(const std::filesystem::path& file);

// Replaces `file` atomically: readers see the old or the new contents, never a torn write.
void replace_file(const std::filesystem::path& file, std::string_view contents);

// Appends one line (a '\n' is added) and flushes it to disk.
void append_line(const std::filesystem::path& file, std::string_view line);

// Removes `file` durably; false when it did not exist.
bool remove_file(const std::filesystem::path& file);

}  // namespace demo::durable
