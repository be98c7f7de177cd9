#include "durable_file.hpp"

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace demo::durable {
namespace {

[[noreturn]] void fail(const std::string& action, const std::filesystem::path& path, int error) {
  throw std::system_error(error, std::generic_category(), "cannot " + action + " '" + path.string() + "'");
}

// open(2) retried on EINTR; -1 with errno set on failure.
int open_raw(const std::filesystem::path& path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Fd open_or_throw(const std::filesystem::path& path, int flags, mode_t mode = 0644) {
  const int fd = open_raw(path, flags, mode);
  if (fd < 0) fail("open", path, errno);
  return Fd(fd);
}

void write_all(const Fd& fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd.get(), data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
}

void sync(const Fd& fd, const std::filesystem::path& path) {
  if (::fsync(fd.get()) != 0) fail("flush", path, errno);
}

// A rename, create or unlink is durable only once the directory holding the entry is flushed too.
void sync_directory(const std::filesystem::path& dir) {
  sync(open_or_throw(dir, O_RDONLY | O_DIRECTORY), dir);
}

void close_checked(Fd fd, const std::filesystem::path& path) {
  // Some file systems (NFS) report write errors only at close: do not ignore them for data we keep.
  if (::close(fd.release()) != 0) fail("close", path, errno);
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Fd lock_exclusive(const std::filesystem::path& lock_file) {
  Fd fd = open_or_throw(lock_file, O_RDWR | O_CREAT, 0600);
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) fail("lock", lock_file, errno);
  return fd;
}

void make_directory(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) {
    sync_directory(dir.parent_path());
  } else if (errno != EEXIST) {
    fail("create directory", dir, errno);
  }
}

std::optional<std::string> read_file(const std::filesystem::path& file) {
  const int raw = open_raw(file, O_RDONLY);
  if (raw < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail("open", file, errno);
  }
  Fd fd(raw);
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("read", file, errno);
    }
    if (n == 0) return contents;
    contents.append(buffer, static_cast<size_t>(n));
  }
}

void replace_file(const std::filesystem::path& file, std::string_view contents) {
  // The temporary lives in the same directory so rename() is atomic (same file system). Its name never
  // ends in ".json", so a crash leaves nothing that looks like a record; the next write reuses it.
  // Writers of one file must be serialized by the caller (GrantStore holds its lock).
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  Fd fd = open_or_throw(temporary, O_WRONLY | O_CREAT | O_TRUNC);
  write_all(fd, contents, temporary);
  sync(fd, temporary);
  close_checked(std::move(fd), temporary);
  if (::rename(temporary.c_str(), file.c_str()) != 0) fail("rename to", file, errno);
  sync_directory(file.parent_path());
}

void append_line(const std::filesystem::path& file, std::string_view line) {
  // O_APPEND makes each write land at the end even if another process appends too.
  // A file created here needs its directory entry flushed too; only the first append pays for that.
  bool created = false;
  const int raw = open_raw(file, O_WRONLY | O_APPEND);
  if (raw < 0 && errno != ENOENT) fail("open", file, errno);
  Fd fd(raw);
  if (raw < 0) {
    fd = open_or_throw(file, O_WRONLY | O_APPEND | O_CREAT);
    created = true;
  }
  std::string text(line);
  text += '\n';
  write_all(fd, text, file);
  sync(fd, file);
  close_checked(std::move(fd), file);
  if (created) sync_directory(file.parent_path());
}

bool remove_file(const std::filesystem::path& file) {
  if (::unlink(file.c_str()) != 0) {
    if (errno == ENOENT) return false;
    fail("remove", file, errno);
  }
  sync_directory(file.parent_path());
  return true;
}

}  // namespace demo::durable
