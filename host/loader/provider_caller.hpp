// Provider calls with a deadline for the host's subsystems (issue 14 item 3): health checks and inventory loads
// go through one ProviderCaller the daemon shares between them.
//
// A client that ends its calls at the deadline itself (isolated: the runner is killed then) is called on the
// caller's thread. An in-process call runs on a bounded pool and is abandoned at the deadline: a thread inside
// a plugin cannot be interrupted, so it keeps its pool thread until the provider returns. The ledger of
// abandoned calls bounds what a hung provider can hold: while a handler has `max_abandoned_per_handler` calls
// out that have not returned, a new in-process call to it is refused at once (deadline_exceeded, saying how
// long the oldest has been out) instead of getting another thread. So a provider that hangs holds one thread,
// not one per health interval or per inventory page.
//
// The grant engine keeps a CallPool of its own: its abandoned calls' late results need the engine (a late
// Grant success is revoked again), so it must outlive them (grants/engine_impl.hpp).
//
// Thread-safe: call(), abandoned() and threads() from any thread at once. The destructor waits for abandoned
// calls to return (they cannot be interrupted): destroy it after the clients' owners stopped calling. gatehoused
// does not destroy it at shutdown while calls are still out (abandoned_total() > 0), so a provider that never
// returns cannot keep SIGTERM from ending the process.
#pragma once

#include "common/result.hpp"
#include "loader/call_pool.hpp"
#include "loader/provider_client.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::host {

struct ProviderCallerOptions {
  std::size_t max_threads = 64;              // pool threads for in-process calls (abandoned ones included)
  std::size_t max_abandoned_per_handler = 1;  // calls a hung handler may hold before new ones are refused
};

class ProviderCaller {
 public:
  explicit ProviderCaller(ProviderCallerOptions options = {});
  ~ProviderCaller();
  ProviderCaller(const ProviderCaller&) = delete;
  ProviderCaller& operator=(const ProviderCaller&) = delete;

  // Runs fn(*client, deadline) for `handler`. `what` names the call in sentences ("Describe", "Load(users)").
  // fn runs on another thread and may outlive this call (abandoned): it must own what it uses.
  // Errors besides fn's own: deadline_exceeded when an in-process call did not return by the deadline
  // (`timed_out`, or "<what> did not answer within 5.0 s") or was not sent because earlier ones are still out.
  template <class T>
  Result<T> call(const std::string& handler, const std::shared_ptr<ProviderClient>& client,
                 std::function<Result<T>(ProviderClient&, CallDeadline)> fn, CallDeadline deadline,
                 std::string_view what, std::string timed_out = {});

  // In-process calls to `handler` abandoned at their deadline that have not returned yet.
  std::size_t abandoned(std::string_view handler) const;
  std::size_t abandoned_total() const;  // over all handlers
  std::size_t threads() const { return pool_.threads(); }

 private:
  struct Outstanding {
    std::size_t count = 0;
    std::chrono::steady_clock::time_point since{};  // when the count last rose from zero
  };
  // An error when `handler` may not get another in-process call now.
  std::optional<Error> refusal(const std::string& handler, std::string_view what) const;
  void abandoned_one(const std::string& handler);
  void returned_one(const std::string& handler);

  ProviderCallerOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, Outstanding, std::less<>> outstanding_;
  CallPool pool_;  // last: destroyed first, joining abandoned calls, whose completions still use mutex_
};

// "5.0 s" (or "200 ms" below a second): a timeout in the sentences of deadline errors.
std::string seconds_text(std::chrono::milliseconds d);

template <class T>
Result<T> ProviderCaller::call(const std::string& handler, const std::shared_ptr<ProviderClient>& client,
                               std::function<Result<T>(ProviderClient&, CallDeadline)> fn, CallDeadline deadline,
                               std::string_view what, std::string timed_out) {
  const CallPlace place = place_of(*client);
  if (place == CallPlace::pool)  // only in-process calls are ever abandoned, so only they are held back
    if (auto refused = refusal(handler, what)) return *refused;
  const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  auto outcome = call_with_deadline<T>(
      pool_, [client, fn = std::move(fn), deadline]() { return fn(*client, deadline); }, deadline,
      [this, &handler] { abandoned_one(handler); }, [this, handler](Result<T>) { returned_one(handler); }, place);
  if (!outcome)
    return make_error(ErrorCode::deadline_exceeded, timed_out.empty() ? std::string(what) + " did not answer within " +
                                                                            seconds_text(timeout)
                                                                      : std::move(timed_out));
  return std::move(*outcome);
}

}  // namespace gatehouse::host
