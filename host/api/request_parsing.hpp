// Untrusted input of the HTTP API turned into typed values: request targets (path segments, query) and JSON
// bodies. Every refusal is an Error with code "invalid_argument" (or "invalid_json") and, for bodies, the
// JSON pointer of each fault. Unknown fields are refused, so a typo never passes silently.
//
// Depends on nlohmann_json and host/common only: the libFuzzer target (tests/fuzz) compiles this file alone.
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host::api {

struct RequestTarget {
  std::vector<std::string> segments;  // percent-decoded path segments ("/v1/grants/x" → v1, grants, x)
  std::map<std::string, std::string> query;
};

// Error "invalid_argument" for a target that is not an absolute path, has bad percent-escapes, decodes to
// control characters or NUL, or repeats a query parameter.
Result<RequestTarget> parse_target(std::string_view target);

// A JSON object, or Error "invalid_json" (with the byte offset) / "invalid_argument" (not an object).
// An empty body is an empty object.
Result<nlohmann::json> parse_json_object(std::string_view body);

struct GrantRequestBody {
  std::string subject;  // empty: the caller's own subject
  std::string target_group;
  std::map<std::string, std::string> target;
  std::chrono::seconds duration{0};
  std::optional<std::chrono::system_clock::time_point> not_before;
  std::string reason;
};

struct HandlerBody {
  std::string id;
  std::string provider;
  std::string isolation;  // "" (default), "in_process" or "process"
  nlohmann::json config = nlohmann::json::object();
};

struct TargetGroupBody {
  std::string id;
  std::string kind;
  std::optional<std::chrono::seconds> max_duration;
};

struct RouteBody {
  std::string target_group;
  std::string handler;
  std::string kind;
  int priority = 0;
};

struct PriorityBody {
  int priority = 0;
};

struct RevokeBody {
  std::string reason;
};

// Durations are "duration": "1h30m" or "duration_seconds": 5400 (exactly one); times are RFC 3339.
Result<GrantRequestBody> parse_grant_request(const nlohmann::json& body);
Result<HandlerBody> parse_handler(const nlohmann::json& body);
Result<TargetGroupBody> parse_target_group(const nlohmann::json& body);
Result<RouteBody> parse_route(const nlohmann::json& body);
Result<PriorityBody> parse_priority(const nlohmann::json& body);
Result<RevokeBody> parse_revoke(const nlohmann::json& body);

// RFC 3339 ("2026-12-01T05:16:24Z", fractions and offsets accepted) ↔ time points (printed in UTC, ms).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);
std::string format_rfc3339(std::chrono::system_clock::time_point at);

// A query parameter as a bounded positive integer ("limit"); Error names the parameter.
Result<std::size_t> query_limit(const RequestTarget& target, std::size_t fallback, std::size_t max);

}  // namespace gatehouse::host::api
