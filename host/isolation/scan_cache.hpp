// Provider files already scanned and accepted, remembered by path, size, mtime and SHA-256 in a small JSON file
// (GStreamer keeps a registry the same way). A file whose fingerprint changed is scanned again.
#pragma once

#include "common/result.hpp"
#include "loader/provider_client.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace gatehouse::host::isolation {

struct FileFingerprint {
  std::string path;  // absolute
  std::uintmax_t size = 0;
  std::int64_t mtime_ns = 0;  // since the epoch
  std::string sha256;         // lowercase hex
  bool operator==(const FileFingerprint&) const = default;
};

// stat + SHA-256 (OpenSSL EVP) of the file. Error "file_not_found" when it is missing or not a regular file.
Result<FileFingerprint> fingerprint(const std::filesystem::path& path);

// The JSON file:
//   {"format": 1, "providers": [{"path", "size", "mtime_ns", "sha256", "framework_version",
//                                "publisher", "name", "version", "provider_framework_version",
//                                "abi_major", "abi_minor", "accepted_at"}]}
// An entry counts only for the gatehouse framework version that wrote it (a new host rescans everything).
// A missing or unreadable file is an empty cache; writes replace it atomically (temp file + rename).
// Thread-safe: accepted() and remember() are serialized by one mutex for the whole process; between processes
// the last writer wins (the loser's file is scanned again next time).
class ScanCache {
 public:
  explicit ScanCache(std::filesystem::path file) : file_(std::move(file)) {}

  // The identity remembered for exactly this fingerprint, if any.
  std::optional<ProviderIdentity> accepted(const FileFingerprint& file) const;
  // Remembers (or replaces the entry of) this path. Error "cache_write_failed" with the reason.
  Result<void> remember(const FileFingerprint& file, const ProviderIdentity& identity) const;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

}  // namespace gatehouse::host::isolation
