// Targets against the inventory: a target property whose kind schema names a resource type ("resource":
// "Project") must hold the id of a resource of that type that the routed handlers have loaded. Used by the
// API when a grant is requested and to list what a requester may ask for (`gatehouse target-group options`).
//
// Which handlers: those of the group's routes with priority > 0 (the ones that could serve the grant). The
// check happens at request time, against any of them: routing later picks among them by priority and health.
// While none of those handlers has any resource of the type in the inventory (never synced yet), the property
// is not checked — refusing every request of a freshly configured group until its first sync would surprise
// more than it protects; the audit entry of such a request lists the unchecked properties.
#pragma once

#include "common/result.hpp"
#include "store/database.hpp"

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host::inventory {

struct TargetCheck {
  std::vector<std::string> unchecked;  // properties not checked: no inventory of their type yet
};

// Ok (with what was not checked), or Error invalid_argument with one diagnostic per property naming a
// resource that does not exist ("/target/project": "no Project 'x' in the inventory of handler demo-a").
Result<TargetCheck> check_target_against_inventory(store::Database& db, const std::vector<std::string>& handlers,
                                                   const nlohmann::json& kind_schema,
                                                   const std::map<std::string, std::string>& target);

// {"properties": {"project": {"resource": "Project", "values": [{"id","name","handlers":[…]}], "truncated"}},
//  "role": {"enum": [...]}}} — for each property, the values a request may use: ids from the inventory of the
// handlers (at most `limit` per property, ordered by id) or the enum of the kind schema. A resource whose data
// says `"grantable": false` (the provider's loader marks what it would refuse, e.g. the postgres provider's roles
// that reach SUPERUSER or pg_write_all_data) is left out, unless another routed handler has it grantable.
Result<nlohmann::json> target_options(store::Database& db, const std::vector<std::string>& handlers,
                                      const nlohmann::json& kind_schema, std::size_t limit);

}  // namespace gatehouse::host::inventory
