#include "inventory/run_executor.hpp"

#include "inventory/page_fetcher.hpp"
#include "inventory/run_records.hpp"
#include "inventory/staging_writer.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace gatehouse::host::inventory {
namespace {

constexpr std::chrono::milliseconds kPoll{100};

struct WorkItem {
  std::string loader;
  std::string page_token;
};

// A fetched page on its way to a writer: the provider's resources and, for each, its staging row or the
// reason it was rejected.
struct Page {
  std::string loader;
  pb::LoadResponse response;
  std::vector<StagingRow> rows;
  std::vector<char> accepted;
  std::int64_t rejected = 0;
};

struct LoaderState {
  std::int64_t pages_fetched = 0;
  std::int64_t retries = 0;
  std::string error_code;
  std::string error;
  bool failed() const { return !error_code.empty(); }
};

class Run {
 public:
  Run(store::Database& db, const RunSpec& spec, const SyncOptions& options, const std::atomic<bool>& cancelled)
      : db_(db), spec_(spec), options_(options), cancelled_(cancelled) {
    for (const auto& loader : spec.schema.loaders()) {
      loaders_[loader];
      queue_.push_back({loader, ""});
    }
  }

  std::int64_t execute() {
    if (auto tracked = prepare_seen_table(); !tracked) {
      fail_all(tracked.error());
    } else {
      run_threads();
    }
    finish();
    return peak_buffered_;
  }

 private:
  // Loaders that already have rows need their keys recorded to find stale rows at the end; a loader with
  // no rows yet (a first sync) has nothing to go stale, so it skips that cost.
  Result<void> prepare_seen_table() {
    auto existing = db_.with_transaction([&](pqxx::work& txn) {
      std::set<std::string> loaders;
      for (const auto& row : txn.exec_params("SELECT DISTINCT loader FROM resources WHERE handler_id = $1",
                                             spec_.handler_id))
        loaders.insert(row[0].as<std::string>());
      return loaders;
    });
    if (!existing) return existing.take_error();
    // No row of this handler yet: every key is new unless the provider repeats one (see StagingWriter).
    direct_copy_.store(existing->empty());
    for (const auto& loader : *existing)
      if (loaders_.count(loader)) tracked_.insert(loader);
    if (tracked_.empty()) return {};
    auto created = db_.with_connection([&](pqxx::connection& conn) {
      seen_table_ = conn.quote_name(seen_table_name(spec_.run_id));
      pqxx::work txn(conn);
      txn.exec("CREATE UNLOGGED TABLE " + seen_table_ + " (loader text NOT NULL, type text NOT NULL, id text NOT NULL)");
      txn.commit();
    });
    if (!created) seen_table_.clear();
    return created;
  }

  void run_threads() {
    std::vector<std::thread> threads;
    const std::size_t fetchers = std::max<std::size_t>(1, options_.concurrency);
    writers_left_ = std::max<std::size_t>(1, std::min<std::size_t>(2, fetchers));
    fetchers_left_ = fetchers;
    for (std::size_t i = 0; i < fetchers; ++i) threads.emplace_back([this] { fetch_loop(); });
    for (std::size_t i = 0; i < writers_left_; ++i) threads.emplace_back([this] { write_loop(); });
    for (auto& t : threads) t.join();
  }

  void fail(const std::string& loader, const Error& error) {
    std::lock_guard lock(mutex_);
    auto& state = loaders_[loader];
    if (!state.failed()) {
      state.error_code = std::string(error.code_name());
      state.error = error.message;
    }
  }

  void fail_all(const Error& error) {
    for (auto& [loader, _] : loaders_) fail(loader, error);
  }

  // ---- fetchers ----

  void fetch_loop() {
    while (true) {
      WorkItem item;
      {
        std::unique_lock lock(mutex_);
        // Timed waits: cancellation is a flag set from outside, without a notification.
        while (!(cancelled_.load() || !queue_.empty() || in_flight_ == 0)) work_cv_.wait_for(lock, kPoll);
        if (cancelled_.load() || queue_.empty()) {
          if (--fetchers_left_ == 0) channel_closed_ = true;
          work_cv_.notify_all();
          channel_cv_.notify_all();
          return;
        }
        item = std::move(queue_.front());
        queue_.pop_front();
        ++in_flight_;
      }
      fetch_one(item);
      {
        std::lock_guard lock(mutex_);
        --in_flight_;
      }
      work_cv_.notify_all();
    }
  }

  void fetch_one(const WorkItem& item) {
    auto outcome = fetch_page(spec_.handler_id, spec_.client, spec_.provider, item.loader, item.page_token, options_,
                              cancelled_);
    {
      std::lock_guard lock(mutex_);
      loaders_[item.loader].retries += outcome.retries;
    }
    if (!outcome.response) {
      Error error = outcome.response.take_error();
      error.message = "Load(" + item.loader + (item.page_token.empty() ? "" : ", page " + item.page_token) +
                      "): " + error.message;
      fail(item.loader, error);
      return;
    }
    Page page;
    page.loader = item.loader;
    page.response = std::move(*outcome.response);
    std::vector<WorkItem> more;
    if (!follow_ups(item, page.response, more)) return;

    const int n = page.response.resources_size();
    page.rows.resize(static_cast<std::size_t>(n));
    page.accepted.assign(static_cast<std::size_t>(n), 0);
    for (int i = 0; i < n; ++i) {
      const auto reason = prepare_row(spec_.schema, page.response.resources(i), page.rows[static_cast<std::size_t>(i)]);
      if (reason.empty()) {
        page.accepted[static_cast<std::size_t>(i)] = 1;
      } else {
        ++page.rejected;
        if (page.rejected == 1) note_rejection(item.loader, reason);
      }
    }
    {
      std::unique_lock lock(mutex_);
      buffered_ += n;
      peak_buffered_ = std::max(peak_buffered_, buffered_);
      // Back-pressure: a full channel stops the fetchers, so a fast provider cannot outrun PostgreSQL.
      while (!(cancelled_.load() || channel_.size() < channel_capacity())) channel_cv_.wait_for(lock, kPoll);
      if (cancelled_.load()) {
        buffered_ -= n;
        return;
      }
      channel_.push_back(std::move(page));
      for (auto& w : more) queue_.push_back(std::move(w));
    }
    channel_cv_.notify_all();
  }

  std::size_t channel_capacity() const { return 2 * std::max<std::size_t>(1, options_.concurrency); }

  // The next page and the follow-up tasks of a page; false when the page is refused as a whole.
  bool follow_ups(const WorkItem& item, const pb::LoadResponse& response, std::vector<WorkItem>& out) {
    const auto& next = response.next_page_token();
    if (!next.empty()) {
      if (next == item.page_token) {
        fail(item.loader, make_error(ErrorCode::page_token_repeated, "Load(" + item.loader + ") answered page token '" + next +
                                                                "' with the same token: the loader would never end"));
        return false;
      }
      out.push_back({item.loader, next});
    }
    for (const auto& task : response.tasks()) {
      if (!spec_.schema.has_loader(task.loader())) {
        fail(item.loader, make_error(ErrorCode::unknown_loader, "Load(" + item.loader + ") returned a task for loader '" +
                                                           task.loader() + "', which the provider schema does not declare"));
        return false;
      }
      out.push_back({task.loader(), task.page_token()});
    }
    std::lock_guard lock(mutex_);
    if (++loaders_[item.loader].pages_fetched > static_cast<std::int64_t>(options_.max_pages_per_loader)) {
      auto& state = loaders_[item.loader];
      if (!state.failed()) {
        state.error_code = std::string(error_code_name(ErrorCode::too_many_pages));
        state.error = "loader " + item.loader + " returned more than " + std::to_string(options_.max_pages_per_loader) +
                      " pages; stopped";
      }
      return false;
    }
    return true;
  }

  void note_rejection(const std::string& loader, const std::string& reason) {
    std::lock_guard lock(mutex_);
    auto& first = first_rejection_[loader];
    if (first.empty()) first = reason;
  }

  // ---- writers ----

  void write_loop() {
    StagingWriter writer(db_, spec_.handler_id, spec_.run_id, seen_table_, tracked_, &direct_copy_);
    while (true) {
      std::optional<Page> page;
      bool closed = false;
      {
        std::unique_lock lock(mutex_);
        channel_cv_.wait_for(lock, options_.progress_interval,
                             [&] { return !channel_.empty() || channel_closed_ || cancelled_.load(); });
        if (!channel_.empty()) {
          page.emplace(std::move(channel_.front()));
          channel_.pop_front();
        } else {
          closed = channel_closed_ || cancelled_.load();
        }
      }
      channel_cv_.notify_all();
      if (cancelled_.load()) {
        if (page) release(page->response.resources_size());
        writer.discard();
        if (!page) return;
        continue;
      }
      if (page) {
        write_page(writer, *page);
        release(page->response.resources_size());
        if (writer.staged_rows() >= options_.batch_rows) flush(writer);
      } else if (closed) {
        flush(writer);
        return;
      } else if (writer.batch_open() &&
                 std::chrono::steady_clock::now() - writer.batch_started() >= options_.progress_interval) {
        flush(writer);  // a slow provider still shows progress
      }
    }
  }

  void release(int n) {
    std::lock_guard lock(mutex_);
    buffered_ -= n;
  }

  void write_page(StagingWriter& writer, const Page& page) {
    for (int i = 0; i < page.response.resources_size(); ++i) {
      if (!page.accepted[static_cast<std::size_t>(i)]) continue;
      auto appended = writer.append(page.loader, page.response.resources(i), page.rows[static_cast<std::size_t>(i)]);
      if (!appended) {
        auto lost = writer.batch_loaders();
        lost.insert(page.loader);
        for (const auto& loader : lost) fail(loader, batch_error(appended.error()));
        return;
      }
    }
    writer.count_page(page.loader, page.rejected);
  }

  void flush(StagingWriter& writer) {
    const auto loaders = writer.batch_loaders();
    auto flushed = writer.flush();
    if (!flushed)
      for (const auto& loader : loaders) fail(loader, batch_error(flushed.error()));
  }

  static Error batch_error(const Error& e) {
    return make_error(e.code, "writing resources to PostgreSQL failed: " + e.message);
  }

  // ---- the end ----

  void finish() {
    std::int64_t removed_total = 0;
    std::size_t failed = 0;
    std::vector<std::string> problems;
    for (auto& [loader, state] : loaders_) {
      std::string status = state.failed() ? "failed" : cancelled_.load() ? "cancelled" : "succeeded";
      std::int64_t removed = 0;
      if (status == "succeeded" && tracked_.count(loader)) {
        auto deleted = remove_stale(loader);
        if (deleted) {
          removed = *deleted;
        } else {
          status = "failed";
          state.error_code = std::string(deleted.error().code_name());
          state.error = "removing stale rows failed: " + deleted.error().message;
        }
      }
      if (status == "failed") {
        ++failed;
        problems.push_back(loader + ": " + state.error);
      }
      removed_total += removed;
      std::string note = state.error;
      if (note.empty() && first_rejection_.count(loader)) note = "some resources were rejected, e.g.: " + first_rejection_[loader];
      auto recorded = record_loader_end(db_, spec_.run_id, loader, status, removed, state.retries,
                                        state.error_code, note);
      (void)recorded;  // a database that refuses this refuses the run's end below too
    }
    std::string status = "succeeded";
    if (cancelled_.load()) status = "cancelled";
    else if (failed > 0) status = failed == loaders_.size() ? "failed" : "partial";
    std::string error;
    if (cancelled_.load()) error = "cancelled: the sync engine stopped";
    if (failed > 0) {
      error = std::to_string(failed) + " of " + std::to_string(loaders_.size()) + " loaders failed";
      for (const auto& p : problems) error += "; " + p;
    }
    auto recorded = record_run_end(db_, spec_.run_id, status, removed_total, error);
    (void)recorded;
    if (!seen_table_.empty()) (void)drop_seen_table(db_, spec_.run_id);
  }

  // Deletes the loader's rows that it did not return in this run. Only called for a loader that finished
  // without any error, so a partial failure never removes inventory.
  Result<std::int64_t> remove_stale(const std::string& loader) {
    return db_.with_transaction([&](pqxx::work& txn) {
      // Fresh statistics first: without them the planner takes the seen table for empty and picks a nested
      // loop, quadratic in the loader's size (hours for 200k rows instead of a hash anti-join's second).
      if (!seen_analyzed_) txn.exec("ANALYZE " + seen_table_);
      seen_analyzed_ = true;
      const auto r = txn.exec_params(
          "DELETE FROM resources r WHERE r.handler_id = $1 AND r.loader = $2 AND NOT EXISTS "
          "(SELECT 1 FROM " + seen_table_ + " s WHERE s.loader = $2 AND s.type = r.type AND s.id = r.id)",
          spec_.handler_id, loader);
      return static_cast<std::int64_t>(r.affected_rows());
    });
  }

  store::Database& db_;
  const RunSpec& spec_;
  const SyncOptions& options_;
  const std::atomic<bool>& cancelled_;

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable channel_cv_;
  std::deque<WorkItem> queue_;
  std::size_t in_flight_ = 0;
  std::size_t fetchers_left_ = 0;
  std::size_t writers_left_ = 0;
  std::deque<Page> channel_;
  bool channel_closed_ = false;
  std::int64_t buffered_ = 0;
  std::int64_t peak_buffered_ = 0;
  std::map<std::string, LoaderState> loaders_;
  std::map<std::string, std::string> first_rejection_;
  std::set<std::string> tracked_;
  std::string seen_table_;
  bool seen_analyzed_ = false;
  std::atomic<bool> direct_copy_{false};
};

}  // namespace

std::int64_t execute_run(store::Database& db, const RunSpec& spec, const SyncOptions& options,
                         const std::atomic<bool>& cancelled) {
  Run run(db, spec, options, cancelled);
  return run.execute();
}

}  // namespace gatehouse::host::inventory
