// The providers this host has loaded, found by reference. Loading is the loader's job; the catalog keeps
// what was accepted, remembers what was refused (with the sentence) and records providers in the store.
// Files found by scan() are scanned out of process first (isolation/provider_scan.hpp): a file that crashes,
// aborts, exits or hangs while loading is refused with that reason and never loaded into this process.
#pragma once

#include "common/result.hpp"
#include "isolation/provider_scan.hpp"
#include "loader/provider_client.hpp"
#include "registry/references.hpp"
#include "store/database.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace gatehouse::host::registry {

// Thread-safe: every method may be called from any thread at once; a mutex guards the lists (scan() loads files
// without it). The modules it hands out are shared between threads (ProviderModule).
class ProviderCatalog {
 public:
  // Adds a loaded provider. Error "already_exists" when another file already provides the same
  // publisher/name@version (the first one stays).
  Result<void> add(std::shared_ptr<ProviderModule> module);

  // Loads every *.so directly inside each directory (sorted by name) with load_provider_scanned: each file is
  // loaded and described in a short-lived gatehouse-provider-runner first (unless options.cache_file remembers
  // it unchanged), and only then in process. Refusals are kept and returned; they never stop the scan. Without a
  // runner (options.runner_path, else find_runner()) every file is refused with "runner_unavailable": nothing
  // is loaded unscanned. The first form scans without a cache.
  std::vector<Error> scan(const std::vector<std::filesystem::path>& directories);
  std::vector<Error> scan(const std::vector<std::filesystem::path>& directories, const isolation::ScanOptions& options);

  std::shared_ptr<ProviderModule> find(const ProviderRef& ref) const;
  std::vector<std::shared_ptr<ProviderModule>> list() const;
  std::vector<Error> refusals() const;

  // Upserts every provider into the providers table.
  Result<void> record(store::Database& db) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<ProviderModule>> modules_;
  std::vector<Error> refusals_;
};

// The target kind `kind` of a provider's schema, or Error "not_found" naming the kinds it has.
Result<nlohmann::json> kind_schema_of(const ProviderModule& module, const std::string& kind);

}  // namespace gatehouse::host::registry
