#include "health/health_monitor.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <thread>

namespace gatehouse::host::health {

namespace asio = boost::asio;

struct HealthMonitor::Impl {
  Impl(registry::Registry& r, HealthOptions o) : registry(r), options(std::move(o)) {
    if (!options.caller) options.caller = std::make_shared<ProviderCaller>();
  }

  registry::Registry& registry;
  HealthOptions options;
  asio::io_context io;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::thread_pool checkers{2};  // checks run here so a slow provider never delays another's timer
  asio::steady_timer reconcile_timer{io};
  std::map<std::string, std::unique_ptr<asio::steady_timer>, std::less<>> timers;  // io thread only
  std::thread io_thread;
  std::mutex lifecycle;
  bool running = false;

  Result<HealthOutcome> check(std::string_view id) {
    if (!registry.handler(id)) return make_error(ErrorCode::not_found, "handler '" + std::string(id) + "' does not exist");
    // Secret rotation first: references are resolved again, and a changed value re-creates the instance, so
    // what is checked below is the instance with the secrets in force now.
    auto refreshed = registry.refresh_secrets(id);
    auto runtime = registry.runtime(id);
    auto info = registry.handler(id);
    if (!runtime || !info) return make_error(ErrorCode::not_found, "handler '" + std::string(id) + "' does not exist");
    HealthOutcome outcome;
    if (!refreshed) {
      outcome = {false, refreshed.error().describe()};
    } else {
      outcome = check_handler(*runtime, info->provider, options.timeout, *options.caller);
      if (!refreshed->empty()) outcome.reason = *refreshed + "; " + outcome.reason;
    }
    if (auto recorded = registry.record_health(id, outcome.healthy, outcome.reason, outcome.degraded, outcome.unavailable);
        !recorded) {
      spdlog::warn("could not record health of handler {}: {}", id, recorded.error().message);
    }
    return outcome;
  }

  void schedule(const std::string& id, std::chrono::milliseconds delay) {
    auto it = timers.find(id);
    if (it == timers.end()) return;
    it->second->expires_after(delay);
    it->second->async_wait([this, id](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: handler deleted or monitor stopping
      asio::post(checkers, [this, id] {
        (void)check(id);
        asio::post(io, [this, id] { schedule(id, options.interval); });
      });
    });
  }

  void reconcile() {
    const auto handlers = registry.handlers();
    std::map<std::string, bool, std::less<>> present;
    for (const auto& h : handlers) present[h.id] = true;
    for (auto it = timers.begin(); it != timers.end();) {
      if (!present.count(it->first)) {
        it->second->cancel();
        it = timers.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& h : handlers) {
      if (timers.count(h.id)) continue;
      timers.emplace(h.id, std::make_unique<asio::steady_timer>(io));
      schedule(h.id, std::chrono::milliseconds(0));  // a new handler is checked at once
    }
    reconcile_timer.expires_after(options.reconcile);
    reconcile_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) reconcile();
    });
  }
};

HealthMonitor::HealthMonitor(registry::Registry& registry, HealthOptions options)
    : impl_(std::make_unique<Impl>(registry, options)) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->running) return;
  impl_->running = true;
  impl_->io.restart();
  impl_->work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(impl_->io.get_executor());
  asio::post(impl_->io, [this] { impl_->reconcile(); });
  impl_->io_thread = std::thread([this] { impl_->io.run(); });
}

void HealthMonitor::stop() {
  std::lock_guard lock(impl_->lifecycle);
  if (!impl_->running) return;
  impl_->running = false;
  asio::post(impl_->io, [this] {
    impl_->reconcile_timer.cancel();
    for (auto& [_, t] : impl_->timers) t->cancel();
    impl_->timers.clear();
  });
  impl_->work.reset();
  impl_->checkers.join();  // in-flight checks finish (bounded by the call timeout)
  impl_->io.stop();
  if (impl_->io_thread.joinable()) impl_->io_thread.join();
}

Result<HealthOutcome> HealthMonitor::check_now(std::string_view handler_id) { return impl_->check(handler_id); }

}  // namespace gatehouse::host::health
