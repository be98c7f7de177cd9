// What every remote verb does with the daemon's answers: JSON values as table cells, and errors as one
// line (plus one per field fault) with the exit code that fits the status.
#pragma once

#include "cli/api_client.hpp"
#include "cli/remote_commands.hpp"

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace gatehouse::cli {

// A JSON value as a table cell: "-" for null, strings as they are, anything else as JSON.
std::string cell(const nlohmann::json& value);
// obj[name] as a cell, "-" when absent.
std::string field(const nlohmann::json& obj, const char* name);

// Prints the API error of a non-2xx reply; returns the exit code (401/403 → 5, 404 → 6, 4xx → 3, else 1).
int report_reply_error(RemoteContext& ctx, const ApiReply& reply);
// Prints a transport error (unreachable, timeout, malformed --server); returns 4 (or 2 for usage).
int report_transport_error(RemoteContext& ctx, const host::Error& error);

// One call: nullopt and `out` filled on success, else the exit code after printing the error.
std::optional<int> fetch(RemoteContext& ctx, const std::string& method, const std::string& path,
                         const std::optional<nlohmann::json>& body, nlohmann::json& out);

}  // namespace gatehouse::cli
