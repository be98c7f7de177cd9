// The demo provider: grants roles in the projects of an imaginary backend. Grants are real files under
// the configured state directory, so you can watch them appear and disappear (README.md).
//
// Copy this directory to start a provider of your own: the class below is the whole contract with the
// host (schema, constructor, grant, revoke, load, check_health); grant_store and inventory stand in for
// your backend's client.
#include "grant_store.hpp"
#include "inventory.hpp"

#include <gatehouse/sdk.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace demo {

using namespace gatehouse;  // this file is written against the SDK and little else

namespace {

constexpr std::array<std::string_view, 3> kRoles{"viewer", "editor", "admin"};

// Integer config fields are bounded by the schema and the host validates against it; checking again
// costs one line and keeps a wrong value from turning into a huge unsigned page size.
std::uint64_t integer_in(const Config& config, const std::string& field, std::int64_t min, std::int64_t max) {
  const std::int64_t value = config.integer(field);
  if (value < min || value > max) {
    throw Error::invalid_argument("config field '" + field + "' is out of range", "/" + field);
  }
  return static_cast<std::uint64_t>(value);
}

std::string secret_token(const Config& config) {
  std::string token = config.string("token");
  // The schema cannot say "at least 8 characters", so the constructor does. Never echo the value.
  if (token.size() < 8) throw Error::invalid_argument("config field 'token' must be at least 8 characters", "/token");
  return token;
}

}  // namespace

class DemoProvider final : public Provider {
 public:
  explicit DemoProvider(const Context& context)
      : log_(context.log),
        token_(secret_token(context.config)),
        inventory_(integer_in(context.config, "synthetic_users", 0, std::numeric_limits<std::int64_t>::max()),
                   integer_in(context.config, "page_size", 1, 10000)),
        store_(context.config.string("state_dir")) {
    // An unusable state directory does not stop construction: the handler then reports unhealthy with
    // the reason, which tells the operator more than a refused config would.
    if (auto problem = store_.problem()) log_.warn(*problem);
  }

  static Schema schema() {
    std::vector<std::string> roles(kRoles.begin(), kRoles.end());
    return Schema()
        .config("state_dir", Field::string("Directory where grants are recorded (grants/, events.log)").required())
        .config("token", Field::string("API token of the demo backend, at least 8 characters").required().secret())
        .config("synthetic_users",
                Field::integer("Extra generated users (user-000001, ...) for inventory scale tests")
                    .default_value(0)
                    .minimum(0))
        .config("page_size",
                Field::integer("Resources per loader page").default_value(500).minimum(1).maximum(10000))
        .resource_type("User", ResourceType("User").data("email", DataField::string("Email")))
        .resource_type("Group",
                       ResourceType("Group").data("members", DataField::string_list("Members").relation("User")))
        .resource_type("Project",
                       ResourceType("Project").data("owner_group", DataField::string("Owner group").relation("Group")))
        .loader("fetch_users", "Users", {"User"})
        .loader("fetch_groups", "Groups", {"Group"})
        .loader("fetch_projects", "Projects", {"Project"})
        .target("ProjectRole", TargetKind("Role in a project")
                                   .description("A role (viewer, editor or admin) in one project")
                                   .property("project", Property::string("Project").resource("Project"))
                                   .property("role", Property::string("Role").one_of(roles)));
  }

  GrantResult grant(const GrantRequest& request) override {
    const GrantRecord wanted = record_for(request);
    const auto [record, created] = store_.record(wanted);
    if (!record.same_access(wanted)) {
      // Same key, different grant: answering "already exists" would silently drop this one.
      const std::string file = GrantStore::relative_path(record.grant_id);
      throw Error::invalid_argument("grant id reused for a different grant (" + file + " holds another one)",
                                    "/grant_id");
    }
    if (created) log_.info("granted " + record.role + " on " + record.project + " to " + record.subject);
    return GrantResult{state_of(record), created ? "" : "grant already recorded", !created};
  }

  RevokeResult revoke(const RevokeRequest& request) override {
    // The grant id alone names the record (the store checks it); the state is not trusted as a path.
    const auto removed = store_.remove(request.grant_id);
    if (!removed) return RevokeResult{"no grant recorded under this id", true};
    log_.info("revoked " + removed->role + " on " + removed->project + " from " + removed->subject);
    return RevokeResult{"removed " + GrantStore::relative_path(request.grant_id), false};
  }

  LoadResult load(const LoadRequest& request) override { return inventory_.page(request); }

  Health check_health() override {
    if (auto problem = store_.problem()) return Health::failing(*problem);
    return Health::ok("state directory '" + store_.state_dir().string() + "' is writable");
  }

 private:
  // The record a grant request asks for. Every field is checked before anything is written; a fault
  // names its field so the operator sees exactly what to fix.
  GrantRecord record_for(const GrantRequest& request) const {
    check_grant_id(request.grant_id);
    if (request.subject.empty()) throw Error::invalid_argument("subject must not be empty", "/subject");
    if (request.target.kind != "ProjectRole") {
      throw Error::invalid_argument("target kind '" + request.target.kind + "' is not ProjectRole", "/target/kind");
    }
    const std::string& project = request.target.at("project");
    if (!inventory_.has_project(project)) {
      throw Error::invalid_argument("project '" + project + "' does not exist", "/target/project");
    }
    const std::string& role = request.target.at("role");
    if (std::find(kRoles.begin(), kRoles.end(), role) == kRoles.end()) {
      throw Error::invalid_argument("role '" + role + "' is not one of viewer, editor, admin", "/target/role");
    }
    return GrantRecord{request.grant_id,
                       request.subject,
                       project,
                       role,
                       format_time(request.starts_at),
                       format_time(request.ends_at),
                       format_time(Clock::now())};
  }

  // What the host stores and hands back to revoke(): small, and enough for an operator to find the file.
  static std::string state_of(const GrantRecord& record) {
    return nlohmann::json{{"file", GrantStore::relative_path(record.grant_id)},
                          {"project", record.project},
                          {"role", record.role}}
        .dump();
  }

  Logger log_;
  std::string token_;  // would authenticate calls to the backend; kept out of every log line and file
  Inventory inventory_;
  GrantStore store_;
};

}  // namespace demo

GATEHOUSE_PROVIDER(demo::DemoProvider, "gatehouse", "demo", "1.0.0")
