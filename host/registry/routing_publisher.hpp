// Hands each new routing snapshot to its subscribers, on a thread of its own, so whoever published (a health
// check, an API call, a replica reconcile) never waits on what a subscriber does with it (the grant engine wakes
// pending grants in the database). Snapshots published faster than subscribers take them are folded: a
// subscriber always gets the newest, and gets it at least once after every publish.
//
// Thread-safe: publish(), subscribe() and Subscription's destructor may be called from any thread. Callbacks run
// on the publisher's thread, one at a time; a callback must not destroy its own Subscription (that waits for the
// callback to return).
#pragma once

#include "grants/control_plane_view.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace gatehouse::host::registry {

class RoutingPublisher : public std::enable_shared_from_this<RoutingPublisher> {
 public:
  using Callback = std::function<void(const grants::RoutingView&)>;

  // Unsubscribes when destroyed, after any callback of it in flight has returned.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    void reset();

   private:
    friend class RoutingPublisher;
    Subscription(std::weak_ptr<RoutingPublisher> publisher, std::uint64_t id) : publisher_(std::move(publisher)), id_(id) {}
    std::weak_ptr<RoutingPublisher> publisher_;
    std::uint64_t id_ = 0;
  };

  static std::shared_ptr<RoutingPublisher> create();
  ~RoutingPublisher();
  RoutingPublisher(const RoutingPublisher&) = delete;
  RoutingPublisher& operator=(const RoutingPublisher&) = delete;

  void publish(grants::RoutingView view);
  Subscription subscribe(Callback callback);
  // Stops delivering (what is queued is dropped) and joins the thread. Idempotent; the destructor calls it.
  void stop();

 private:
  RoutingPublisher() = default;
  void loop();
  void unsubscribe(std::uint64_t id);

  std::mutex mutex_;  // pending_, generation_, stopping_, next_id_
  std::condition_variable wake_;
  grants::RoutingView pending_;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
  std::uint64_t next_id_ = 1;
  // Held while callbacks run; unsubscribe takes it, so a Subscription is gone only after its callback returned.
  std::mutex callbacks_mutex_;
  std::map<std::uint64_t, std::shared_ptr<Callback>> callbacks_;
  std::thread thread_;
};

}  // namespace gatehouse::host::registry
