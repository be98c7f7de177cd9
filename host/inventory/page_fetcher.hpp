// One Load page from a provider, with a deadline per call and retries with backoff on retryable failures
// (loader/provider_calls.hpp is_retryable: transport failures, unavailable, deadline_exceeded,
// resource_exhausted, aborted). Calls go through options.caller (loader/provider_caller.hpp): an in-process
// call past its deadline is abandoned on the caller's bounded pool, and a handler with a call still out is not
// sent another; an isolated runner is killed at the deadline.
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

// Fetches loader `loader` at `page_token` from handler `handler_id`'s `client`. `cancelled` stops the retries
// early. options.caller must be set (the sync engine sets it).
FetchOutcome fetch_page(const std::string& handler_id, const std::shared_ptr<ProviderClient>& client,
                        const std::string& provider, const std::string& loader, const std::string& page_token,
                        const SyncOptions& options, const std::atomic<bool>& cancelled);

}  // namespace gatehouse::host::inventory
