// Compensating Revokes (table grant_compensations, migration 0006): a handler whose Grant had an unknown
// outcome (its runner died or was killed mid-call) may hold access nobody knows about. The activation records
// the Revoke it owes in the transaction that moves on; the workers send it here, with the key and kind of
// that Grant and an empty state, until the handler confirms — whatever its health (retried with backoff, at
// once when its health turns good: wake_revokes_of_recovered()).
//
// Lock order, as in every decision: the access row first, then the compensation row. Sending the Revoke and
// sending a Grant with the same key to the same handler exclude each other through the access lock: the
// compensation leases its row under that lock and checks that no Grant with its key is in progress on its
// handler; an activation reads the leases under the same lock (revokes_in_flight) before calling a handler.
#include "grants/engine_impl.hpp"

#include <spdlog/spdlog.h>

namespace gatehouse::host::grants {
namespace {

std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str()); }

long long ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

std::string about(const std::string& handler) {
  return "compensating Revoke on handler '" + handler + "' after an unknown Grant outcome: ";
}

}  // namespace

void GrantEngine::Impl::owe_revoke(pqxx::work& txn, const GrantRecord& g, const std::string& key,
                                   const OwedRevoke& owed) const {
  sql::exec(txn,
            "INSERT INTO grant_compensations (access_key, handler_id, kind, idempotency_key, grant_id, reason, "
            "handler_incarnation) VALUES ($1, $2, $3, $4::uuid, $5::uuid, $6, NULLIF($7, '')) "
            "ON CONFLICT (handler_id, idempotency_key) WHERE done_at IS NULL DO NOTHING",
            g.access_key, owed.handler, owed.kind, key, g.id, owed.reason,
            view.handler_identity(owed.handler).value_or(HandlerIdentity{}).incarnation);
}

std::set<std::string> GrantEngine::Impl::revokes_in_flight(pqxx::work& txn, const std::string& access_key,
                                                           const std::string& key) const {
  std::set<std::string> out;
  const auto rows = sql::exec(txn,
                              "SELECT handler_id FROM grant_compensations WHERE access_key = $1 AND done_at IS NULL "
                              "AND idempotency_key::text = $2 AND lease_until > now()",
                              access_key, key);
  for (const auto& r : rows) out.insert(text(r[0]));
  return out;
}

Result<std::vector<ClaimedCompensation>> GrantEngine::Impl::claim_compensations(const std::string& token,
                                                                                std::size_t limit) {
  static const std::string statement =
      "WITH due AS (SELECT id FROM grant_compensations WHERE done_at IS NULL AND next_attempt_at <= now() "
      "ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
      "UPDATE grant_compensations c SET lease_owner = $2, lease_until = " +
      sql::after_ms(3) + ", next_attempt_at = " + sql::after_ms(3) +
      " FROM due WHERE c.id = due.id RETURNING c.id, c.access_key, c.handler_id, c.kind, c.idempotency_key::text, "
      "c.grant_id::text, c.attempts, coalesce(c.last_error, ''), coalesce(c.handler_incarnation, '')";
  return db.with_transaction([&](pqxx::work& txn) {
    const auto rows = sql::exec(txn, statement, static_cast<long long>(limit), token, ms(opt.lease));
    std::vector<ClaimedCompensation> out;
    for (const auto& r : rows)
      out.push_back(ClaimedCompensation{r[0].as<long long>(), text(r[1]), text(r[2]), text(r[3]), text(r[4]),
                                        text(r[5]), r[6].as<int>(), text(r[7]), text(r[8])});
    return out;
  });
}

void GrantEngine::Impl::release_compensation(const ClaimedCompensation& c, const std::string& token) {
  auto released = db.with_transaction([&](pqxx::work& txn) {
    sql::exec(txn,
              "UPDATE grant_compensations SET lease_owner = NULL, lease_until = NULL, next_attempt_at = now() "
              "WHERE id = $1 AND lease_owner = $2",
              c.id, token);
  });
  if (!released.ok()) log_error("could not release compensation " + std::to_string(c.id), released.error());
}

void GrantEngine::Impl::process_compensation(const ClaimedCompensation& c, const std::string& token) {
  // Ends the row (done or abandoned) with its note on the grant; false when the claim was lost.
  auto finish = [&](pqxx::work& txn, const std::string& outcome, const std::string& note_text) {
    const auto r = sql::exec(txn,
                             "UPDATE grant_compensations SET done_at = now(), outcome = $3, lease_owner = NULL, "
                             "lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND done_at IS NULL",
                             c.id, token, outcome);
    if (r.affected_rows() != 1) return;
    sql::exec(txn,
              "INSERT INTO grant_history (grant_id, from_status, to_status, reason, handler_id, engine) "
              "SELECT id, status, status, $2, $3, $4 FROM grants WHERE id = $1::uuid",
              c.grant_id, about(c.handler) + note_text, c.handler, opt.engine_id);
  };
  // Tries again after the engine's backoff.
  auto retry_later = [&](pqxx::work& txn, const std::string& why) {
    sql::exec(txn,
              "UPDATE grant_compensations SET attempts = attempts + 1, last_error = $3, next_attempt_at = " +
                  sql::after_ms(4) + ", lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
              c.id, token, why, ms(opt.backoff.delay(c.attempts + 1)));
  };

  GrantRecord g;
  std::shared_ptr<ProviderClient> client;
  auto decided = db.with_transaction([&](pqxx::work& txn) -> bool {
    const auto access = lock_access(txn, c.access_key);
    if (sql::exec(txn,
                  "SELECT 1 FROM grant_compensations WHERE id = $1 AND lease_owner = $2 AND done_at IS NULL "
                  "FOR UPDATE",
                  c.id, token)
            .empty())
      return false;  // lost the claim
    if (access && access->handler_id == c.handler) {
      if (access->status == "granting") {  // settle that first (it may even be the same key)
        retry_later(txn, "a Grant of the same access is in progress on the handler");
        return false;
      }
      if (access->provider_grant_id == c.key && (access->status == "active" || access->status == "revoking")) {
        finish(txn, "not_needed",
               "not needed: the handler holds the access with that key (the Grant there is the real one)");
        return false;
      }
    }
    if (!view.handler_exists(c.handler)) {
      finish(txn, "abandoned",
             "abandoned: the handler was deleted (any access it left at the provider must be removed there)");
      return false;
    }
    if (const auto now = view.handler_identity(c.handler); now && now->is_other_creation_than(c.incarnation)) {
      finish(txn, "abandoned",
             "abandoned: the handler was deleted and created again since, and the one of that id now never "
             "received that Grant (any access the old one left at the provider must be removed there)");
      return false;
    }
    if (is_abandoned(c.handler, c.key)) {
      retry_later(txn, "an earlier call for this access is still running on the handler");
      return false;
    }
    // Health is not asked: it decides where new grants go, never whether a revoke is attempted (the call
    // itself says whether it worked).
    client = view.client(c.handler);
    if (!client) {
      retry_later(txn, "the handler has no running instance");
      return false;
    }
    const auto rows =
        sql::exec(txn, "SELECT " + sql::grant_columns() + " FROM grants WHERE id = $1::uuid", c.grant_id);
    if (rows.empty()) {  // not expected: rows go with their grant
      finish(txn, "abandoned", "abandoned: the grant is gone");
      return false;
    }
    g = sql::read_grant(rows[0]);
    // The lease now covers the call: an activation that would send this key to this handler waits for it.
    sql::exec(txn,
              "UPDATE grant_compensations SET lease_until = " + sql::after_ms(3) + ", next_attempt_at = " +
                  sql::after_ms(3) + " WHERE id = $1 AND lease_owner = $2",
              c.id, token, ms(opt.lease));
    return true;
  });
  if (!decided.ok()) {
    log_error("deciding compensation " + std::to_string(c.id) + " of grant " + c.grant_id, decided.error());
    return;  // the lease runs out and the row is due again
  }
  if (!*decided) return;

  const std::string slot = c.handler + '\x1f' + c.key;
  const auto deadline = deadline_in(opt.call_timeout);
  auto outcome = call_with_deadline<pb::Response>(
      pool,
      [client, req = revoke_request(g, c.key, c.kind, ""), h = c.handler, deadline] {
        return call_revoke(*client, req, h, deadline);
      },
      deadline,
      [&] {
        std::lock_guard lock(abandoned_mutex);
        abandoned.insert(slot);
      },
      [this, slot](Result<pb::Response>) {
        std::lock_guard lock(abandoned_mutex);
        abandoned.erase(slot);
        wake_all();
      },
      place_of(*client));

  std::string failure;
  std::string result;
  std::string note_text;
  if (!outcome) {
    const Error e = make_error(ErrorCode::deadline_exceeded, "the Revoke call did not return within " +
                                                        std::to_string(opt.call_timeout.count()) + " ms");
    view.report_handler_failure(c.handler, e);
    failure = std::string(e.code_name()) + ": " + e.message;
  } else if (!outcome->ok()) {
    const Error& e = outcome->error();
    if (e.code == ErrorCode::not_found) {
      result = "not_found";
      note_text = "succeeded (the provider does not know that grant: not_found)";
    } else {
      view.report_handler_failure(c.handler, e);
      failure = std::string(e.code_name()) + ": " + e.message;
    }
  } else {
    view.report_handler_success(c.handler);
    const bool already = outcome->value().status().code() == pb::Status::ALREADY_REVOKED;
    result = already ? "already_revoked" : "revoked";
    note_text = already ? "succeeded (the provider said it was already revoked)" : "succeeded";
  }

  auto recorded = db.with_transaction([&](pqxx::work& txn) {
    if (failure.empty()) {
      sql::exec(txn, "UPDATE grant_compensations SET attempts = attempts + 1, last_error = NULL WHERE id = $1", c.id);
      finish(txn, result, note_text);
    } else {
      retry_later(txn, failure);
    }
  });
  if (!recorded.ok())
    log_error("recording compensation " + std::to_string(c.id) + " of grant " + c.grant_id, recorded.error());
  if (!failure.empty() && failure != c.last_error)
    spdlog::info("grant engine {}: {}failed, retried with backoff: {}", opt.engine_id, about(c.handler), failure);
}

std::size_t GrantEngine::Impl::run_compensations(const std::string& token, bool honour_stop) {
  auto batch = claim_compensations(token, opt.claim_batch);
  if (!batch.ok()) {
    log_error("claiming due compensations failed", batch.error());
    return 0;
  }
  for (const auto& c : *batch) {
    if (honour_stop && stop_requested()) {
      release_compensation(c, token);
      continue;
    }
    try {
      process_compensation(c, token);
    } catch (const std::exception& e) {
      log_error("processing compensation " + std::to_string(c.id) + " failed", make_error(ErrorCode::internal_error, e.what()));
    }
  }
  return batch->size();
}

}  // namespace gatehouse::host::grants
