// The CLI's connection to gatehoused: one HTTP/1.1 request per call over a fresh TCP connection (Beast,
// synchronous), JSON in and out. Where to connect and which token to send come from --server/--token or
// GATEHOUSE_SERVER/GATEHOUSE_TOKEN; the token is sent as a bearer token and never printed.
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::cli {

struct ServerOptions {
  std::string server = "http://127.0.0.1:8470";
  std::string token;
  std::chrono::seconds timeout{30};
};

struct ApiReply {
  int status = 0;
  nlohmann::json body;  // the parsed JSON body (null when the body was not JSON)
  std::string raw;      // the body as received
};

// Error codes: "usage" (the server URL is malformed), "unreachable" (cannot connect), "connection_lost" (the
// request may have reached the server, but no answer came back), "timeout" (no answer in time); the sentence
// names the server. `headers`: extra request headers (e.g. Idempotency-Key).
host::Result<ApiReply> call_api(const ServerOptions& options, const std::string& method, const std::string& path,
                                const std::optional<nlohmann::json>& body = std::nullopt,
                                const std::vector<std::pair<std::string, std::string>>& headers = {});

// Percent-encodes one path segment or query value.
std::string url_encode(const std::string& text);

}  // namespace gatehouse::cli
