#include "inventory/staging_writer.hpp"

#include <array>
#include <tuple>
#include <vector>

namespace gatehouse::host::inventory {
namespace {

constexpr const char* kStaging = "gatehouse_inventory_staging";

// Temporary: no WAL, private to the session; ON COMMIT DELETE ROWS empties it at every batch commit.
// data/relations stay text here so that COPY does not parse JSON twice (the merge casts once).
constexpr const char* kCreateStaging =
    "CREATE TEMP TABLE IF NOT EXISTS gatehouse_inventory_staging "
    "(loader text NOT NULL, type text NOT NULL, id text NOT NULL, name text NOT NULL, data text NOT NULL, "
    "relations text NOT NULL) ON COMMIT DELETE ROWS";

// A direct copy's columns (first syncs); a kept row holds the staging columns, kKeptFields of them.
const std::vector<std::string> kDirectColumns{"handler_id", "loader", "type", "id", "name", "data", "relations",
                                              "changed_run"};
constexpr std::size_t kKeptFields = 6;

// `rows` is the staged set; "ON CONFLICT ... WHERE" skips unchanged rows, so they cost no write.
std::string merge_sql(const std::string& rows) {
  return "WITH m AS ("
         " INSERT INTO resources AS r (handler_id, type, id, name, data, relations, loader, changed_run)"
         " SELECT $1, s.type, s.id, s.name, s.data::jsonb, s.relations::jsonb, s.loader, $2 FROM " +
         rows +
         " ON CONFLICT (handler_id, type, id) DO UPDATE"
         " SET name = excluded.name, data = excluded.data, relations = excluded.relations, loader = excluded.loader,"
         "     changed_run = excluded.changed_run, updated_at = now()"
         " WHERE (r.name, r.data, r.relations, r.loader) IS DISTINCT FROM"
         "       (excluded.name, excluded.data, excluded.relations, excluded.loader)"
         " RETURNING r.loader)"
         " SELECT loader, count(*) FROM m GROUP BY loader";
}

// A provider may return one key twice in a batch, which ON CONFLICT DO UPDATE refuses (21000); then the
// last staged copy wins (ctid order is insertion order in a table emptied at every commit).
const std::string kDedupedRows =
    "(SELECT DISTINCT ON (type, id) * FROM gatehouse_inventory_staging ORDER BY type, id, ctid DESC) s";

}  // namespace

std::string text_array(const std::set<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

StagingWriter::StagingWriter(store::Database& db, std::string handler_id, std::int64_t run_id,
                             std::string seen_table, std::set<std::string> tracked, std::atomic<bool>* direct)
    : db_(db),
      handler_id_(std::move(handler_id)),
      run_id_(run_id),
      seen_table_(std::move(seen_table)),
      tracked_(std::move(tracked)),
      direct_(direct) {}

StagingWriter::~StagingWriter() { discard(); }

std::set<std::string> StagingWriter::batch_loaders() const {
  std::set<std::string> out;
  for (const auto& [loader, _] : counts_) out.insert(loader);
  return out;
}

Result<void> StagingWriter::begin() {
  try {
    if (!lease_) {
      auto lease = db_.acquire();
      if (!lease) return lease.take_error();
      lease_.emplace(std::move(*lease));
    }
    txn_ = std::make_unique<pqxx::work>(**lease_);
    txn_->exec("SET LOCAL client_min_messages = warning");  // no "already exists, skipping" notices
    txn_->exec(kCreateStaging);
    if (direct_ != nullptr && direct_->load()) {
      txn_->exec("SAVEPOINT direct_copy");
      direct_batch_ = true;
      stream_ = std::make_unique<pqxx::stream_to>(*txn_, "resources", kDirectColumns);
    } else {
      open_staging_stream();
    }
    batch_started_ = std::chrono::steady_clock::now();
    return {};
  } catch (...) {
    Error error = store::error_from_current_exception();
    reset(error.code == ErrorCode::database_unavailable);
    return error;
  }
}

Result<void> StagingWriter::append(const std::string& loader, const ::gatehouse::provider::v1::Resource& resource,
                                   const StagingRow& row) {
  if (!txn_)
    if (auto begun = begin(); !begun) return begun;
  try {
    if (direct_batch_) {
      keep(loader, resource, row);
      bool copied = true;
      try {
        *stream_ << std::tie(handler_id_, loader, resource.type(), resource.id(), resource.name(), row.data,
                             row.relations, run_id_);
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const std::exception&) {
        copied = false;  // the server refused the copy (say, a duplicate key): replay the batch through staging
      }
      if (!copied) fall_back_to_staging();
    } else {
      *stream_ << std::tie(loader, resource.type(), resource.id(), resource.name(), row.data, row.relations);
    }
    ++staged_;
    ++counts_[loader].seen;
    return {};
  } catch (...) {
    Error error = store::error_from_current_exception();
    reset(error.code == ErrorCode::database_unavailable);
    return error;
  }
}

void StagingWriter::count_page(const std::string& loader, std::int64_t rejected) {
  auto& c = counts_[loader];
  ++c.pages;
  c.rejected += rejected;
}

Result<std::map<std::string, LoaderCounts>> StagingWriter::flush() {
  if (counts_.empty() && !txn_) return std::map<std::string, LoaderCounts>{};
  if (!txn_)
    if (auto begun = begin(); !begun) return begun.take_error();
  try {
    if (direct_batch_) {
      bool copied = true;
      try {
        stream_->complete();
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const std::exception&) {
        copied = false;  // unique violation, or a deadlock with the other writer over one duplicated key
      }
      if (copied) {
        stream_.reset();
        direct_batch_ = false;
        for (auto& [loader, c] : counts_) c.written = c.seen;  // every row was new
        return commit_batch();
      }
      fall_back_to_staging();
    }
    stream_->complete();
    stream_.reset();
    pqxx::result written;
    bool merged = false;
    // A savepoint, so that a duplicate key in the batch costs a second statement, not the batch. (Plain SQL:
    // libpqxx 6.4's subtransaction::abort() after a failed statement left the transaction aborted.)
    txn_->exec("SAVEPOINT merge");
    try {
      written = txn_->exec_params(merge_sql(kStaging + std::string(" s")), handler_id_, run_id_);
      merged = true;
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "21000") throw;
      txn_->exec("ROLLBACK TO SAVEPOINT merge");
    }
    if (!merged) written = txn_->exec_params(merge_sql(kDedupedRows), handler_id_, run_id_);
    for (const auto& row : written) counts_[row[0].as<std::string>()].written = row[1].as<std::int64_t>();
    return commit_batch();
  } catch (...) {
    Error error = store::error_from_current_exception();
    reset(error.code == ErrorCode::database_unavailable);
    return error;
  }
}

// Records the seen keys and the batch's progress, and commits. Throws; flush() catches.
Result<std::map<std::string, LoaderCounts>> StagingWriter::commit_batch() {
  if (!seen_table_.empty()) {
    txn_->exec_params("INSERT INTO " + seen_table_ + " (loader, type, id) SELECT loader, type, id FROM " +
                          std::string(kStaging) + " WHERE loader = ANY($1::text[])",
                      text_array(tracked_));
  }
  LoaderCounts total;
  for (const auto& [loader, c] : counts_) {
    txn_->exec_params(
        "UPDATE sync_run_loaders SET pages = pages + $3, resources_seen = resources_seen + $4, "
        "resources_written = resources_written + $5, resources_rejected = resources_rejected + $6 "
        "WHERE run_id = $1 AND loader = $2",
        run_id_, loader, c.pages, c.seen, c.written, c.rejected);
    total.seen += c.seen;
    total.written += c.written;
    total.rejected += c.rejected;
  }
  txn_->exec_params(
      "UPDATE sync_runs SET resources_seen = resources_seen + $2, resources_written = resources_written + $3, "
      "resources_rejected = resources_rejected + $4 WHERE id = $1",
      run_id_, total.seen, total.written, total.rejected);
  txn_->commit();
  txn_.reset();
  auto out = std::move(counts_);
  counts_.clear();
  staged_ = 0;
  kept_text_.clear();
  kept_ends_.clear();
  return out;
}

void StagingWriter::open_staging_stream() {
  stream_ = std::make_unique<pqxx::stream_to>(
      *txn_, kStaging, std::vector<std::string>{"loader", "type", "id", "name", "data", "relations"});
}

void StagingWriter::keep(const std::string& loader, const ::gatehouse::provider::v1::Resource& resource,
                         const StagingRow& row) {
  for (const std::string* field : {&loader, &resource.type(), &resource.id(), &resource.name(), &row.data,
                                   &row.relations}) {
    kept_text_ += *field;
    kept_ends_.push_back(kept_text_.size());
  }
}

void StagingWriter::fall_back_to_staging() {
  direct_->store(false);  // for the rest of the run: this handler's keys are not all new
  try {
    stream_->complete();  // ends the failed COPY if it is still open (it may throw the same error again)
  } catch (const pqxx::broken_connection&) {
    throw;
  } catch (const std::exception&) {
  }
  stream_.reset();
  txn_->exec("ROLLBACK TO SAVEPOINT direct_copy");  // nothing of the direct copy stays
  direct_batch_ = false;
  open_staging_stream();
  std::array<std::string, kKeptFields> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i < kept_ends_.size(); ++i) {
    fields[i % kKeptFields].assign(kept_text_, start, kept_ends_[i] - start);
    start = kept_ends_[i];
    if (i % kKeptFields == kKeptFields - 1) *stream_ << fields;
  }
  kept_text_.clear();
  kept_ends_.clear();
}

void StagingWriter::discard() { reset(false); }

void StagingWriter::reset(bool connection_broken) {
  // A stream left open must be ended before its transaction aborts; after an error that may throw again.
  try {
    if (stream_) stream_->complete();
  } catch (...) {
    connection_broken = true;
  }
  stream_.reset();
  direct_batch_ = false;  // the transaction's abort below ends the savepoint too
  kept_text_.clear();
  kept_ends_.clear();
  try {
    if (txn_) txn_->abort();
  } catch (...) {
    connection_broken = true;
  }
  txn_.reset();
  counts_.clear();
  staged_ = 0;
  if (connection_broken && lease_) {
    lease_->discard();
    lease_.reset();
  }
}

}  // namespace gatehouse::host::inventory
