#include "inventory/page_fetcher.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace gatehouse::host::inventory {

Result<pb::LoadResponse> load_with_deadline(const std::shared_ptr<ProviderClient>& client, const std::string& provider,
                                            const pb::LoadRequest& request, std::chrono::milliseconds timeout) {
  struct State {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Result<pb::LoadResponse>> result;
  };
  auto state = std::make_shared<State>();
  // The thread owns what it touches (client, request, state), so abandoning it is safe.
  std::thread([state, client, provider, request] {
    Result<pb::LoadResponse> result = [&]() -> Result<pb::LoadResponse> {
      try {
        return load(*client, request, provider);
      } catch (const std::exception& e) {
        return make_error(ErrorCode::internal_error, std::string("the Load call threw: ") + e.what());
      }
    }();
    std::lock_guard lock(state->mutex);
    state->result.emplace(std::move(result));
    state->done.notify_all();
  }).detach();
  std::unique_lock lock(state->mutex);
  if (!state->done.wait_for(lock, timeout, [&] { return state->result.has_value(); })) {
    return make_error(ErrorCode::deadline_exceeded, provider + " did not answer Load(" + request.loader() + ") within " +
                                               std::to_string(timeout.count()) + " ms");
  }
  return std::move(*state->result);
}

FetchOutcome fetch_page(const std::shared_ptr<ProviderClient>& client, const std::string& provider,
                        const std::string& loader, const std::string& page_token, const SyncOptions& options,
                        const std::atomic<bool>& cancelled) {
  pb::LoadRequest request;
  request.set_loader(loader);
  request.set_page_token(page_token);
  thread_local std::mt19937 random(std::random_device{}());
  auto backoff = options.backoff_initial;
  FetchOutcome outcome{make_error(ErrorCode::internal_error, "no attempt made"), 0};
  for (int attempt = 1;; ++attempt) {
    outcome.response = load_with_deadline(client, provider, request, options.call_timeout);
    if (outcome.response.ok() || !is_retryable(outcome.response.error()) || attempt >= options.max_attempts ||
        cancelled.load()) {
      if (!outcome.response.ok() && attempt > 1) {
        Error error = outcome.response.take_error();
        error.message += " (after " + std::to_string(attempt) + " attempts)";
        outcome.response = std::move(error);
      }
      return outcome;
    }
    ++outcome.retries;
    // Full jitter between half and all of the current backoff: replicas retrying together spread out.
    const auto half = backoff.count() / 2;
    std::uniform_int_distribution<long long> jitter(half, std::max<long long>(half, backoff.count()));
    const auto wait = std::chrono::milliseconds(jitter(random));
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until && !cancelled.load())
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(50)));
    backoff = std::min(backoff * 2, options.backoff_max);
  }
}

}  // namespace gatehouse::host::inventory
