#include "isolation/provider_scan.hpp"

#include "isolation/describe_in_runner.hpp"
#include "isolation/file_safety.hpp"
#include "isolation/runner_location.hpp"
#include "loader/dll_loader.hpp"

#include <spdlog/spdlog.h>

namespace gatehouse::host::isolation {

Result<ScanVerdict> scan_provider(const std::filesystem::path& path, const ScanOptions& options) {
  // Before anything of the file runs, even in a throwaway runner, and before a cached verdict counts.
  if (auto safe = check_provider_file(path); !safe) return safe.take_error();
  auto file = fingerprint(path);
  if (!file) return file.take_error();
  if (auto allowed = check_provider_digest(path, file->sha256, options.safety); !allowed) return allowed.take_error();
  std::optional<ScanCache> cache;
  if (!options.cache_file.empty()) cache.emplace(options.cache_file);
  if (cache) {
    if (auto identity = cache->accepted(*file)) return ScanVerdict{std::move(*file), std::move(*identity), true};
  }

  auto runner = find_runner(options.runner_path);
  if (!runner) return runner.take_error();
  RunnerCommand command;
  command.runner = *runner;
  command.memory_limit_bytes = options.memory_limit_bytes;
  command.threads = 1;
  command.grace = options.shutdown_grace;
  auto description = describe_in_runner(file->path, command, options.timeout);
  if (!description) return description.take_error();

  // What was scanned is the content fingerprinted above: if the file changed meanwhile, the next scan_provider
  // sees a different fingerprint and scans again.
  if (cache) {
    if (auto saved = cache->remember(*file, description->identity); !saved) spdlog::warn("{}", saved.error().message);
  }
  return ScanVerdict{std::move(*file), std::move(description->identity), false};
}

Result<std::shared_ptr<ProviderModule>> load_provider_scanned(const std::filesystem::path& path,
                                                              const ScanOptions& options) {
  auto verdict = scan_provider(path, options);
  if (!verdict) return verdict.take_error();
  return load_provider_in_process(path);
}

}  // namespace gatehouse::host::isolation
