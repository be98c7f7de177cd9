// The values the grant engine hands out and takes in: grant records, history entries, requests, filters.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Why a failed grant failed, as the refusing provider said it (stored as grants.failure, migration 0008).
struct GrantFailure {
  std::string handler;  // the handler that refused; empty when the engine failed it (activation deadline)
  std::string code;     // the provider's status code ("invalid_argument", …)
  std::string message;  // the provider's sentence
  std::vector<std::pair<std::string, std::string>> details;  // (JSON pointer, reason) per field fault
};

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
  bool revoke_failing = false;  // revoking, and no handler holding the access has confirmed it yet
  // Ended by an admin's force-close before any handler holding the access confirmed the revoke: the access
  // may still exist at the backend. revoke() attempts it again.
  bool access_may_persist = false;
  int attempts = 0;  // consecutive attempts that did not make progress (grant or revoke)
  TimePoint next_attempt_at;
  std::string last_error;
  std::string created_by;
  std::string idempotency_key;           // the request's Idempotency-Key, empty when it had none
  std::optional<GrantFailure> failure;  // set for failed grants refused by a provider

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

// What revoke() may be asked for besides the plain early revoke (admins only: the API checks).
struct RevokeOptions {
  // Close a revoking grant without a confirmation from the backend: it ends flagged access_may_persist.
  bool force = false;
  // Send the revoke to this handler instead of the granting one: it must run the same provider
  // (publisher/name) and declare the same non-empty backend as the granting handler did.
  std::string handler;
};

// What request() is asked for.
struct GrantRequestSpec {
  std::string subject;
  std::string target_group;
  TargetProperties target;
  std::optional<TimePoint> not_before;  // default: now
  std::chrono::seconds duration{0};
  std::string actor;  // who asked (recorded as created_by and in the history)
  // Optional Idempotency-Key (1–255 printable ASCII), scoped to `actor`: a second request with the same key
  // returns the grant the first created. `fingerprint` is the canonical text of what the key stands for (the
  // API passes the whole request); empty → subject, group, target, duration and not_before.
  std::string idempotency_key{};
  std::string fingerprint{};
  // Appended to the first history row ("requested by x; <note>"): what the API could not check at request
  // time, e.g. target properties not checked against a handler inventory that has not been synced yet.
  std::string request_note{};
};

// What request() did: created a grant, or found the one an earlier request with the same key created.
struct RequestOutcome {
  GrantRecord grant;
  bool replayed = false;
};

// A position in the newest-first list of grants (keyset: requested_at, then id, both descending).
struct GrantCursor {
  long long requested_at_us = 0;
  std::string id;
};

struct GrantFilter {
  std::optional<GrantStatus> status;
  std::optional<std::string> subject;
  std::optional<std::string> target_group;
  std::size_t limit = 100;
  std::optional<GrantCursor> after{};  // continue after this grant (the last one of the previous page)
  bool revoke_failing_only = false;  // only grants flagged revoke_failing (`grant list --status revoke-failing`)
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
