// The HTTP transport hands handlers to a worker pool: a handler stuck on a slow provider or database holds a
// worker, while /healthz is still answered on the I/O threads (issue 14 item 4). Real sockets, the real server.
#include "api/http_server.hpp"
#include "raw_http.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using namespace gatehouse::host::api;
using gatehouse::test::http_call;

namespace {

// Requests to /slow wait here until release(); the test waits on entered() instead of sleeping.
class Gate {
 public:
  void enter() {
    std::unique_lock lock(mutex_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  bool wait_entered(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return entered_ >= n; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool open_ = false;
};

}  // namespace

TEST_CASE("a handler that blocks holds a worker, not an I/O thread: /healthz and other calls are still answered") {
  Gate gate;
  HttpServerOptions options;
  options.port = 0;
  options.threads = 3;     // workers
  options.io_threads = 1;  // one I/O thread: before the worker pool, one slow handler stopped everything
  auto server = HttpServer::start(options, [&](const HttpRequest& request) {
    if (request.target == "/slow") gate.enter();
    HttpResponse response;
    response.body = "{\"target\":\"" + request.target + "\"}\n";
    return response;
  });
  REQUIRE(server.ok());
  const int port = (*server)->port();

  // Two slow calls take two of the three workers and stay there.
  std::vector<std::thread> slow;
  std::vector<int> slow_status(2, 0);
  for (int i = 0; i < 2; ++i) slow.emplace_back([&, i] { slow_status[i] = http_call(port, "GET", "/slow").status; });
  REQUIRE(gate.wait_entered(2));

  const auto health = http_call(port, "GET", "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "{\"target\":\"/healthz\"}\n");
  const auto other = http_call(port, "GET", "/v1/grants");
  CHECK(other.status == 200);
  CHECK(other.body == "{\"target\":\"/v1/grants\"}\n");

  gate.release();
  for (auto& t : slow) t.join();
  CHECK(slow_status == std::vector<int>{200, 200});
  (*server)->stop(std::chrono::seconds(5));
}
