#include "isolation/file_safety.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace gatehouse::host::isolation {

namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

Error unsafe(const std::filesystem::path& path, const std::string& why, const std::string& fix) {
  return make_error(ErrorCode::provider_file_unsafe,
                    "provider file '" + path.string() + "' is not loaded: " + why + "; " + fix);
}

}  // namespace

Result<void> check_provider_file(const std::filesystem::path& path) {
  struct stat file {};
  // stat, not lstat: what runs is the target of a link, so the target is what must be safe.
  if (::stat(path.c_str(), &file) != 0)
    return make_error(ErrorCode::file_not_found, "provider file '" + path.string() + "' cannot be read");
  if (!S_ISREG(file.st_mode)) return unsafe(path, "it is not a regular file", "point the search path at .so files");
  const uid_t self = ::geteuid();
  if (file.st_uid != 0 && file.st_uid != self)
    return unsafe(path, "it is owned by uid " + std::to_string(file.st_uid) + ", neither root nor the daemon's user (uid " +
                            std::to_string(self) + ")",
                  "chown root '" + path.string() + "'");
  if (file.st_mode & (S_IWGRP | S_IWOTH))
    return unsafe(path, "its mode " + octal_mode(file.st_mode) + " lets group or others write it",
                  "chmod go-w '" + path.string() + "'");
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  struct stat parent {};
  if (::stat(dir.c_str(), &parent) == 0 && (parent.st_mode & S_IWOTH) && !(parent.st_mode & S_ISVTX))
    return unsafe(path, "its directory '" + dir.string() + "' (mode " + octal_mode(parent.st_mode) +
                            ") lets anyone replace it",
                  "chmod o-w '" + dir.string() + "'");
  return {};
}

Result<void> check_provider_digest(const std::filesystem::path& path, const std::string& sha256,
                                   const FileSafetyPolicy& policy) {
  if (policy.allowed_sha256.empty()) return {};
  if (std::find(policy.allowed_sha256.begin(), policy.allowed_sha256.end(), sha256) != policy.allowed_sha256.end())
    return {};
  return make_error(ErrorCode::provider_not_allowed,
                    "provider file '" + path.string() + "' is not loaded: its SHA-256 " + sha256 +
                        " is not in providers.allowed_sha256; add it there if this file is trusted");
}

}  // namespace gatehouse::host::isolation
