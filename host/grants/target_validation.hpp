// Checks a grant request against its target group before anything is stored, and computes the access key
// that makes overlapping grants share one provider-side access.
#pragma once

#include "common/result.hpp"
#include "grants/control_plane_view.hpp"
#include "grants/grant_types.hpp"

#include <string>

namespace gatehouse::host::grants {

// Validates subject, target properties and duration against the group (already looked up):
//   /subject                 must not be empty
//   /target/NAME             not a property of the kind; required but missing; empty; breaks a limit of
//                            its declaration (type integer/boolean, enum, pattern, lengths, range: see
//                            schema/value_limits.hpp), so the provider never sees a value its schema refuses
//   /duration                must be at least 1s; must be at most <max> for target group '<id>'
// One Error "invalid_argument" carrying every fault as a diagnostic (never stops at the first), message
// "the grant request is invalid (N faults)": the faults are not repeated in it, clients print the diagnostics.
Result<void> validate_grant_request(const TargetGroupView& group, const GrantRequestSpec& spec);

// The target as canonical JSON: an object with keys in byte order, no whitespace.
std::string canonical_target_json(const TargetProperties& target);

// What grants.access_key is the sha256 hex of: target group, subject and canonical target JSON, separated by
// the unit separator \x1f (which none of them can be confused with).
std::string access_key_material(std::string_view target_group, std::string_view subject,
                                const TargetProperties& target);

}  // namespace gatehouse::host::grants
