#include "registry/registry_rows.hpp"

namespace gatehouse::host::registry {

std::pair<TargetGroupInfo, std::int64_t> target_group_from_row(const pqxx::row& row) {
  TargetGroupInfo g;
  g.id = row[0].as<std::string>();
  g.kind = {{row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()}, row[4].as<std::string>()};
  g.kind_schema = nlohmann::json::parse(row[5].as<std::string>());
  g.max_duration = std::chrono::seconds(row[6].as<long long>());
  return {std::move(g), row[7].as<std::int64_t>()};
}

std::pair<RouteInfo, std::int64_t> route_from_row(const pqxx::row& row) {
  RouteInfo r{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<int>(),
              false, ""};
  return {std::move(r), row[4].as<std::int64_t>()};
}

std::string control_plane_fingerprint(pqxx::work& txn) {
  // Revisions come from one sequence, so no two rows share one: the ordered list names the set exactly.
  return txn
      .exec("SELECT concat_ws(':', "
            "(SELECT md5(coalesce(string_agg(revision::text, ',' ORDER BY revision), '')) FROM handlers), "
            "(SELECT md5(coalesce(string_agg(revision::text, ',' ORDER BY revision), '')) FROM target_groups), "
            "(SELECT md5(coalesce(string_agg(revision::text, ',' ORDER BY revision), '')) FROM routes))")[0][0]
      .as<std::string>();
}

}  // namespace gatehouse::host::registry
