// `gatehouse apply`: makes handlers, target groups and routes what a declarative document says
// (schemas/apply.v1.schema.json), idempotently. Objects the document does not name are left alone: deleting is
// explicit (`gatehouse handler delete …`). The plan compares each object with what exists:
//   create     it does not exist
//   update     it exists and differs in what may change (handler provider/config/isolation, a group's maximum
//              duration, a route's priority)
//   unchanged  it exists as written
// Planning runs every check the real calls run (Registry::check_handler / check_target_group: config schema,
// literal secrets, references resolved as the daemon resolves them, an instance the provider accepts; a
// route's group and handler exist or are created by the file), for a dry run and a real run alike: a dry run
// refuses exactly what the real run refuses, and a refusal comes before anything is changed. So does a change
// that cannot be made in place (a target group's kind, fixed at creation). Applying runs the plan in order
// (handlers, groups, routes) and stops at the first failure; the report says what was done and what was not.
#pragma once

#include "common/result.hpp"
#include "registry/registry.hpp"

#include <nlohmann/json.hpp>
#include <functional>
#include <string>
#include <vector>

namespace gatehouse::host::api {

struct PlannedChange {
  std::string action;  // create | update | unchanged
  std::string object;  // "handler/demo-a", "target_group/projects", "route/projects/demo-a/ProjectRole"
  std::string detail;  // what differs, in words ("priority 50 → 100")
  std::string result;  // after applying: "done", "failed: <message>", "not attempted"; "" in a dry run
};

struct ApplyReport {
  bool dry_run = false;
  bool failed = false;
  std::optional<Error> failure;
  std::vector<PlannedChange> changes;

  std::size_t changed_count() const;
  nlohmann::json to_json() const;
};

// Runs in the transaction of each change a real run makes (create or update), with that change: the API writes
// the change's audit row there, so a change and its row commit together (issue 14 item 2).
using ChangeAudit = std::function<void(pqxx::work&, const PlannedChange&)>;

// Error invalid_argument (document faults with their paths) or failed_precondition (a change the registry
// cannot make in place) before anything changed; otherwise the report (failed = true when a step failed).
Result<ApplyReport> apply_document(registry::Registry& registry, registry::ProviderCatalog& catalog,
                                   const nlohmann::json& document, bool dry_run, const ChangeAudit& audit = {});

}  // namespace gatehouse::host::api
