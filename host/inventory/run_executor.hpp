// Executes one sync run of one handler (internal to host/inventory; SyncEngine starts it).
//
// Shape: `concurrency` fetcher threads take work items (loader, page token) from a queue, call Load (with a
// deadline and retries), validate the page and hand it over a bounded channel to the writer threads, which
// stream it into PostgreSQL (StagingWriter). A next page token or a follow-up task becomes a new work item.
// At most `concurrency` pages are being fetched and 2 x concurrency wait in the channel, so memory is bounded
// by a few pages whatever a loader returns. At the end, each loader that finished without error has its
// stale rows removed; a loader with any error (or a cancelled run) removes nothing.
#pragma once

#include "inventory/inventory_types.hpp"
#include "inventory/resource_rows.hpp"
#include "inventory/sync_options.hpp"
#include "loader/provider_client.hpp"
#include "store/database.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace gatehouse::host::inventory {

struct RunSpec {
  std::string handler_id;
  std::int64_t run_id = 0;
  std::string provider;  // "publisher/name@version", for messages
  std::shared_ptr<ProviderClient> client;
  ResourceSchema schema;
};

// Runs the loaders and records the outcome in sync_runs / sync_run_loaders (the run row must exist and be
// 'running'). Returns the most resources held in memory at once. Never throws.
std::int64_t execute_run(store::Database& db, const RunSpec& spec, const SyncOptions& options,
                         const std::atomic<bool>& cancelled);

}  // namespace gatehouse::host::inventory
