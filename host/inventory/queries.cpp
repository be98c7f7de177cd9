#include "inventory/queries.hpp"

#include <map>

namespace gatehouse::host::inventory {
namespace {

// Timestamps leave PostgreSQL already formatted, so no time zone arithmetic happens here.
// RFC 3339 in UTC with milliseconds, exactly like every other time of the API (api/request_parsing.cpp
// format_rfc3339, docs/api.md): to_char's MS, not US, so a client parses one shape everywhere.
constexpr const char* kIso = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";
std::string iso(const std::string& column) { return "to_char(" + column + " AT TIME ZONE 'UTC', " + kIso + ")"; }

std::string text_or_empty(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

// Cursors are the last row's key as hex-encoded JSON ["handler","type","id"]: opaque, URL-safe.
std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (const unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(const std::string& s) {
  if (s.size() % 2 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const int hi = value(s[i]), lo = value(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// ILIKE pattern matching `text` literally anywhere.
std::string contains_pattern(const std::string& text) {
  std::string out = "%";
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

// Statements whose parameter count depends on the filter: the values go to a vector and $n placeholders
// are numbered as they are added.
struct Params {
  std::vector<std::string> values;
  std::string add(std::string v) {
    values.push_back(std::move(v));
    return "$" + std::to_string(values.size());
  }
};

pqxx::result exec_dynamic(pqxx::transaction_base& txn, const std::string& sql, const Params& params) {
  // libpqxx 6.4 takes a variable parameter list through prepare_dynamic-style invocation: use exec_params
  // with a dynamic parameter list (pqxx::prepare::make_dynamic_params).
  return txn.exec_params(sql, pqxx::prepare::make_dynamic_params(params.values));
}

constexpr const char* kResourceColumns =
    "r.handler_id, r.type, r.id, r.name, r.data::text, r.relations::text, r.loader, ";

std::string resource_select() {
  return std::string("SELECT ") + kResourceColumns + iso("r.first_seen_at") + ", " + iso("r.updated_at") + ", " +
         "(SELECT " + iso("max(l.finished_at)") +
         " FROM sync_run_loaders l JOIN sync_runs s ON s.id = l.run_id"
         " WHERE s.handler_id = r.handler_id AND l.loader = r.loader AND l.status = 'succeeded')"
         " FROM resources r";
}

Resource resource_from(const pqxx::row& row) {
  Resource r;
  r.handler_id = row[0].as<std::string>();
  r.type = row[1].as<std::string>();
  r.id = row[2].as<std::string>();
  r.name = row[3].as<std::string>();
  r.data = nlohmann::json::parse(row[4].as<std::string>());
  r.relations = nlohmann::json::parse(row[5].as<std::string>());
  r.loader = row[6].as<std::string>();
  r.first_seen_at = row[7].as<std::string>();
  r.updated_at = row[8].as<std::string>();
  r.last_seen_at = text_or_empty(row[9]);
  return r;
}

std::string run_select() {
  return "SELECT id, handler_id, trigger, status, " + iso("started_at") + ", " + iso("finished_at") +
         ", resources_seen, resources_written, resources_removed, resources_rejected, error FROM sync_runs";
}

SyncRun run_from(const pqxx::row& row) {
  SyncRun r;
  r.id = row[0].as<std::int64_t>();
  r.handler_id = row[1].as<std::string>();
  r.trigger = row[2].as<std::string>();
  r.status = row[3].as<std::string>();
  r.started_at = row[4].as<std::string>();
  r.finished_at = text_or_empty(row[5]);
  r.resources_seen = row[6].as<std::int64_t>();
  r.resources_written = row[7].as<std::int64_t>();
  r.resources_removed = row[8].as<std::int64_t>();
  r.resources_rejected = row[9].as<std::int64_t>();
  r.error = text_or_empty(row[10]);
  return r;
}

// Attaches the loaders of `runs` (one statement for all of them).
void attach_loaders(pqxx::transaction_base& txn, std::vector<SyncRun>& runs) {
  if (runs.empty()) return;
  std::string ids = "{";
  std::map<std::int64_t, SyncRun*> by_id;
  for (auto& r : runs) {
    ids += (ids.size() > 1 ? "," : "") + std::to_string(r.id);
    by_id[r.id] = &r;
  }
  ids += "}";
  const auto rows = txn.exec_params(
      "SELECT run_id, loader, status, " + iso("started_at") + ", " + iso("finished_at") +
          ", pages, resources_seen, resources_written, resources_removed, resources_rejected, retries, error_code, "
          "error FROM sync_run_loaders WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, loader",
      ids);
  for (const auto& row : rows) {
    LoaderRun l;
    l.loader = row[1].as<std::string>();
    l.status = row[2].as<std::string>();
    l.started_at = row[3].as<std::string>();
    l.finished_at = text_or_empty(row[4]);
    l.pages = row[5].as<std::int64_t>();
    l.resources_seen = row[6].as<std::int64_t>();
    l.resources_written = row[7].as<std::int64_t>();
    l.resources_removed = row[8].as<std::int64_t>();
    l.resources_rejected = row[9].as<std::int64_t>();
    l.retries = row[10].as<std::int64_t>();
    l.error_code = text_or_empty(row[11]);
    l.error = text_or_empty(row[12]);
    by_id[row[0].as<std::int64_t>()]->loaders.push_back(std::move(l));
  }
}

}  // namespace

Result<ResourcePage> list_resources(store::Database& db, const ResourceFilter& filter) {
  if (filter.limit < 1 || filter.limit > 1000)
    return make_error(ErrorCode::invalid_argument, "limit must be between 1 and 1000, not " + std::to_string(filter.limit));
  std::optional<nlohmann::json> cursor;
  if (!filter.after.empty()) {
    const auto text = unhex(filter.after);
    auto parsed = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json(nlohmann::json::value_t::discarded);
    if (parsed.is_discarded() || !parsed.is_array() || parsed.size() != 3 || !parsed[0].is_string() ||
        !parsed[1].is_string() || !parsed[2].is_string())
      return make_error(ErrorCode::invalid_argument, "the 'after' cursor is not one this server returned");
    cursor = std::move(parsed);
  }
  return db.with_transaction([&](pqxx::work& txn) -> ResourcePage {
    Params p;
    std::string where;
    auto clause = [&](const std::string& c) { where += (where.empty() ? " WHERE " : " AND ") + c; };
    if (!filter.handler_id.empty()) clause("r.handler_id = " + p.add(filter.handler_id));
    if (!filter.type.empty()) clause("r.type = " + p.add(filter.type));
    if (!filter.match.empty()) {
      const std::string pattern = p.add(contains_pattern(filter.match));
      clause("(r.id ILIKE " + pattern + " OR r.name ILIKE " + pattern + ")");
    }
    if (cursor) {
      const auto h = p.add((*cursor)[0].get<std::string>());
      const auto t = p.add((*cursor)[1].get<std::string>());
      const auto i = p.add((*cursor)[2].get<std::string>());
      clause("(r.handler_id, r.type, r.id) > (" + h + ", " + t + ", " + i + ")");
    }
    // One extra row says whether another page exists.
    const auto rows = exec_dynamic(txn,
                                   resource_select() + where + " ORDER BY r.handler_id, r.type, r.id LIMIT " +
                                       std::to_string(filter.limit + 1),
                                   p);
    ResourcePage page;
    for (const auto& row : rows) {
      if (page.resources.size() == filter.limit) break;
      page.resources.push_back(resource_from(row));
    }
    if (rows.size() > filter.limit) {
      const auto& last = page.resources.back();
      page.next_after = hex(nlohmann::json::array({last.handler_id, last.type, last.id}).dump());
    }
    return page;
  });
}

Result<ResourceDetail> get_resource(store::Database& db, std::string_view handler_id, std::string_view type,
                                    std::string_view id) {
  const std::string h(handler_id), t(type), i(id);
  return db.with_transaction([&](pqxx::work& txn) -> Result<ResourceDetail> {
    const auto rows = txn.exec_params(
        resource_select() + " WHERE r.handler_id = $1 AND r.type = $2 AND r.id = $3", h, t, i);
    if (rows.empty())
      return make_error(ErrorCode::not_found, "no resource " + t + " '" + i + "' for handler '" + h + "'");
    ResourceDetail detail;
    detail.resource = resource_from(rows[0]);
    for (const auto& [field, relation] : detail.resource.relations.items()) {
      const auto related_type = relation.value("type", std::string());
      for (const auto& rid : relation.value("ids", nlohmann::json::array())) {
        if (!rid.is_string()) continue;
        RelatedResource related{field, related_type, rid.get<std::string>(), std::nullopt};
        const auto found = txn.exec_params("SELECT name FROM resources WHERE handler_id = $1 AND type = $2 AND id = $3",
                                           h, related_type, related.id);
        if (!found.empty()) related.name = found[0][0].as<std::string>();
        detail.related.push_back(std::move(related));
      }
    }
    // Who names this resource: relations of the same handler whose type matches and whose ids contain it.
    const auto referrers = txn.exec_params(
        "SELECT r.type, r.id, r.name, f.key FROM resources r, jsonb_each(r.relations) f "
        "WHERE r.handler_id = $1 AND r.relations <> '{}'::jsonb AND f.value->>'type' = $2 "
        "AND f.value->'ids' ? $3 ORDER BY r.type, r.id, f.key LIMIT 1000",
        h, t, i);
    for (const auto& row : referrers)
      detail.referenced_by.push_back({h, row[0].as<std::string>(), row[1].as<std::string>(),
                                      row[2].as<std::string>(), row[3].as<std::string>()});
    return detail;
  });
}

Result<std::vector<SyncRun>> list_sync_runs(store::Database& db, const SyncRunFilter& filter) {
  if (filter.limit < 1 || filter.limit > 1000)
    return make_error(ErrorCode::invalid_argument, "limit must be between 1 and 1000, not " + std::to_string(filter.limit));
  return db.with_transaction([&](pqxx::work& txn) -> std::vector<SyncRun> {
    Params p;
    std::string where;
    auto clause = [&](const std::string& c) { where += (where.empty() ? " WHERE " : " AND ") + c; };
    if (!filter.handler_id.empty()) clause("handler_id = " + p.add(filter.handler_id));
    if (!filter.status.empty()) clause("status = " + p.add(filter.status));
    if (filter.before_id > 0) clause("id < " + p.add(std::to_string(filter.before_id)) + "::bigint");
    const auto rows =
        exec_dynamic(txn, run_select() + where + " ORDER BY id DESC LIMIT " + std::to_string(filter.limit), p);
    std::vector<SyncRun> runs;
    for (const auto& row : rows) runs.push_back(run_from(row));
    attach_loaders(txn, runs);
    return runs;
  });
}

Result<SyncRun> get_sync_run(store::Database& db, std::int64_t id) {
  return db.with_transaction([&](pqxx::work& txn) -> Result<SyncRun> {
    const auto rows = txn.exec_params(run_select() + " WHERE id = $1", id);
    if (rows.empty()) return make_error(ErrorCode::not_found, "no sync run " + std::to_string(id));
    std::vector<SyncRun> runs{run_from(rows[0])};
    attach_loaders(txn, runs);
    return std::move(runs[0]);
  });
}

Result<std::optional<std::int64_t>> running_sync_run(store::Database& db, std::string_view handler_id) {
  const std::string h(handler_id);
  return db.with_transaction([&](pqxx::work& txn) -> std::optional<std::int64_t> {
    const auto rows =
        txn.exec_params("SELECT max(id) FROM sync_runs WHERE handler_id = $1 AND status = 'running'", h);
    if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
    return rows[0][0].as<std::int64_t>();
  });
}

}  // namespace gatehouse::host::inventory
