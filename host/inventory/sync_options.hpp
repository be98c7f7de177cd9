// How the sync engine runs: schedule, concurrency, timeouts, retries, batching.
#pragma once

#include "loader/provider_caller.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

namespace gatehouse::host::inventory {

struct SyncOptions {
  // Scheduled syncs: every handler that is healthy is synced this often (counted from its last run's start,
  // which is read from sync_runs, so a restart does not resync everything at once).
  std::chrono::seconds interval{std::chrono::hours(1)};
  std::map<std::string, std::chrono::seconds, std::less<>> interval_by_handler;  // overrides; 0 = never scheduled
  std::size_t max_parallel_handlers = 2;   // scheduled runs at once in this process
  std::chrono::milliseconds scheduler_tick{1000};

  // One run: Load calls in flight at once (page chains and follow-up tasks run in parallel up to this).
  // The database needs concurrency + 2 free connections (lock holder, and the writer per fetcher).
  std::size_t concurrency = 2;
  std::chrono::milliseconds call_timeout{60'000};  // per Load call; past it the call counts as deadline_exceeded
  int max_attempts = 5;                            // per page, retryable failures only
  std::chrono::milliseconds backoff_initial{200};  // doubled per attempt, with jitter, up to backoff_max
  std::chrono::milliseconds backoff_max{10'000};
  std::size_t batch_rows = 50'000;      // rows copied to staging before they are merged and committed
  std::chrono::milliseconds progress_interval{2000};  // a batch open this long is committed: progress shows
  std::size_t max_pages_per_loader = 10'000'000;  // a provider that never stops paging is cut off with an error
  // Makes the Load calls (shared with health checks in the daemon); null: the sync engine makes its own.
  std::shared_ptr<ProviderCaller> caller{};
};

}  // namespace gatehouse::host::inventory
