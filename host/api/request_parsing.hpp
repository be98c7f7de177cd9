// Untrusted input of the HTTP API turned into typed values: request targets (path segments, query) and JSON
// bodies. Every refusal is an Error with code "invalid_argument" (or "invalid_json") and the JSON pointer of
// each fault. Unknown fields are refused, so a typo never passes silently. Text PostgreSQL cannot store (a NUL,
// raw or as \u0000 or %00; ill-formed UTF-8) is refused here, anywhere in a body or a target, before any
// endpoint sees it. Pure functions: safe from any thread.
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
// control characters, NUL or ill-formed UTF-8, or repeats a query parameter. Faults are located in a virtual
// document of the target: "/path/<index>" (0-based segment) and "/query/<name>".
Result<RequestTarget> parse_target(std::string_view target);

// A JSON object, or Error "invalid_json" (a syntax error with the byte offset, or a key repeated in one object,
// named with its path) / "invalid_argument" (not an object; a NUL or ill-formed UTF-8 in a string or key, with
// its path). See common/strict_json.hpp. An empty body is an empty object.
Result<nlohmann::json> parse_json_object(std::string_view body);

struct GrantRequestBody {
  std::string subject;  // empty when absent: the caller's own subject (an explicit "" is refused at /subject)
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
  std::optional<std::string> backend;  // absent: none (create) / unchanged (update); "" removes it
};

// PATCH /v1/handlers/{id}: what is given replaces, what is absent is kept.
struct HandlerUpdateBody {
  std::optional<std::string> id;  // when given, it must be the id in the path
  std::optional<std::string> provider;
  std::optional<std::string> isolation;
  std::optional<nlohmann::json> config;
  std::optional<std::string> backend;  // "" (or null in the body) removes the declared backend
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
  bool force = false;   // admins: close a revoking grant unconfirmed (access_may_persist); reason required
  std::string handler;  // admins: send the revoke to this handler of the same provider and backend
};

// Durations are "duration": "1h30m" (text with a unit on every number, common/duration_text.hpp) or an
// integer number of seconds ("duration": 5400 or "duration_seconds": 5400; exactly one); at least 1s, in whole
// seconds. Times are RFC 3339.
Result<GrantRequestBody> parse_grant_request(const nlohmann::json& body);
Result<HandlerBody> parse_handler(const nlohmann::json& body);
Result<HandlerUpdateBody> parse_handler_update(const nlohmann::json& body);
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
