// Before a provider file is scanned or loaded, it must be safe to run as the daemon (osquery's isFileSafe):
// a regular file, owned by root or by the user the daemon runs as, not writable by group or others, in a
// directory others cannot write to (unless it is sticky); and, when the operator lists digests
// (providers.allowed_sha256, go-plugin's SecureConfig), one whose SHA-256 is listed.
//
// Thread-safe: a pure function of the file system.
#pragma once

#include "common/result.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace gatehouse::host::isolation {

struct FileSafetyPolicy {
  // Lowercase hex SHA-256 digests; empty: any digest (ownership and mode are checked either way).
  std::vector<std::string> allowed_sha256;
};

// Ok, or an error naming the file, what is wrong and the fix: provider_file_unsafe (owner, mode, directory),
// provider_not_allowed (digest not listed), file_not_found.
Result<void> check_provider_file(const std::filesystem::path& path, const FileSafetyPolicy& policy);

// Whether `text` is a SHA-256 digest as providers.allowed_sha256 takes it: 64 lowercase hex digits.
bool is_sha256_hex(const std::string& text);

}  // namespace gatehouse::host::isolation
