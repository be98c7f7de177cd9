// Scanning out of process: before a provider file is loaded into gatehoused or the CLI, a short-lived runner
// loads and describes it (as GStreamer's plugin scanner does). A file that crashes, aborts, exits or hangs while
// loading — static constructors included — is refused with that reason and never touches the calling process.
// Accepted files are remembered (scan_cache.hpp), so only new or changed files pay for a scan.
#pragma once

#include "isolation/isolated_module.hpp"
#include "isolation/file_safety.hpp"
#include "isolation/scan_cache.hpp"

#include <chrono>
#include <filesystem>
#include <optional>

namespace gatehouse::host::isolation {

struct ScanOptions {
  std::filesystem::path runner_path;  // empty: find_runner() (runner_location.hpp)
  std::chrono::milliseconds timeout{10'000};        // load + describe
  std::chrono::milliseconds shutdown_grace{2'000};
  std::optional<std::uint64_t> memory_limit_bytes;  // RLIMIT_AS for the scanning runner
  std::filesystem::path cache_file;                 // where accepted files are remembered; empty: scan every time
  // Owner and mode are always checked first (file_safety.hpp); the digest against this policy when it lists any.
  FileSafetyPolicy safety{};
};

struct ScanVerdict {
  FileFingerprint file;
  ProviderIdentity identity;
  bool from_cache = false;  // accepted before and unchanged since: not scanned this time
};

// Accepts `path` (from the cache, or after a scan in a runner) or refuses it. Refusals: everything
// load_provider_isolated refuses (the in-process loader's codes, crashed_while_loading, exited_while_loading,
// hung_while_loading, runner errors), plus "file_not_found". A failure to update the cache is logged, not fatal.
Result<ScanVerdict> scan_provider(const std::filesystem::path& path, const ScanOptions& options = {});

// scan_provider, then load_provider_in_process: the safe way to load a provider file into this process.
Result<std::shared_ptr<ProviderModule>> load_provider_scanned(const std::filesystem::path& path,
                                                              const ScanOptions& options = {});

}  // namespace gatehouse::host::isolation

namespace gatehouse::host {
using isolation::load_provider_scanned;
using isolation::scan_provider;
using isolation::ScanOptions;
using isolation::ScanVerdict;
}  // namespace gatehouse::host
