#include "inventory/sync_engine.hpp"

#include "inventory/resource_rows.hpp"
#include "inventory/run_executor.hpp"
#include "inventory/run_records.hpp"

#include <optional>

namespace gatehouse::host::inventory {

struct SyncEngine::Active {
  std::string handler_id;
  std::string trigger;
  std::int64_t run_id = 0;  // 0 while the run is being set up
  std::optional<RunSpec> spec;
  std::optional<store::ConnectionLease> lock_lease;  // holds the handler's advisory lock
  std::atomic<bool> cancelled{false};
};

namespace {
Error in_progress(std::string_view handler_id, std::int64_t run_id) {
  return make_error(ErrorCode::sync_in_progress, "a sync of handler '" + std::string(handler_id) + "' is already running" +
                                            (run_id > 0 ? " (run " + std::to_string(run_id) + ")" : ""));
}
}  // namespace

SyncEngine::SyncEngine(store::Database& db, registry::Registry& registry, SyncOptions options)
    : db_(db), registry_(registry), options_(std::move(options)) {
  if (!options_.caller) options_.caller = std::make_shared<ProviderCaller>();
}

SyncEngine::~SyncEngine() { stop(); }

Result<std::shared_ptr<SyncEngine::Active>> SyncEngine::begin(std::string_view handler_id, const char* trigger) {
  const std::string id(handler_id);
  const auto info = registry_.handler(id);
  if (!info) return make_error(ErrorCode::handler_not_found, "no handler '" + id + "'");
  if (info->health == registry::HealthStatus::unhealthy)
    return make_error(ErrorCode::handler_unavailable, "handler '" + id + "' is unhealthy: " + info->health_reason);
  auto runtime = registry_.runtime(id);
  if (!runtime || !runtime->module || !runtime->client)
    return make_error(ErrorCode::handler_unavailable, "handler '" + id + "' has no provider instance" +
                                                 (runtime && !runtime->instance_problem.empty()
                                                      ? ": " + runtime->instance_problem
                                                      : std::string()));

  auto active = std::make_shared<Active>();
  active->handler_id = id;
  active->trigger = trigger;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error(ErrorCode::engine_stopped, "the sync engine is stopping");
    if (auto it = active_.find(id); it != active_.end()) return in_progress(id, it->second->run_id);
    active_[id] = active;  // reserved: a second local caller is refused without touching the database
  }
  auto give_up = [&](Error error) -> Result<std::shared_ptr<Active>> {
    std::lock_guard lock(mutex_);
    active_.erase(id);
    return error;
  };

  auto lease = db_.acquire();
  if (!lease) return give_up(lease.take_error());
  auto locked = try_lock_handler(**lease, id);
  if (!locked) {
    lease->discard();
    return give_up(locked.take_error());
  }
  if (!*locked) {
    // Another replica (or another engine in this process) holds it; name its run when it is recorded.
    auto running = running_sync_run(db_, id);
    return give_up(in_progress(id, running && *running ? **running : 0));
  }
  ResourceSchema schema(runtime->module->schema());
  auto run_id = create_run_record(**lease, id, trigger, schema.loaders());
  if (!run_id) {
    if (!unlock_handler(**lease, id)) lease->discard();
    return give_up(run_id.take_error());
  }
  active->run_id = *run_id;
  active->spec.emplace(RunSpec{id, *run_id, runtime->module->identity().reference(), runtime->client, std::move(schema)});
  active->lock_lease.emplace(std::move(*lease));
  return active;
}

Result<SyncRun> SyncEngine::execute(const std::shared_ptr<Active>& active) {
  const auto peak = execute_run(db_, *active->spec, options_, active->cancelled);
  if (!unlock_handler(**active->lock_lease, active->handler_id)) active->lock_lease->discard();
  active->lock_lease.reset();
  {
    std::lock_guard lock(mutex_);
    active_.erase(active->handler_id);
  }
  wake_.notify_all();
  auto record = get_sync_run(db_, active->run_id);
  if (record) record->peak_buffered_resources = peak;
  return record;
}

Result<SyncRun> SyncEngine::run(std::string_view handler_id) {
  auto active = begin(handler_id, "on_demand");
  if (!active) return active.take_error();
  return execute(*active);
}

Result<std::int64_t> SyncEngine::start_run(std::string_view handler_id) {
  auto active = begin(handler_id, "on_demand");
  if (!active) return active.take_error();
  const auto id = (*active)->run_id;
  launch(std::move(*active));
  return id;
}

void SyncEngine::launch(std::shared_ptr<Active> active) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mutex_);
  threads_.push_back({std::thread([this, active, done] {
                        (void)execute(active);  // the outcome is in sync_runs
                        done->store(true);
                      }),
                      done});
}

void SyncEngine::start() {
  std::lock_guard lock(mutex_);
  if (scheduling_) return;
  stopping_ = false;
  scheduling_ = true;
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

void SyncEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [_, active] : active_) active->cancelled.store(true);
  }
  wake_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  std::list<RunThread> threads;
  {
    std::lock_guard lock(mutex_);
    scheduling_ = false;
    threads.swap(threads_);
  }
  for (auto& t : threads) t.thread.join();
}

std::chrono::seconds SyncEngine::interval_for(const std::string& handler_id) const {
  if (auto it = options_.interval_by_handler.find(handler_id); it != options_.interval_by_handler.end())
    return it->second;
  return options_.interval;
}

void SyncEngine::reap_finished_threads() {
  std::list<RunThread> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = threads_.begin(); it != threads_.end();) {
      if (it->done->load()) {
        finished.splice(finished.end(), threads_, it++);
      } else {
        ++it;
      }
    }
  }
  for (auto& t : finished) t.thread.join();
}

void SyncEngine::schedule_due() {
  const auto now = std::chrono::system_clock::now();
  for (const auto& handler : registry_.handlers()) {
    // Degraded handlers serve (some targets refused), so their inventory is kept too. A handler never synced
    // is due at once, so its first sync starts within a tick of its first good health check: until it ends,
    // requests cannot be checked against its inventory (the grant history says so).
    if (!registry::is_routable(handler.health)) continue;
    const auto interval = interval_for(handler.id);
    if (interval.count() <= 0) continue;
    std::optional<std::chrono::system_clock::time_point> due;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      if (active_.count(handler.id)) continue;
      std::size_t scheduled = 0;
      for (const auto& [_, a] : active_) scheduled += a->trigger == "schedule";
      if (scheduled >= options_.max_parallel_handlers) return;
      if (auto it = next_due_.find(handler.id); it != next_due_.end()) due = it->second;
    }
    if (!due) {
      // First sight since start: continue the schedule recorded in sync_runs, so restarts do not resync all.
      auto last = db_.with_transaction([&](pqxx::work& txn) -> std::optional<double> {
        const auto r = txn.exec_params("SELECT extract(epoch FROM max(started_at))::float8 FROM sync_runs "
                                       "WHERE handler_id = $1",
                                       handler.id);
        if (r[0][0].is_null()) return std::nullopt;
        return r[0][0].as<double>();
      });
      due = now;
      if (last && *last)
        due = std::chrono::system_clock::time_point(
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(**last))) +
              interval;
      std::lock_guard lock(mutex_);
      next_due_[handler.id] = *due;
    }
    if (now < *due) continue;
    {
      std::lock_guard lock(mutex_);
      next_due_[handler.id] = now + interval;
    }
    auto active = begin(handler.id, "schedule");
    if (active) launch(std::move(*active));
  }
}

void SyncEngine::scheduler_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    schedule_due();
    reap_finished_threads();
    lock.lock();
    wake_.wait_for(lock, options_.scheduler_tick, [&] { return stopping_; });
  }
}

}  // namespace gatehouse::host::inventory
