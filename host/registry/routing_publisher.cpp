#include "registry/routing_publisher.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace gatehouse::host::registry {

RoutingPublisher::Subscription::Subscription(Subscription&& other) noexcept
    : publisher_(std::move(other.publisher_)), id_(std::exchange(other.id_, 0)) {}

RoutingPublisher::Subscription& RoutingPublisher::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    publisher_ = std::move(other.publisher_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

RoutingPublisher::Subscription::~Subscription() { reset(); }

void RoutingPublisher::Subscription::reset() {
  if (id_ == 0) return;
  if (auto publisher = publisher_.lock()) publisher->unsubscribe(id_);
  id_ = 0;
  publisher_.reset();
}

std::shared_ptr<RoutingPublisher> RoutingPublisher::create() {
  std::shared_ptr<RoutingPublisher> publisher(new RoutingPublisher());
  publisher->thread_ = std::thread([raw = publisher.get()] { raw->loop(); });
  return publisher;
}

RoutingPublisher::~RoutingPublisher() { stop(); }

void RoutingPublisher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // Never from a callback (the header says so): joining our own thread would throw.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void RoutingPublisher::publish(grants::RoutingView view) {
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(view);
    ++generation_;
  }
  wake_.notify_all();
}

RoutingPublisher::Subscription RoutingPublisher::subscribe(Callback callback) {
  std::lock_guard lock(callbacks_mutex_);
  std::uint64_t id;
  {
    std::lock_guard state(mutex_);
    id = next_id_++;
  }
  callbacks_.emplace(id, std::make_shared<Callback>(std::move(callback)));
  return Subscription(weak_from_this(), id);
}

void RoutingPublisher::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(callbacks_mutex_);
  callbacks_.erase(id);
}

void RoutingPublisher::loop() {
  std::uint64_t delivered = 0;
  for (;;) {
    grants::RoutingView view;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != delivered; });
      if (stopping_) return;
      view = pending_;
      delivered = generation_;
    }
    std::lock_guard callbacks(callbacks_mutex_);
    for (const auto& [id, callback] : callbacks_) {
      try {
        (*callback)(view);
      } catch (const std::exception& e) {
        spdlog::error("a routing subscriber threw: {}", e.what());
      }
    }
  }
}

}  // namespace gatehouse::host::registry
