// A single thread that runs posted tasks in order. The registry posts runner health reports here: they arrive on
// isolation threads (a runner's watcher, the supervisor's restart thread, a caller that found its runner dead),
// which must never wait on the registry's lock or on the database. One thread keeps the reports of a handler in
// the order they were made (died, then restarted).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace gatehouse::host::registry {

// Thread-safe: post() and drain() may be called from any thread at once (drain() not from a task: it would wait
// for itself). stop() and the destructor belong to the owner, one thread at a time.
class RunnerEventQueue {
 public:
  RunnerEventQueue();
  ~RunnerEventQueue();  // stop()
  RunnerEventQueue(const RunnerEventQueue&) = delete;
  RunnerEventQueue& operator=(const RunnerEventQueue&) = delete;

  // Never blocks on the task's work. After stop(), tasks are dropped.
  void post(std::function<void()> task);
  // Waits until every task posted before this call has run (or the queue was stopped).
  void drain();
  // Lets the running task finish, drops the rest, joins the thread. Idempotent; not from a task.
  void stop();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> tasks_;
  std::uint64_t posted_ = 0;
  std::uint64_t finished_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gatehouse::host::registry
