#include "inventory/inventory_types.hpp"

namespace gatehouse::host::inventory {
namespace {
nlohmann::json or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }
}  // namespace

const LoaderRun* SyncRun::loader(const std::string& name) const {
  for (const auto& l : loaders)
    if (l.loader == name) return &l;
  return nullptr;
}

nlohmann::json to_json(const LoaderRun& r) {
  return {{"loader", r.loader},
          {"status", r.status},
          {"started_at", r.started_at},
          {"finished_at", or_null(r.finished_at)},
          {"pages", r.pages},
          {"resources_seen", r.resources_seen},
          {"resources_written", r.resources_written},
          {"resources_removed", r.resources_removed},
          {"resources_rejected", r.resources_rejected},
          {"retries", r.retries},
          {"error_code", or_null(r.error_code)},
          {"error", or_null(r.error)}};
}

nlohmann::json to_json(const SyncRun& r) {
  nlohmann::json loaders = nlohmann::json::array();
  for (const auto& l : r.loaders) loaders.push_back(to_json(l));
  return {{"id", r.id},
          {"handler_id", r.handler_id},
          {"trigger", r.trigger},
          {"status", r.status},
          {"started_at", r.started_at},
          {"finished_at", or_null(r.finished_at)},
          {"resources_seen", r.resources_seen},
          {"resources_written", r.resources_written},
          {"resources_removed", r.resources_removed},
          {"resources_rejected", r.resources_rejected},
          {"error", or_null(r.error)},
          {"loaders", std::move(loaders)}};
}

nlohmann::json to_json(const Resource& r) {
  return {{"handler_id", r.handler_id},       {"type", r.type},
          {"id", r.id},                       {"name", r.name},
          {"data", r.data},                   {"relations", r.relations},
          {"loader", r.loader},               {"first_seen_at", r.first_seen_at},
          {"updated_at", r.updated_at},       {"last_seen_at", or_null(r.last_seen_at)}};
}

nlohmann::json to_json(const ResourcePage& page) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : page.resources) items.push_back(to_json(r));
  return {{"resources", std::move(items)}, {"next_after", or_null(page.next_after)}};
}

nlohmann::json to_json(const ResourceDetail& d) {
  nlohmann::json out = to_json(d.resource);
  nlohmann::json related = nlohmann::json::array();
  for (const auto& r : d.related)
    related.push_back({{"field", r.field},
                       {"type", r.type},
                       {"id", r.id},
                       {"name", r.name ? nlohmann::json(*r.name) : nlohmann::json(nullptr)},
                       {"exists", r.name.has_value()}});
  nlohmann::json referrers = nlohmann::json::array();
  for (const auto& r : d.referenced_by)
    referrers.push_back(
        {{"handler_id", r.handler_id}, {"type", r.type}, {"id", r.id}, {"name", r.name}, {"field", r.field}});
  out["related"] = std::move(related);
  out["referenced_by"] = std::move(referrers);
  return out;
}

}  // namespace gatehouse::host::inventory
