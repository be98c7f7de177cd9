// The HTTP/1.1 transport of the API on Boost.Beast: accepts on one address, reads requests with a body limit
// and read/write timeouts, hands each to a handler function and writes its response (keep-alive honoured).
// Malformed requests never reach the handler: they get a JSON error (400 bad request — not HTTP/1.1, or more
// than one Authorization header —, 408 too slow, 413 too large, 431 headers too large) and the connection is
// closed. Handlers run on the server's threads
// and may block (database calls); slow clients do not hold a thread (reads are asynchronous).
#pragma once

#include "api/http_types.hpp"
#include "common/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gatehouse::host::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 8470;  // 0: any free port (see HttpServer::port())
  // Handler threads (a worker pool): every request but those of `io_thread_paths` is handled there, so a slow
  // provider or database holds a worker, never an I/O thread. The database pool is sized from this.
  std::size_t threads = 4;
  // I/O threads: accept, read, write, and answer `io_thread_paths` (cheap, in-memory: /healthz) themselves.
  std::size_t io_threads = 2;
  std::vector<std::string> io_thread_paths{"/healthz"};
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::seconds read_timeout{10};   // for a whole request, headers and body
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds idle_timeout{60};   // keep-alive connections with no request pending
};

// Threads: the Handler and the Observer are called from the worker and I/O threads at once, so they must be
// thread-safe. stop() may be called from any thread and is idempotent (a mutex guards it), but never from a
// Handler or Observer: it joins the I/O and worker threads. port() and address() may be called from any thread before stop().
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Called after each response with the request, its status and how long handling took (metrics, logs).
  using Observer = std::function<void(const HttpRequest&, int status, std::chrono::duration<double>)>;

  // Binds and starts serving. Error "listen_failed" naming the address (in use, not local, …).
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options, Handler handler,
                                                   Observer observer = nullptr);
  ~HttpServer();  // stop(0)

  unsigned short port() const;
  std::string address() const;

  // Stops accepting, lets requests being handled finish (up to `grace`), then closes every connection.
  void stop(std::chrono::milliseconds grace);

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::host::api
