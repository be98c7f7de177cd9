// One Load page from a provider, with a deadline per call and retries with backoff on retryable failures
// (loader/provider_calls.hpp is_retryable: transport failures, unavailable, deadline_exceeded,
// resource_exhausted, aborted).
//
// A call past its deadline is abandoned, not stopped: an in-process provider call cannot be interrupted, so
// it finishes on its own detached thread and its result is dropped (the provider library stays loaded for
// the process lifetime). In isolation mode the runner enforces its own timeout and kills a hung runner.
#pragma once

#include "common/result.hpp"
#include "inventory/sync_options.hpp"
#include "loader/provider_calls.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace gatehouse::host::inventory {

struct FetchOutcome {
  Result<pb::LoadResponse> response;
  int retries = 0;  // calls repeated after retryable failures
};

// Fetches loader `loader` at `page_token` from `client`. `cancelled` stops the retries early.
FetchOutcome fetch_page(const std::shared_ptr<ProviderClient>& client, const std::string& provider,
                        const std::string& loader, const std::string& page_token, const SyncOptions& options,
                        const std::atomic<bool>& cancelled);

// One Load call bounded by `timeout`; an Error "deadline_exceeded" when it did not answer in time.
Result<pb::LoadResponse> load_with_deadline(const std::shared_ptr<ProviderClient>& client, const std::string& provider,
                                            const pb::LoadRequest& request, std::chrono::milliseconds timeout);

}  // namespace gatehouse::host::inventory
