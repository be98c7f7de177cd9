// The values the grant engine hands out and takes in: grant records, history entries, requests, filters.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::host::grants {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// pending → active → (revoking →) revoked / expired, or failed. The last three are final.
enum class GrantStatus { pending, active, revoking, revoked, expired, failed };

std::string_view to_string(GrantStatus status);
std::optional<GrantStatus> parse_grant_status(std::string_view text);
inline bool is_final(GrantStatus s) {
  return s == GrantStatus::revoked || s == GrantStatus::expired || s == GrantStatus::failed;
}

// Property values of a target, by property name. Ordered, so its JSON form is canonical.
using TargetProperties = std::map<std::string, std::string>;

struct GrantRecord {
  std::string id;  // uuid; also the provider's idempotency key when this grant starts an access
  std::string subject;
  std::string target_group;
  TargetProperties target;
  std::string access_key;  // equal for overlapping grants (same group, subject and target)
  GrantStatus status = GrantStatus::pending;
  TimePoint requested_at;
  TimePoint not_before;              // the requested start; the grant is not activated earlier
  std::chrono::seconds duration{0};  // counted from activated_at
  std::optional<TimePoint> activated_at;
  std::optional<TimePoint> ends_at;   // activated_at + duration
  std::optional<TimePoint> ended_at;  // when it became revoked / expired / failed
  bool end_requested = false;         // an early revoke was asked for
  std::optional<TimePoint> revoke_requested_at;
  std::string revoke_requested_by;
  std::string end_reason;
  std::string handler_id;  // the handler holding the access (empty before activation)
  std::string kind;        // the route kind the handler was asked for
  bool revoke_failing = false;
  int attempts = 0;  // consecutive attempts that did not make progress (grant or revoke)
  TimePoint next_attempt_at;
  std::string last_error;
  std::string created_by;

  bool ended() const { return is_final(status); }
};

// One row of grant_history. A note (from == to) records a retry reason or a compensating action.
struct HistoryEntry {
  std::int64_t id = 0;
  TimePoint at;
  std::optional<GrantStatus> from;  // nullopt: the grant was created
  GrantStatus to = GrantStatus::pending;
  std::string reason;
  std::string handler_id;
  std::string engine;

  bool is_note() const { return from && *from == to; }
};

// What request() is asked for.
struct GrantRequestSpec {
  std::string subject;
  std::string target_group;
  TargetProperties target;
  std::optional<TimePoint> not_before;  // default: now
  std::chrono::seconds duration{0};
  std::string actor;  // who asked (recorded as created_by and in the history)
};

struct GrantFilter {
  std::optional<GrantStatus> status;
  std::optional<std::string> subject;
  std::optional<std::string> target_group;
  std::size_t limit = 100;
};

// What the transition hook receives, after the transition was committed.
struct Transition {
  std::string grant_id;
  std::string subject;
  std::string target_group;
  std::optional<GrantStatus> from;
  GrantStatus to = GrantStatus::pending;
  std::string reason;
  std::string handler_id;
  std::string engine;
};

}  // namespace gatehouse::host::grants
