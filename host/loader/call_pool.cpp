#include "loader/call_pool.hpp"

namespace gatehouse::host {

CallPool::CallPool(std::size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {}

CallPool::~CallPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void CallPool::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(task));
  if (idle_ < queue_.size() && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { run(); });
  } else {
    ready_.notify_one();
  }
}

std::size_t CallPool::threads() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void CallPool::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_;
    ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping and drained
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace gatehouse::host
