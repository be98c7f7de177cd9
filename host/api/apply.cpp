#include "api/apply.hpp"

#include "api/json_views.hpp"
#include "common/duration_text.hpp"
#include "schema/config_validation.hpp"
#include "schema/document_schemas.hpp"

#include <functional>

namespace gatehouse::host::api {
namespace {

using nlohmann::json;

std::chrono::seconds duration_of(const json& value) {
  if (value.is_number_integer()) return std::chrono::seconds(value.get<long long>());
  return parse_duration_text(value.get<std::string>()).value_or(std::chrono::seconds(0));
}

// A refusal of one object of the document, as faults under the object's path: its diagnostics ("/config/token")
// when it has some, else its sentence at the object itself.
void add_faults(std::vector<Diagnostic>& faults, const std::string& path, const Error& error) {
  if (error.diagnostics.empty()) {
    faults.push_back({path, error.message});
    return;
  }
  for (const auto& d : error.diagnostics) faults.push_back({path + d.path, d.reason});
}

// One planned step: what it is, and the call that makes it true.
struct Step {
  PlannedChange change;
  std::function<Result<void>(const store::BeforeCommit&)> run;  // the hook runs in the change's transaction
};

}  // namespace

std::size_t ApplyReport::changed_count() const {
  std::size_t n = 0;
  for (const auto& c : changes) n += c.action != "unchanged";
  return n;
}

json ApplyReport::to_json() const {
  json list = json::array();
  for (const auto& c : changes) {
    json item{{"action", c.action}, {"object", c.object}, {"detail", c.detail}};
    if (!dry_run) item["result"] = c.result;
    list.push_back(item);
  }
  json out{{"dry_run", dry_run}, {"changed", changed_count()}, {"changes", list}};
  if (failure) out["error"] = error_json(*failure)["error"];
  return out;
}

Result<ApplyReport> apply_document(registry::Registry& registry, registry::ProviderCatalog& catalog,
                                   const json& document, bool dry_run, const ChangeAudit& audit) {
  if (auto checked = check_apply_document(document); !checked) return checked.take_error();

  std::vector<Step> steps;
  std::vector<Diagnostic> faults;
  std::map<std::string, std::string> group_kind_names;  // group id → kind name, for routes without a kind

  const json handlers = document.value("handlers", json::array());
  for (std::size_t i = 0; i < handlers.size(); ++i) {
    const json& h = handlers[i];
    const std::string path = "/handlers/" + std::to_string(i);
    registry::HandlerSpec spec{h["id"].get<std::string>(), h["provider"].get<std::string>(), h["config"]};
    spec.isolation = registry::parse_isolation(h.value("isolation", "in_process")).value_or(registry::Isolation::in_process);
    spec.backend = h.value("backend", "");  // absent: none (an update then removes a declared one)
    if (auto ref = registry::parse_provider_ref(spec.provider); !ref) {
      faults.push_back({path + "/provider", ref.error().message});
      continue;
    } else if (auto module = catalog.find(*ref); !module) {
      faults.push_back({path + "/provider", "provider " + spec.provider + " is not loaded by this gatehoused"});
      continue;
    }
    const std::string object = "handler/" + spec.id;
    auto existing = registry.handler(spec.id);
    // Whatever will be created or updated passes the registry's own checks now, dry run or not: the config
    // against the provider's schema, secrets as references, the references resolved, an instance the provider
    // accepts. So a dry run refuses what the real run refuses, and the real run refuses before changing anything.
    const bool unchanged = existing && existing->provider.text() == spec.provider &&
                           existing->isolation == spec.isolation && existing->config == spec.config;
    if (!unchanged) {
      if (auto checked = registry.check_handler(spec); !checked) {
        add_faults(faults, path, checked.error());
        continue;
      }
    }
    if (!existing) {
      steps.push_back({{"create", object, "provider " + spec.provider, ""},
                       [&registry, spec](const store::BeforeCommit& audited) -> Result<void> {
                         auto r = registry.create_handler(spec, audited);
                         if (!r) return r.take_error();
                         return {};
                       }});
      continue;
    }
    std::vector<std::string> differences;
    if (existing->provider.text() != spec.provider)
      differences.push_back("provider " + existing->provider.text() + " → " + spec.provider);
    if (existing->backend != spec.backend.value_or(""))
      differences.push_back("backend '" + existing->backend + "' → '" + spec.backend.value_or("") + "'");
    if (existing->isolation != spec.isolation)
      differences.push_back(std::string("isolation ") + registry::isolation_name(existing->isolation) + " → " +
                            registry::isolation_name(spec.isolation));
    if (existing->config != spec.config) {
      std::string fields;
      for (const auto& [name, value] : spec.config.items())
        if (!existing->config.contains(name) || existing->config[name] != value) fields += (fields.empty() ? "" : ", ") + name;
      for (const auto& [name, value] : existing->config.items()) {
        (void)value;
        if (!spec.config.contains(name)) fields += (fields.empty() ? "" : ", ") + name;
      }
      differences.push_back("config (" + fields + ")");
    }
    if (differences.empty()) {
      steps.push_back({{"unchanged", object, "", ""}, nullptr});
      continue;
    }
    std::string detail;
    for (const auto& d : differences) detail += (detail.empty() ? "" : "; ") + d;
    steps.push_back({{"update", object, detail, ""}, [&registry, spec](const store::BeforeCommit& audited) -> Result<void> {
                       auto r = registry.update_handler(spec, audited);
                       if (!r) return r.take_error();
                       return {};
                     }});
  }

  const json groups = document.value("target_groups", json::array());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const json& g = groups[i];
    const std::string path = "/target_groups/" + std::to_string(i);
    registry::TargetGroupSpec spec{g["id"].get<std::string>(), g["kind"].get<std::string>()};
    if (g.contains("max_duration")) spec.max_duration = duration_of(g["max_duration"]);
    // The schema's pattern lets "1h1h" and "30m1h" through; the one duration parser says why it refuses them.
    if (const auto md = g.find("max_duration"); md != g.end() && md->is_string()) {
      if (auto d = parse_duration_detailed(md->get<std::string>()); !d.value) {
        faults.push_back({path + "/max_duration", d.fault});
        continue;
      }
    }
    auto kind = registry::parse_kind_ref(spec.kind);
    if (!kind) {
      faults.push_back({path + "/kind", kind.error().message});
      continue;
    }
    group_kind_names[spec.id] = kind->kind;
    const std::string object = "target_group/" + spec.id;
    auto existing = registry.find_target_group(spec.id);
    // The registry's checks of a new group (id, provider loaded, kind, maximum duration) now, dry run or not.
    if (auto checked = registry.check_target_group(spec); !checked) {
      add_faults(faults, path, checked.error());
      continue;
    }
    if (!existing) {
      steps.push_back({{"create", object, "kind " + spec.kind + ", max duration " + format_duration(spec.max_duration), ""},
                       [&registry, spec](const store::BeforeCommit& audited) -> Result<void> {
                         auto r = registry.create_target_group(spec, audited);
                         if (!r) return r.take_error();
                         return {};
                       }});
      continue;
    }
    if (existing->kind.text() != kind->text()) {
      faults.push_back({path + "/kind", "target group '" + spec.id + "' has kind " + existing->kind.text() +
                                            ", fixed at creation; delete it first to change its kind"});
      continue;
    }
    if (g.contains("max_duration") && existing->max_duration != spec.max_duration) {
      const std::string detail =
          "max duration " + format_duration(existing->max_duration) + " → " + format_duration(spec.max_duration);
      steps.push_back({{"update", object, detail, ""}, [&registry, spec](const store::BeforeCommit& audited) -> Result<void> {
                         auto r = registry.set_target_group_max_duration(spec.id, spec.max_duration, audited);
                         if (!r) return r.take_error();
                         return {};
                       }});
      continue;
    }
    steps.push_back({{"unchanged", object, "", ""}, nullptr});
  }

  const json routes = document.value("routes", json::array());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const json& r = routes[i];
    registry::RouteSpec spec{r["target_group"].get<std::string>(), r["handler"].get<std::string>(),
                             r.value("kind", ""), r["priority"].get<int>()};
    if (spec.kind.empty()) {
      if (auto named = group_kind_names.find(spec.target_group); named != group_kind_names.end())
        spec.kind = named->second;
      else if (auto group = registry.find_target_group(spec.target_group))
        spec.kind = group->kind.kind;
    }
    // A route needs its group and handler: existing ones, or ones this document creates (a create that would
    // fail is already a fault above). Checked now, so a dry run says what the real run would refuse.
    const std::string path = "/routes/" + std::to_string(i);
    const auto named = [](const json& list, const std::string& id) {
      for (const auto& item : list)
        if (item.value("id", "") == id) return true;
      return false;
    };
    if (!registry.find_target_group(spec.target_group) && !named(groups, spec.target_group))
      faults.push_back({path + "/target_group", "target group '" + spec.target_group +
                                                    "' does not exist and this file does not create it"});
    if (!registry.handler(spec.handler) && !named(handlers, spec.handler))
      faults.push_back({path + "/handler", "handler '" + spec.handler + "' does not exist and this file does not create it"});
    const std::string object = "route/" + spec.target_group + "/" + spec.handler + "/" + spec.kind;
    std::optional<registry::RouteInfo> existing;
    for (const auto& route : registry.routes())
      if (route.target_group == spec.target_group && route.handler == spec.handler && route.kind == spec.kind)
        existing = route;
    if (!existing) {
      steps.push_back({{"create", object, "priority " + std::to_string(spec.priority), ""},
                       [&registry, spec](const store::BeforeCommit& audited) -> Result<void> {
                         auto created = registry.create_route(spec, audited);
                         if (!created) return created.take_error();
                         return {};
                       }});
    } else if (existing->priority != spec.priority) {
      steps.push_back({{"update", object,
                        "priority " + std::to_string(existing->priority) + " → " + std::to_string(spec.priority), ""},
                       [&registry, spec](const store::BeforeCommit& audited) -> Result<void> {
                         auto updated = registry.set_route_priority(spec.target_group, spec.handler, spec.kind,
                                                                    spec.priority, audited);
                         if (!updated) return updated.take_error();
                         return {};
                       }});
    } else {
      steps.push_back({{"unchanged", object, "", ""}, nullptr});
    }
  }

  if (!faults.empty())
    return make_error(ErrorCode::invalid_argument,
                      "the declarative config cannot be applied (" + std::to_string(faults.size()) +
                          (faults.size() == 1 ? " fault" : " faults") + "); nothing was changed",
                      std::move(faults));

  ApplyReport report;
  report.dry_run = dry_run;
  for (auto& step : steps) {
    if (!dry_run) {
      if (report.failed) {
        step.change.result = "not attempted";
      } else if (!step.run) {
        step.change.result = "done";
      } else if (auto done = step.run(audit ? store::BeforeCommit([&](pqxx::work& txn) { audit(txn, step.change); })
                                            : store::BeforeCommit());
                 done) {
        step.change.result = "done";
      } else {
        report.failed = true;
        report.failure = done.error();
        step.change.result = "failed: " + done.error().message;
      }
    }
    report.changes.push_back(std::move(step.change));
  }
  return report;
}

}  // namespace gatehouse::host::api
