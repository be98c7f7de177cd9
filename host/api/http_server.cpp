#include "api/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <optional>
#include <thread>
#include <vector>

namespace gatehouse::host::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// The transport's own error answers (the status from the code table). Hand-written JSON: the transport does not
// depend on the API's JSON library, and these texts are fixed.
HttpResponse transport_error(ErrorCode code, const std::string& message) {
  return HttpResponse{http_status_of(code),
                      std::string("{\"error\":{\"code\":\"") + std::string(error_code_name(code)) +
                          "\",\"message\":\"" + message + "\",\"details\":[]}}\n",
                      "application/json", {}, code};
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  Observer observer;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  // Where handlers run (HttpServerOptions::threads); created in start().
  std::optional<asio::thread_pool> workers;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  std::mutex mutex;
  std::condition_variable idle;
  bool stopped = false;

  void accept();
  // Under the mutex, so stop() cannot check in_flight between the decrement and the notify and miss it.
  void finished_one() {
    std::lock_guard lock(mutex);
    if (--in_flight == 0) idle.notify_all();
  }
  bool on_io_thread(const HttpRequest& request) const {
    const std::string path = request.target.substr(0, request.target.find('?'));
    for (const auto& p : options.io_thread_paths)
      if (p == path) return true;
    return false;
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(server) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void start() { read(true); }

 private:
  void read(bool first) {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    // A keep-alive connection may wait longer for its next request than a request may take to arrive.
    arm_read_timer(first ? server_.options.read_timeout : server_.options.idle_timeout);
    started_reading_ = false;
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec, buffer_.size() > 0);
    started_reading_ = true;
    arm_read_timer(server_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  // Reads are timed by our own timer rather than the stream's: a stream that times out closes its socket, and a
  // client that sent half a request deserves to hear why it is being dropped (408).
  void arm_read_timer(std::chrono::seconds timeout) {
    timed_out_ = false;
    stream_.expires_never();  // the write timeout of the previous response must not cut this read short
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the read finished in time
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void on_read_error(beast::error_code ec, bool partial) {
    timer_.cancel();
    if (timed_out_ && ec == asio::error::operation_aborted) {
      if (partial || started_reading_) return fail(ErrorCode::timeout, "the request was not received in time");
      return close();  // an idle keep-alive connection: just close it
    }
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
      return close();
    if (ec == http::error::body_limit)
      return fail(ErrorCode::payload_too_large,
                  "the request body is larger than " + std::to_string(server_.options.max_body_bytes) + " bytes");
    if (ec == http::error::header_limit) return fail(ErrorCode::headers_too_large, "the request headers are too large");
    return fail(ErrorCode::bad_request, "the request is not valid HTTP/1.1");
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec, true);
    timer_.cancel();
    auto message = parser_->release();
    // Two credentials in one request: which one a proxy checked and which one we would verify is a guess, and
    // guessing is how a request gets through on the wrong identity. Refused before any handler runs.
    if (const auto n = message.count(http::field::authorization); n > 1)
      return fail(ErrorCode::bad_request,
                  "the request has " + std::to_string(n) + " Authorization headers; send exactly one");
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.authorization = std::string(message[http::field::authorization]);
    request.content_type = std::string(message[http::field::content_type]);
    // One key per request: two would make "the same request again" ambiguous (POST /v1/grants, docs/api.md).
    if (const auto n = message.count("Idempotency-Key"); n > 1)
      return fail(ErrorCode::bad_request, "the request has " + std::to_string(n) + " Idempotency-Key headers; send one");
    if (auto key = message.find("Idempotency-Key"); key != message.end())
      request.idempotency_key = std::string(key->value());
    request.body = std::move(message.body());
    request.remote = remote_;
    keep_alive_ = message.keep_alive() && !server_.stopping;
    version_ = message.version();

    ++server_.in_flight;
    if (server_.on_io_thread(request)) {
      respond(handle(request));
      return;
    }
    // The handler may wait on PostgreSQL or a provider: a worker does it, and the answer is written back on this
    // session's strand (the stream's executor), where every other operation of the session runs.
    asio::post(*server_.workers, [self = shared_from_this(), request = std::move(request)]() mutable {
      auto response = self->handle(request);
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response)]() mutable { self->respond(std::move(response)); });
    });
  }

  HttpResponse handle(const HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    HttpResponse response;
    try {
      response = server_.handler(request);
    } catch (...) {
      response = transport_error(ErrorCode::internal_error, "the server failed to handle the request");
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    if (server_.observer) {
      try {
        server_.observer(request, response.status, elapsed);
      } catch (...) {
      }
    }
    return response;
  }

  void respond(HttpResponse response) {
    write(std::move(response));
    server_.finished_one();
  }

  void fail(ErrorCode code, const std::string& message) {
    keep_alive_ = false;
    write(transport_error(code, message));
  }

  void write(HttpResponse response) {
    auto out = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), version_);
    out->set(http::field::server, "gatehoused");
    out->set(http::field::content_type, response.content_type);
    out->set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : response.headers) out->set(name, value);
    out->body() = std::move(response.body);
    out->keep_alive(keep_alive_);
    out->prepare_payload();
    stream_.expires_after(server_.options.write_timeout);
    http::async_write(stream_, *out, [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
      if (ec || !self->keep_alive_) return self->close();
      self->read(false);
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  bool timed_out_ = false;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  bool keep_alive_ = false;
  bool started_reading_ = false;
  unsigned version_ = 11;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) return;
      spdlog::warn("API accept failed: {}", ec.message());
    } else {
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
    if (!stopping) accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options, Handler handler,
                                                      Observer observer) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->observer = std::move(observer);
  const std::string where = options.address + ":" + std::to_string(options.port);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec)
    return make_error(ErrorCode::listen_failed, "cannot listen on " + where + ": '" + options.address +
                                           "' is not an IP address (use e.g. 127.0.0.1 or ::1)");
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(ErrorCode::listen_failed, "cannot listen on " + where + ": " + ec.message());
  impl->workers.emplace(std::max<std::size_t>(1, options.threads));
  impl->accept();
  const std::size_t n = std::max<std::size_t>(1, options.io_threads);
  for (std::size_t i = 0; i < n; ++i) impl->threads.emplace_back([io = &impl->io] { io->run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

unsigned short HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

std::string HttpServer::address() const {
  beast::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  const auto host = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(endpoint.port());
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->stopping = true;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  {
    std::unique_lock lock(impl_->mutex);
    impl_->idle.wait_for(lock, grace, [this] { return impl_->in_flight.load() == 0; });
  }
  // Workers first: a handler still running finishes (its provider calls have deadlines) and posts its answer
  // to an io_context that is then stopped; nothing runs a handler after stop() returns.
  impl_->workers->join();
  impl_->io.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

}  // namespace gatehouse::host::api
