// Provider calls with a deadline, on a pool: the mechanism under ProviderCaller (provider_caller.hpp) and the
// grant engine's calls.
//
// A call runs on a pool thread while the caller waits until its deadline. A call still running at the
// deadline is *abandoned*, not stopped: an in-process provider call cannot be interrupted (there is no safe
// way to cancel a thread inside a plugin), so it keeps its thread until it returns, and its result, when it
// finally arrives, goes to the caller's `on_late` callback (which, for a Grant, takes back access that a
// late success gave). In isolation mode the runner process is killed on timeout instead, so nothing comes
// back late. The pool grows a thread whenever none is idle (abandoned calls hold theirs), up to a cap; past
// the cap calls queue, and time spent queued counts against their deadline.
#pragma once

#include "common/result.hpp"
#include "loader/provider_client.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace gatehouse::host {

// Thread-safe: post() and threads() may be called from any thread at once (a mutex guards the queue and the
// thread list). The destructor joins the pool's threads: never run it from a task, nor post once it has begun.
class CallPool {
 public:
  explicit CallPool(std::size_t max_threads = 256);
  // Waits for every running and queued task: abandoned calls included (they cannot be interrupted).
  ~CallPool();
  CallPool(const CallPool&) = delete;
  CallPool& operator=(const CallPool&) = delete;

  void post(std::function<void()> task);
  std::size_t threads() const;

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  std::size_t max_threads_;
  bool stopping_ = false;
};

// fn() with what it throws turned into an internal_error.
template <class T, class Fn>
Result<T> guarded_call(Fn& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error, std::string("the call threw: ") + e.what());
  } catch (...) {
    return make_error(ErrorCode::internal_error, "the call threw a value that is not an exception");
  }
}

// How a call reaches its provider: on the pool, abandoned at the deadline (in-process instances), or on the
// caller's thread (a client that ends the call at the deadline itself: ProviderClient::enforces_deadline).
enum class CallPlace { pool, caller };

// Where a call to `client` runs: on the caller's thread when the client ends it at the deadline itself (an
// isolated runner is killed then, so nothing can come back late), else on the pool.
inline CallPlace place_of(const ProviderClient& client) {
  return client.enforces_deadline() ? CallPlace::caller : CallPlace::pool;
}

// Runs fn() on `pool` and waits until `deadline`. Returns its result, or nullopt when the deadline passed:
// then `on_abandon` runs at once (under the call's lock, so before `on_late` can) and `on_late(result)`
// runs on the pool thread when fn finally returns. With CallPlace::caller, fn runs here and is never abandoned.
template <class T>
std::optional<Result<T>> call_with_deadline(CallPool& pool, std::function<Result<T>()> fn,
                                            std::chrono::steady_clock::time_point deadline,
                                            const std::function<void()>& on_abandon,
                                            std::function<void(Result<T>)> on_late,
                                            CallPlace place = CallPlace::pool) {
  if (place == CallPlace::caller) return guarded_call<T>(fn);
  struct State {
    std::mutex mutex;
    std::condition_variable done_cv;
    std::optional<Result<T>> result;
    bool abandoned = false;
    std::function<void(Result<T>)> late;
  };
  auto state = std::make_shared<State>();
  pool.post([state, fn = std::move(fn)]() mutable {
    Result<T> result = guarded_call<T>(fn);
    std::function<void(Result<T>)> late;
    {
      std::lock_guard lock(state->mutex);
      if (!state->abandoned) {
        state->result.emplace(std::move(result));
        state->done_cv.notify_all();
        return;
      }
      late = std::move(state->late);
    }
    if (late) late(std::move(result));
  });
  std::unique_lock lock(state->mutex);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->result.has_value(); })) {
    state->abandoned = true;
    state->late = std::move(on_late);
    if (on_abandon) on_abandon();
    return std::nullopt;
  }
  return std::move(state->result);
}

}  // namespace gatehouse::host
