// The inventory sync engine: keeps each handler's resources in PostgreSQL (table `resources`, migration
// 0004_inventory.sql) by calling its provider's loaders, on a schedule and on demand.
//
// Public API (what the HTTP API and CLI wire):
//   SyncEngine engine(db, registry, SyncOptions{...});
//   engine.run("h")        -> Result<SyncRun>        synchronous: runs every loader of handler h, returns the record
//   engine.start_run("h")  -> Result<std::int64_t>   asynchronous: the run id at once; poll get_sync_run(db, id)
//   engine.start() / engine.stop()                   scheduled syncs of healthy handlers (SyncOptions::interval,
//                                                    per-handler overrides); stop() cancels running syncs
//   list_resources / get_resource / list_sync_runs / get_sync_run   (queries.hpp), to_json (inventory_types.hpp)
//
// Errors of run()/start_run(): handler_not_found, handler_unavailable (no provider instance, or unhealthy),
// sync_in_progress ("a sync of handler 'h' is already running (run 12)") — one sync per handler at a time
// across replicas (session advisory lock keyed by the handler), engine_stopped, and database_* codes. A run
// whose loaders fail is not an Error: it is a SyncRun with status partial/failed and per-loader errors.
//
// Database connections: a run holds one for the lock and up to two writers; size DatabaseOptions::
// max_connections for max_parallel_handlers x 3 plus the other users of the pool.
#pragma once

#include "common/result.hpp"
#include "inventory/inventory_types.hpp"
#include "inventory/queries.hpp"
#include "inventory/sync_options.hpp"
#include "registry/registry.hpp"
#include "store/database.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace gatehouse::host::inventory {

// Threads: run(), start_run() and options() may be called from any thread at once (a mutex guards the maps);
// run() works on the caller's thread, start_run() and the scheduler on a thread per run. start() and stop()
// belong to one owner thread. stop() cancels synchronous run() calls but does not wait for them.
class SyncEngine {
 public:
  SyncEngine(store::Database& db, registry::Registry& registry, SyncOptions options = {});
  ~SyncEngine();  // stop()
  SyncEngine(const SyncEngine&) = delete;
  SyncEngine& operator=(const SyncEngine&) = delete;

  Result<SyncRun> run(std::string_view handler_id);
  Result<std::int64_t> start_run(std::string_view handler_id);

  void start();
  // Stops the scheduler, cancels running syncs (they end 'cancelled' and remove nothing) and waits for them.
  void stop();

  const SyncOptions& options() const { return options_; }

 private:
  struct Active;
  Result<std::shared_ptr<Active>> begin(std::string_view handler_id, const char* trigger);
  Result<SyncRun> execute(const std::shared_ptr<Active>& active);
  void launch(std::shared_ptr<Active> active);
  void scheduler_loop();
  void schedule_due();
  void reap_finished_threads();
  std::chrono::seconds interval_for(const std::string& handler_id) const;

  store::Database& db_;
  registry::Registry& registry_;
  SyncOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Active>, std::less<>> active_;  // handler id -> its running sync here
  std::map<std::string, std::chrono::system_clock::time_point, std::less<>> next_due_;
  struct RunThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<RunThread> threads_;
  std::thread scheduler_;
  bool scheduling_ = false;
  bool stopping_ = false;
};

}  // namespace gatehouse::host::inventory
