#include "inventory/page_fetcher.hpp"

#include <algorithm>
#include <random>
#include <thread>

namespace gatehouse::host::inventory {

FetchOutcome fetch_page(const std::string& handler_id, const std::shared_ptr<ProviderClient>& client,
                        const std::string& provider, const std::string& loader, const std::string& page_token,
                        const SyncOptions& options, const std::atomic<bool>& cancelled) {
  pb::LoadRequest request;
  request.set_loader(loader);
  request.set_page_token(page_token);
  thread_local std::mt19937 random(std::random_device{}());
  auto backoff = options.backoff_initial;
  FetchOutcome outcome{make_error(ErrorCode::internal_error, "no attempt made"), 0};
  for (int attempt = 1;; ++attempt) {
    outcome.response = options.caller->call<pb::LoadResponse>(
        handler_id, client,
        [request, provider](ProviderClient& c, CallDeadline deadline) { return load(c, request, deadline, provider); },
        deadline_in(options.call_timeout), "Load(" + request.loader() + ")",
        provider + " did not answer Load(" + request.loader() + ") within " + std::to_string(options.call_timeout.count()) +
            " ms");
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
