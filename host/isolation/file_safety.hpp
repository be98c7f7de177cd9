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

// Owner, mode and directory: ok, or provider_file_unsafe naming the file, what is wrong and the fix;
// file_not_found when it cannot be read.
Result<void> check_provider_file(const std::filesystem::path& path);

// `sha256` (the file's digest, from its fingerprint: computed once per scan) against the policy: ok, or
// provider_not_allowed naming the file and its digest.
Result<void> check_provider_digest(const std::filesystem::path& path, const std::string& sha256,
                                   const FileSafetyPolicy& policy);

}  // namespace gatehouse::host::isolation
