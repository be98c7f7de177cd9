// Threads: `threads` of them run the io_context. The one whose read completes takes the complete frames out of
// the buffer, re-arms the read at once (so another thread reads the next frame while this one works), posts
// all but the last frame and handles the last itself: the common single-request case costs no thread hop.
// Replies are written under a mutex straight to the socket (sendmsg), from whichever thread finished the call.
#include "isolation/runner_server.hpp"

#include "isolation/wire.hpp"

#include <gatehouse/provider/v1/provider.pb.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace gatehouse::host::isolation {
namespace {

namespace asio = boost::asio;
namespace pb = ::gatehouse::provider::v1;

struct Frame {
  FrameHeader header;
  std::string payload;
};

class Server {
 public:
  Server(int fd, Result<std::shared_ptr<ProviderModule>> module, unsigned threads)
      : socket_(io_), threads_(std::max(1u, threads)) {
    socket_.assign(asio::local::stream_protocol(), fd);
    if (module) {
      module_ = std::move(*module);
    } else {
      refusal_ = module.take_error();
    }
  }

  int run() {
    read_more();
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads_; ++i) pool.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : pool) t.join();
    // The host closed its end and every call returned: destroy the instances (the providers' destroy()).
    std::lock_guard lock(instances_mutex_);
    instances_.clear();
    return exit_code_;
  }

 private:
  void read_more() {
    socket_.async_read_some(asio::buffer(buffer_.data() + have_, buffer_.size() - have_),
                            [this](const boost::system::error_code& error, std::size_t n) { on_read(error, n); });
  }

  void on_read(const boost::system::error_code& error, std::size_t n) {
    if (error) return;  // EOF: the host is done with us. Not re-arming lets io_.run() return once calls finish.
    have_ += n;
    std::vector<Frame> frames;
    std::size_t offset = 0;
    while (have_ - offset >= kFrameHeaderSize) {
      auto header = decode_header(buffer_.data() + offset);
      if (!header) {
        spdlog::error("the host broke the runner protocol: {}; stopping", header.error().message);
        exit_code_ = 3;
        ::shutdown(socket_.native_handle(), SHUT_RDWR);
        return;
      }
      const std::size_t size = kFrameHeaderSize + header->payload_size;
      if (have_ - offset < size) {
        if (buffer_.size() < size) {
          std::memmove(buffer_.data(), buffer_.data() + offset, have_ - offset);
          have_ -= offset;
          offset = 0;
          buffer_.resize(size);
        }
        break;
      }
      frames.push_back({*header, std::string(buffer_.data() + offset + kFrameHeaderSize, header->payload_size)});
      offset += size;
    }
    if (offset > 0) {
      std::memmove(buffer_.data(), buffer_.data() + offset, have_ - offset);
      have_ -= offset;
    }
    read_more();
    if (frames.empty()) return;
    for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
      asio::post(io_, [this, frame = std::move(frames[i])]() mutable { handle(frame); });
    }
    handle(frames.back());
  }

  void handle(const Frame& frame) {
    const auto& h = frame.header;
    switch (h.kind) {
      case FrameKind::describe: return describe(h);
      case FrameKind::create: return create(h, frame.payload);
      case FrameKind::invoke: return invoke(h, frame.payload);
      case FrameKind::destroy: {
        std::shared_ptr<ProviderClient> doomed;  // destroyed after the last call holding it returns
        {
          std::lock_guard lock(instances_mutex_);
          if (auto it = instances_.find(h.instance_id); it != instances_.end()) {
            doomed = std::move(it->second);
            instances_.erase(it);
          }
        }
        doomed.reset();
        return reply(h, FrameKind::reply_ok, {});
      }
      default:
        return reply_error(h, make_error(ErrorCode::protocol_violation, "unknown frame kind " +
                                                                  std::to_string(static_cast<unsigned>(h.kind))));
    }
  }

  void describe(const FrameHeader& h) {
    if (refusal_) return reply_error(h, *refusal_);
    Description d{module_->identity(), module_->schema(), module_->path()};
    reply(h, FrameKind::reply_ok, encode_description(d));
  }

  void create(const FrameHeader& h, const std::string& payload) {
    if (refusal_) return reply_error(h, *refusal_);
    pb::ConfigureRequest request;
    if (!request.ParseFromString(payload)) {
      return reply_error(h, make_error(ErrorCode::bad_request, "the create request is not a ConfigureRequest"));
    }
    auto config = nlohmann::json::parse(request.config_json(), nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded()) return reply_error(h, make_error(ErrorCode::bad_request, "the config is not valid JSON"));
    {
      std::lock_guard lock(instances_mutex_);
      if (instances_.count(h.instance_id) != 0) {
        return reply_error(h, make_error(ErrorCode::bad_request, "instance " + std::to_string(h.instance_id) + " exists"));
      }
    }
    auto client = module_->create(config, request.handler_id());
    if (!client) return reply_error(h, client.error());
    {
      std::lock_guard lock(instances_mutex_);
      instances_[h.instance_id] = std::shared_ptr<ProviderClient>(std::move(*client));
    }
    reply(h, FrameKind::reply_ok, {});
  }

  void invoke(const FrameHeader& h, const std::string& payload) {
    std::shared_ptr<ProviderClient> client;
    {
      std::lock_guard lock(instances_mutex_);
      if (auto it = instances_.find(h.instance_id); it != instances_.end()) client = it->second;
    }
    if (!client) {
      return reply_error(h, make_error(ErrorCode::transport_failed, "the runner has no instance " + std::to_string(h.instance_id)));
    }
    // No deadline of the runner's own: the host kills this process at the call's deadline, and the provider
    // reads it from the request (deadline_unix_ms).
    auto response = client->call(payload, CallDeadline::max());
    if (!response) return reply_error(h, response.error());
    if (response->size() > kMaxFramePayload) {
      return reply_error(h, make_error(ErrorCode::bad_response, "the provider answered with " + std::to_string(response->size()) +
                                                           " bytes, over the runner frame limit of " +
                                                           std::to_string(kMaxFramePayload)));
    }
    reply(h, FrameKind::reply_ok, *response);
  }

  void reply_error(const FrameHeader& h, const Error& error) { reply(h, FrameKind::reply_error, encode_error(error)); }

  void reply(const FrameHeader& request, FrameKind kind, std::string_view payload) {
    const EncodedHeader header = encode_header(kind, request.request_id, request.instance_id, payload.size());
    const int fd = socket_.native_handle();
    std::lock_guard lock(write_mutex_);
    // Asio made the socket non-blocking: wait for room as long as it takes. If the host is gone, the read
    // side sees EOF and ends the loop.
    (void)send_frame_bytes(fd, header, payload, [] { return -1; });
  }

  asio::io_context io_;
  asio::local::stream_protocol::socket socket_;
  unsigned threads_;
  std::vector<char> buffer_ = std::vector<char>(64 * 1024);
  std::size_t have_ = 0;  // touched only by the thread whose read completed (one read is outstanding at a time)
  std::mutex write_mutex_;
  std::mutex instances_mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<ProviderClient>> instances_;
  std::shared_ptr<ProviderModule> module_;
  std::optional<Error> refusal_;
  int exit_code_ = 0;
};

}  // namespace

int serve(int fd, Result<std::shared_ptr<ProviderModule>> module, unsigned threads) {
  Server server(fd, std::move(module), threads);
  return server.run();
}

}  // namespace gatehouse::host::isolation
