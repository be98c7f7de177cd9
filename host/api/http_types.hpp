// An HTTP exchange as the API service sees it: plain values, no Beast. The transport (http_server) fills a
// request and writes the response; the service and its tests never touch sockets.
#pragma once

#include "common/result.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::host::api {

struct HttpRequest {
  std::string method;         // "GET", "POST", …
  std::string target;         // path and query, as received ("/v1/grants?status=active")
  std::string authorization;  // the Authorization header, "" when absent
  std::string content_type;
  std::optional<std::string> idempotency_key;  // the Idempotency-Key header, when sent (even empty)
  std::string body;
  std::string remote;  // peer address, for logs
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<ErrorCode> error{};  // set by error_response(): the audit outcome and the metrics read it
};

}  // namespace gatehouse::host::api
