#include "registry/runner_events.hpp"

#include <spdlog/spdlog.h>

namespace gatehouse::host::registry {

RunnerEventQueue::RunnerEventQueue() : thread_([this] { loop(); }) {}

RunnerEventQueue::~RunnerEventQueue() { stop(); }

void RunnerEventQueue::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  tasks_.push_back(std::move(task));
  ++posted_;
  changed_.notify_all();
}

void RunnerEventQueue::drain() {
  std::unique_lock lock(mutex_);
  const auto target = posted_;
  changed_.wait(lock, [&] { return stopping_ || finished_ >= target; });
}

void RunnerEventQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    tasks_.clear();
    changed_.notify_all();
  }
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) thread_.detach(); else thread_.join();
}

void RunnerEventQueue::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (stopping_) return;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      // A failed report must not end the thread: later reports would be lost.
      spdlog::error("recording a provider runner's health failed: {}", e.what());
    } catch (...) {
      spdlog::error("recording a provider runner's health failed");
    }
    lock.lock();
    ++finished_;
    changed_.notify_all();
  }
}

}  // namespace gatehouse::host::registry
