// A deliberately dumb HTTP client for tests: raw bytes over a loopback TCP socket, so tests can send what a
// real client never would (garbage, oversized bodies, requests that stall halfway).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>

namespace gatehouse::test {

struct RawResponse {
  int status = 0;  // 0: no HTTP response (connection closed or timed out)
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

// Sends `bytes` and reads one response (Content-Length or until close). `stall_after` > 0: send only that
// many bytes and then wait for the server's answer without sending the rest.
RawResponse raw_exchange(int port, const std::string& bytes, int timeout_seconds = 20, std::size_t stall_after = 0);
// The same, calling `stalled` (from the calling thread) once those first `stall_after` bytes are sent: the
// request now hangs halfway, for a test to wait on.
RawResponse raw_exchange(int port, const std::string& bytes, int timeout_seconds, std::size_t stall_after,
                         const std::function<void()>& stalled);

// A well-formed request with an optional bearer token and JSON body.
std::string http_request(const std::string& method, const std::string& target, const std::string& token = "",
                         const std::string& body = "", const std::string& content_type = "application/json");

// Status and body of a well-formed request.
RawResponse http_call(int port, const std::string& method, const std::string& target, const std::string& token = "",
                      const std::string& body = "");

// A free loopback TCP port (bound and released; the daemon binds it right after).
int free_port();

}  // namespace gatehouse::test
