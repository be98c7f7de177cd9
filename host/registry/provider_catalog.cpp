#include "registry/provider_catalog.hpp"

#include "isolation/provider_scan.hpp"

#include <algorithm>

namespace gatehouse::host::registry {

namespace {
ProviderRef ref_of(const ProviderModule& m) {
  return {m.identity().publisher, m.identity().name, m.identity().version};
}
}  // namespace

Result<void> ProviderCatalog::add(std::shared_ptr<ProviderModule> module) {
  std::lock_guard lock(mutex_);
  const ProviderRef ref = ref_of(*module);
  for (const auto& existing : modules_) {
    if (ref_of(*existing) == ref) {
      return make_error(ErrorCode::already_exists, "provider " + ref.text() + " from '" + module->path() +
                                              "' is already loaded from '" + existing->path() + "'");
    }
  }
  modules_.push_back(std::move(module));
  return {};
}

std::vector<Error> ProviderCatalog::scan(const std::vector<std::filesystem::path>& directories) {
  return scan(directories, isolation::ScanOptions{});
}

std::vector<Error> ProviderCatalog::scan(const std::vector<std::filesystem::path>& directories,
                                         const isolation::ScanOptions& options) {
  std::vector<Error> refused;
  for (const auto& dir : directories) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      refused.push_back(make_error(ErrorCode::not_found, "provider search path '" + dir.string() + "' is not a directory"));
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      auto module = isolation::load_provider_scanned(file, options);
      if (!module) {
        refused.push_back(module.take_error());
        continue;
      }
      if (auto added = add(std::move(*module)); !added) refused.push_back(added.take_error());
    }
  }
  std::lock_guard lock(mutex_);
  refusals_.insert(refusals_.end(), refused.begin(), refused.end());
  return refused;
}

std::shared_ptr<ProviderModule> ProviderCatalog::find(const ProviderRef& ref) const {
  std::lock_guard lock(mutex_);
  for (const auto& m : modules_) {
    if (ref_of(*m) == ref) return m;
  }
  return nullptr;
}

std::vector<std::shared_ptr<ProviderModule>> ProviderCatalog::list() const {
  std::lock_guard lock(mutex_);
  return modules_;
}

std::vector<Error> ProviderCatalog::refusals() const {
  std::lock_guard lock(mutex_);
  return refusals_;
}

Result<void> ProviderCatalog::record(store::Database& db) const {
  const auto modules = list();
  return db.with_transaction([&](pqxx::work& txn) {
    for (const auto& m : modules) {
      const auto& id = m->identity();
      txn.exec_params(
          "INSERT INTO providers (publisher, name, version, path, schema, loaded_at) "
          "VALUES ($1, $2, $3, $4, $5::jsonb, now()) "
          "ON CONFLICT (publisher, name, version) DO UPDATE "
          "SET path = EXCLUDED.path, schema = EXCLUDED.schema, loaded_at = now()",
          id.publisher, id.name, id.version, m->path(), m->schema().dump());
    }
  });
}

Result<nlohmann::json> kind_schema_of(const ProviderModule& module, const std::string& kind) {
  const auto& targets = module.schema().at("targets");
  if (auto it = targets.find(kind); it != targets.end()) return *it;
  std::string known;
  for (const auto& [name, _] : targets.items()) known += (known.empty() ? "" : ", ") + name;
  return make_error(ErrorCode::not_found, "provider " + module.identity().reference() + " has no target kind '" + kind +
                                     "' (it has: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace gatehouse::host::registry
