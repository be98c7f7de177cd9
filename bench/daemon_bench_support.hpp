// What the benchmarks that drive the real gatehoused share: a token's SHA-256 for the config, a free loopback
// port, HTTP/1.1 exchanges over loopback (responses framed by Content-Length, as gatehoused always sends
// them), and starting gatehoused with a generated config until /readyz answers 200. Plain functions over
// file descriptors: each connection belongs to one thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace gatehouse::bench {

std::string sha256_hex(const std::string& text);

// A loopback port nobody listened on a moment ago (bind to 0, read it, close).
int free_port();

// An HTTP/1.1 request with a bearer token (when not empty) and a JSON body (when not empty).
// `close`: ask the server to close the connection after answering.
std::string http_request(const std::string& method, const std::string& target, const std::string& token,
                         const std::string& body = "", bool close = false);

// A TCP connection to 127.0.0.1:port with TCP_NODELAY, or -1.
int connect_loopback(int port);

// Sends `request` on `fd` and reads one response. Returns its status and puts its body in `body`; 0 when the
// connection failed or closed, -1 when the response had no Content-Length.
int exchange(int fd, const std::string& request, std::string* body = nullptr);

// One exchange on a fresh connection (closed after it): as exchange(), 0 when gatehoused was not reachable.
int http_call(int port, const std::string& request, std::string* body = nullptr);

// Forks `gatehoused --config CONFIG` with stderr to `log_path` and `env` added to its environment, and waits
// (up to 120 s: the embedded store is initialised on first start) until GET /readyz answers 200. Returns its
// pid, or -1 with the reason in `why` (it exited, or never became ready: then it is killed).
pid_t start_gatehoused(const std::string& exe, const std::string& config, const std::string& log_path,
                       const std::map<std::string, std::string>& env, int port, std::string& why);

// SIGTERM and wait for it.
void stop_gatehoused(pid_t pid);

}  // namespace gatehouse::bench
