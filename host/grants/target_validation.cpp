#include "grants/target_validation.hpp"

#include "common/duration_text.hpp"
#include "common/json_pointer.hpp"
#include "schema/value_limits.hpp"

namespace gatehouse::host::grants {
namespace {

using Json = nlohmann::json;

}  // namespace

Result<void> validate_grant_request(const TargetGroupView& group, const GrantRequestSpec& spec) {
  std::vector<Diagnostic> faults;
  if (spec.subject.empty()) faults.push_back({"/subject", "must not be empty"});

  // Unknown, missing, empty; type, enum, pattern, lengths and range as the provider's schema declares them
  // (schema/value_limits: the SDK's test kit runs the same check).
  for (auto& fault : target_faults(group.kind_schema, group.kind, spec.target)) faults.push_back(std::move(fault));

  if (spec.duration.count() <= 0) {
    faults.push_back({"/duration", "must be at least 1s"});
  } else if (spec.duration > group.max_duration) {
    faults.push_back({"/duration", "must be at most " + format_duration(group.max_duration) + " for target group '" +
                                       group.id + "' (got " + format_duration(spec.duration) + ")"});
  }

  if (faults.empty()) return {};
  // The faults travel as diagnostics, which every client prints; the sentence only counts them (repeating
  // them here made the CLI print each one twice).
  std::string message = "the grant request is invalid (" + std::to_string(faults.size()) +
                        (faults.size() == 1 ? " fault)" : " faults)");
  return make_error(ErrorCode::invalid_argument, std::move(message), std::move(faults));
}

std::string canonical_target_json(const TargetProperties& target) {
  Json object = Json::object();
  for (const auto& [name, value] : target) object[name] = value;
  return object.dump();  // nlohmann::json objects are ordered by key
}

std::string access_key_material(std::string_view target_group, std::string_view subject,
                                const TargetProperties& target) {
  std::string out(target_group);
  out += '\x1f';
  out += subject;
  out += '\x1f';
  out += canonical_target_json(target);
  return out;
}

}  // namespace gatehouse::host::grants
