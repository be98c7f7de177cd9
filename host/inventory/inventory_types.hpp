// The inventory's values as the faces (HTTP API, CLI) see them: sync runs with their per-loader outcome,
// resources, and the filters of the query functions. Each has a to_json() so an HTTP layer can return it
// as is. Timestamps are ISO 8601 UTC strings ("2026-11-22T10:00:00.123456Z"), empty when not set.
//
// JSON shapes:
//   SyncRun     {"id", "handler_id", "trigger": "schedule"|"on_demand",
//                "status": "running"|"succeeded"|"partial"|"failed"|"cancelled"|"abandoned",
//                "started_at", "finished_at": str|null, "resources_seen", "resources_written",
//                "resources_removed", "resources_rejected", "error": str|null, "loaders": [LoaderRun]}
//   LoaderRun   {"loader", "status", "started_at", "finished_at": str|null, "pages", "resources_seen",
//                "resources_written", "resources_removed", "resources_rejected", "retries",
//                "error_code": str|null, "error": str|null}
//   Resource    {"handler_id", "type", "id", "name", "data": {...}, "relations": {...}, "loader",
//                "first_seen_at", "updated_at", "last_seen_at": str|null}
//   ResourcePage {"resources": [Resource], "next_after": str|null}
//   ResourceDetail = Resource + {"related": [{"field", "type", "id", "name": str|null, "exists": bool}],
//                                "referenced_by": [{"handler_id", "type", "id", "name", "field"}]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host::inventory {

struct LoaderRun {
  std::string loader;
  std::string status;  // running | succeeded | failed | cancelled | abandoned
  std::string started_at;
  std::string finished_at;
  std::int64_t pages = 0;
  std::int64_t resources_seen = 0;
  std::int64_t resources_written = 0;
  std::int64_t resources_removed = 0;
  std::int64_t resources_rejected = 0;
  std::int64_t retries = 0;
  std::string error_code;  // e.g. "unavailable", "deadline_exceeded", "database_error"; empty when none
  std::string error;       // the first error's sentence
};

struct SyncRun {
  std::int64_t id = 0;
  std::string handler_id;
  std::string trigger;  // schedule | on_demand
  std::string status;   // running | succeeded | partial | failed | cancelled | abandoned
  std::string started_at;
  std::string finished_at;
  std::int64_t resources_seen = 0;
  std::int64_t resources_written = 0;
  std::int64_t resources_removed = 0;
  std::int64_t resources_rejected = 0;
  std::string error;
  std::vector<LoaderRun> loaders;  // sorted by loader name

  // Filled by the engine for the run it executed (not stored): the most resources held in memory at once
  // (pages fetched and not yet copied to PostgreSQL) — bounded by SyncOptions, whatever a loader returns.
  std::int64_t peak_buffered_resources = 0;

  const LoaderRun* loader(const std::string& name) const;
};

struct Resource {
  std::string handler_id;
  std::string type;
  std::string id;
  std::string name;
  nlohmann::json data = nlohmann::json::object();
  nlohmann::json relations = nlohmann::json::object();
  std::string loader;
  std::string first_seen_at;
  std::string updated_at;
  std::string last_seen_at;  // end of the latest succeeded run of its loader; empty when none yet
};

struct RelatedResource {
  std::string field;  // the data field that names it
  std::string type;
  std::string id;
  std::optional<std::string> name;  // nullopt when no such resource is in the inventory
};

struct Referrer {
  std::string handler_id;
  std::string type;
  std::string id;
  std::string name;
  std::string field;
};

struct ResourceDetail {
  Resource resource;
  std::vector<RelatedResource> related;   // what this resource's relation fields name
  std::vector<Referrer> referenced_by;    // resources of the same handler whose relations name this one
};

struct ResourceFilter {
  std::string handler_id;  // empty: every handler
  std::string type;        // empty: every type
  std::string match;       // empty: no text filter; else case-insensitive substring of id or name
  std::size_t limit = 100; // 1..1000
  std::string after;       // the next_after of the previous page; empty for the first page
};

struct ResourcePage {
  std::vector<Resource> resources;  // ordered by (handler_id, type, id)
  std::string next_after;           // empty when this is the last page
};

struct SyncRunFilter {
  std::string handler_id;        // empty: every handler
  std::string status;            // empty: any status
  std::size_t limit = 50;        // 1..1000, newest first
  std::int64_t before_id = 0;    // > 0: only runs with a smaller id (paging)
};

nlohmann::json to_json(const LoaderRun& run);
nlohmann::json to_json(const SyncRun& run);
nlohmann::json to_json(const Resource& resource);
nlohmann::json to_json(const ResourcePage& page);
nlohmann::json to_json(const ResourceDetail& detail);

}  // namespace gatehouse::host::inventory
