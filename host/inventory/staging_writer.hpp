// Writes one connection's share of a sync run: rows are streamed with COPY (pqxx::stream_to) into a
// session-local staging table and, every batch, merged into `resources` by (handler_id, type, id) and
// committed together with the run's progress counters. Memory holds no rows: each row goes to the COPY
// stream as it is appended.
//
// The merge writes a row only when it is new or its name, data, relations or loader changed. Keys of
// loaders that already had rows when the run began are also recorded in the run's seen table, which the
// end of the run uses to find stale rows.
//
// First syncs take a faster path: while the handler had no rows when the run began (`direct` is set), a
// batch is copied straight into `resources` under a savepoint — one write per row, as `psql \copy` does,
// instead of staging + merge. The batch's rows are also kept in memory (one batch, a few MiB) so that, if
// the direct copy fails (a provider returning one key twice: unique violation), the savepoint is rolled back,
// the rows are replayed through staging + merge (which resolves duplicates) and `direct` is cleared for the
// rest of the run.
#pragma once

#include "common/result.hpp"
#include "inventory/resource_rows.hpp"
#include "store/database.hpp"

#include <gatehouse/provider/v1/provider.pb.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gatehouse::host::inventory {

struct LoaderCounts {
  std::int64_t pages = 0;
  std::int64_t seen = 0;
  std::int64_t written = 0;
  std::int64_t rejected = 0;
};

// A PostgreSQL text[] literal ({"a","b"}) for a $n::text[] parameter: values stay parameters, never SQL.
std::string text_array(const std::set<std::string>& items);

// Not thread-safe: one writer thread owns each StagingWriter (and its connection). Only `direct` is shared:
// an atomic flag that any of the run's writers may clear.
class StagingWriter {
 public:
  // `seen_table`: the run's seen table (already quoted), empty when no loader needs one;
  // `tracked`: the loaders whose keys go there.
  // `direct`: shared by the run's writers; nullptr or false = always stage and merge.
  StagingWriter(store::Database& db, std::string handler_id, std::int64_t run_id, std::string seen_table,
                std::set<std::string> tracked, std::atomic<bool>* direct = nullptr);
  ~StagingWriter();
  StagingWriter(const StagingWriter&) = delete;
  StagingWriter& operator=(const StagingWriter&) = delete;

  // Streams one accepted resource into the open batch (opening one when needed).
  Result<void> append(const std::string& loader, const ::gatehouse::provider::v1::Resource& resource,
                      const StagingRow& row);
  // Counts a page (and its rejected resources) into the open batch's progress.
  void count_page(const std::string& loader, std::int64_t rejected);

  std::size_t staged_rows() const { return staged_; }
  bool batch_open() const { return txn_ != nullptr; }
  std::chrono::steady_clock::time_point batch_started() const { return batch_started_; }
  // Loaders with rows or pages in the open batch: what a failed flush loses.
  std::set<std::string> batch_loaders() const;

  // Merges the open batch and commits it with the progress counters. Returns the batch's counts per loader.
  // On an Error the batch is rolled back (and lost); the writer is ready for the next one.
  Result<std::map<std::string, LoaderCounts>> flush();
  // Rolls the open batch back (cancellation).
  void discard();

 private:
  Result<void> begin();
  void open_staging_stream();
  void keep(const std::string& loader, const ::gatehouse::provider::v1::Resource& resource, const StagingRow& row);
  // Rolls the direct copy back to its savepoint and replays the kept rows into staging.
  void fall_back_to_staging();
  Result<std::map<std::string, LoaderCounts>> commit_batch();
  void reset(bool connection_broken);

  store::Database& db_;
  std::string handler_id_;
  std::int64_t run_id_;
  std::string seen_table_;
  std::set<std::string> tracked_;
  std::optional<store::ConnectionLease> lease_;
  std::unique_ptr<pqxx::work> txn_;
  std::unique_ptr<pqxx::stream_to> stream_;
  std::atomic<bool>* direct_;
  bool direct_batch_ = false;  // this batch copies straight into resources, after SAVEPOINT direct_copy
  // The direct batch's rows, for a replay: the fields back to back in `kept_text_`, their ends in `kept_ends_`.
  std::string kept_text_;
  std::vector<std::size_t> kept_ends_;
  std::map<std::string, LoaderCounts> counts_;
  std::size_t staged_ = 0;
  std::chrono::steady_clock::time_point batch_started_{};
};

}  // namespace gatehouse::host::inventory
