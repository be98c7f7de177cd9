// The transitions: activation (pending → active / failed) and ending (active → revoking → expired / revoked).
//
// Every decision transaction locks the grant row first and its access row second (the same order
// everywhere, so two decisions never deadlock), checks that the claim (lease) is still this worker's, and
// writes the transition together with its history row. Provider calls happen between transactions, after
// the access row says which handler is being called with which idempotency key.
#include "grants/engine_impl.hpp"
#include "grants/target_validation.hpp"

#include <spdlog/spdlog.h>

namespace gatehouse::host::grants {
namespace {

std::string hex_of(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string bytes_of(const std::string& hex) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(value(hex[i]) * 16 + value(hex[i + 1]));
  return out;
}

std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str()); }

long long ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

std::int64_t unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void fill_target(pb::Target* target, const std::string& route_kind, const TargetProperties& properties) {
  target->set_kind(provider_kind(route_kind));
  for (const auto& [name, value] : properties) (*target->mutable_properties())[name] = value;
}

pb::GrantRequest grant_request(const GrantRecord& g, const std::string& key, const std::string& route_kind) {
  pb::GrantRequest r;
  r.set_grant_id(key);
  r.set_subject(g.subject);
  fill_target(r.mutable_target(), route_kind, g.target);
  const TimePoint now = Clock::now();
  r.set_starts_at_unix_ms(unix_ms(now));
  r.set_ends_at_unix_ms(unix_ms(now + g.duration));
  return r;
}

// Through invoke(), not the typed grant(): the status tells already_exists apart.
Result<pb::Response> call_grant(ProviderClient& client, const pb::GrantRequest& in, const std::string& handler,
                                CallDeadline deadline) {
  pb::Request request;
  *request.mutable_grant() = in;
  return host::invoke(client, request, deadline, handler);
}

std::string describe(const std::string& handler, const Error& e) {
  return "handler '" + handler + "': " + std::string(e.code_name()) + ": " + e.message;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
  return out;
}

// Routes passed over (routing_skips.hpp) go into the decision's own history row: one row, also in the audit.
std::string with_skips(std::string reason, const std::vector<RouteSkip>& skips) {
  return skips.empty() ? reason : reason + "; " + joined_skips(skips);
}

std::vector<std::string> called_handlers(const routing::FailoverPlan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.attempted()) out.emplace_back(c.handler);
  return out;
}

void count_skips(const GrantEngineOptions& opt, const std::vector<RouteSkip>& skips) {
  if (!opt.on_routing_skip) return;
  try {
    for (const auto& s : skips) opt.on_routing_skip(s.handler, s.reason);
  } catch (...) {
    spdlog::warn("grant engine {}: the routing skip hook threw; ignored", opt.engine_id);
  }
}

// The grant's activation, shared by "joined an active access" and "granted by a handler".
// The grant's activation with its history row, shared by "joined an active access" and "granted by a
// handler": one row affected when the claim still holds ($1 id, $2 handler, $3 kind, $4 lease owner, $5 reason,
// $6 engine).
constexpr const char* kActivateSql =
    "WITH u AS (UPDATE grants SET status = 'active', activated_at = now(), "
    "ends_at = now() + duration_seconds * interval '1 second', handler_id = $2, kind = $3, "
    "next_attempt_at = CASE WHEN end_requested THEN now() ELSE now() + duration_seconds * interval '1 second' END, "
    "lease_owner = NULL, lease_until = NULL, attempts = 0, last_error = NULL, updated_at = now() "
    "WHERE id = $1::uuid AND status = 'pending' AND lease_owner = $4 RETURNING id) "
    "INSERT INTO grant_history (grant_id, from_status, to_status, reason, handler_id, engine) "
    "SELECT id, 'pending', 'active', $5, NULLIF($2, ''), $6 FROM u";

}  // namespace

pb::RevokeRequest revoke_request(const GrantRecord& g, const std::string& key, const std::string& route_kind,
                                 const std::string& state) {
  pb::RevokeRequest r;
  r.set_grant_id(key);
  r.set_subject(g.subject);
  fill_target(r.mutable_target(), route_kind, g.target);
  r.set_state(state);
  return r;
}

Result<pb::Response> call_revoke(ProviderClient& client, const pb::RevokeRequest& in, const std::string& handler,
                                 CallDeadline deadline) {
  pb::Request request;
  *request.mutable_revoke() = in;
  return host::invoke(client, request, deadline, handler);
}

bool unknown_outcome(const Error& e) { return e.code == ErrorCode::transport_failed || e.code == ErrorCode::deadline_exceeded; }

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

namespace {
constexpr const char* kGrantLockFields =
    "status, coalesce(lease_owner, ''), end_requested, coalesce(end_reason, ''), coalesce(revoke_requested_by, ''), "
    "attempts, coalesce(last_error, ''), coalesce(ends_at <= now(), false), "
    "($2::bigint > 0 AND not_before + $2::bigint * interval '1 second' < now()), revoke_failing";

constexpr const char* kAccessFields =
    "status, coalesce(handler_id, ''), coalesce(kind, ''), coalesce(provider_grant_id::text, ''), "
    "coalesce(encode(provider_state, 'hex'), ''), coalesce(op_owner, ''), coalesce(op_until > now(), false), "
    "GREATEST(0, coalesce((extract(epoch from op_until - now()) * 1000)::bigint, 0)), "
    "coalesce(op_grant_id::text, ''), coalesce(handler_provider, ''), coalesce(handler_backend, ''), "
    "coalesce(handler_incarnation, '')";

LockedAccess read_access(const pqxx::row& r) {
  LockedAccess a;
  a.status = text(r[0]);
  a.handler_id = text(r[1]);
  a.kind = text(r[2]);
  a.provider_grant_id = text(r[3]);
  a.state_hex = text(r[4]);
  a.op_owner = text(r[5]);
  a.op_live = r[6].as<bool>();
  a.op_remaining_ms = r[7].as<long long>();
  a.op_grant_id = text(r[8]);
  a.handler_provider = text(r[9]);
  a.handler_backend = text(r[10]);
  a.handler_incarnation = text(r[11]);
  return a;
}
}  // namespace

std::optional<LockedGrant> GrantEngine::Impl::lock_grant(pqxx::work& txn, const std::string& id,
                                                         const std::string& token, bool extend_lease) const {
  const long long deadline_s = opt.activation_deadline ? static_cast<long long>(opt.activation_deadline->count()) : 0;
  static const std::string select =
      std::string("SELECT ") + kGrantLockFields + " FROM grants WHERE id = $1::uuid FOR UPDATE";
  static const std::string touch = "UPDATE grants SET lease_until = " + sql::after_ms(4) +
                                   ", next_attempt_at = " + sql::after_ms(4) +
                                   " WHERE id = $1::uuid AND lease_owner = $3 RETURNING " + kGrantLockFields;
  const auto rows = extend_lease ? sql::exec(txn, touch, id, deadline_s, token, ms(opt.lease))
                                 : sql::exec(txn, select, id, deadline_s);
  if (rows.empty()) return std::nullopt;
  const auto& r = rows[0];
  LockedGrant g;
  g.status = parse_grant_status(r[0].c_str()).value_or(GrantStatus::failed);
  g.lease_owner = text(r[1]);
  if (g.lease_owner != token) return std::nullopt;  // lost the claim
  g.end_requested = r[2].as<bool>();
  g.end_reason = text(r[3]);
  g.revoke_requested_by = text(r[4]);
  g.attempts = r[5].as<int>();
  g.last_error = text(r[6]);
  g.ends_due = r[7].as<bool>();
  g.deadline_passed = r[8].as<bool>();
  g.revoke_failing = r[9].as<bool>();
  return g;
}

std::optional<LockedAccess> GrantEngine::Impl::lock_access(pqxx::work& txn, const std::string& key) const {
  static const std::string statement =
      std::string("SELECT ") + kAccessFields + " FROM accesses WHERE access_key = $1 FOR UPDATE";
  const auto rows = sql::exec(txn, statement, key);
  if (rows.empty()) return std::nullopt;
  return read_access(rows[0]);
}

// Insert-or-lock in one statement: ON CONFLICT DO UPDATE locks the existing row and returns it.
LockedAccess GrantEngine::Impl::upsert_access(pqxx::work& txn, const GrantRecord& g) const {
  static const std::string statement =
      std::string(
          "INSERT INTO accesses (access_key, target_group_id, subject, target) VALUES ($1, $2, $3, $4::jsonb) "
          "ON CONFLICT (access_key) DO UPDATE SET access_key = EXCLUDED.access_key RETURNING ") +
      kAccessFields;
  return read_access(
      sql::exec(txn, statement, g.access_key, g.target_group, g.subject, canonical_target_json(g.target))[0]);
}

void GrantEngine::Impl::add_history(pqxx::work& txn, const std::string& id, std::optional<GrantStatus> from,
                                    GrantStatus to, const std::string& reason, const std::string& handler) const {
  sql::exec(txn,
            "INSERT INTO grant_history (grant_id, from_status, to_status, reason, handler_id, engine) "
            "VALUES ($1::uuid, NULLIF($2, ''), $3, $4, NULLIF($5, ''), $6)",
            id, from ? std::string(to_string(*from)) : std::string(), std::string(to_string(to)), reason, handler,
            opt.engine_id);
}

bool GrantEngine::Impl::granting_handler_present(const LockedAccess& access) const {
  if (access.handler_id.empty() || !view.handler_exists(access.handler_id)) return false;
  const auto now = view.handler_identity(access.handler_id);
  if (!now) return access.handler_incarnation.empty();  // identities unknown to this view: the id decides
  if (now->is_other_creation_than(access.handler_incarnation)) return false;
  return access.handler_provider.empty() || now->provider.empty() || now->provider == access.handler_provider;
}

// What a provider said about a Grant or Revoke it confirmed ("pre_existing: the membership was granted by
// 'postgres' ...", "left the membership ... in place") is a note of its own right after that transition, so
// the host's sentences keep one shape whatever the provider writes.
void GrantEngine::Impl::add_provider_note(pqxx::work& txn, const std::string& id, GrantStatus status,
                                          const std::string& handler, const std::string& message) const {
  if (message.empty()) return;
  add_history(txn, id, status, status, "handler '" + handler + "' said: " + message, handler);
}

// Pending grants of the same access that wait for a call to finish: due now. SKIP LOCKED, because a locked one
// is being looked at already (and waiting for it could deadlock with its own access lock).
void GrantEngine::Impl::wake_waiting(pqxx::work& txn, const std::string& access_key,
                                     const std::string& except_id) const {
  sql::exec(txn,
            "UPDATE grants SET next_attempt_at = now() WHERE id IN (SELECT id FROM grants WHERE access_key = $1 "
            "AND status = 'pending' AND id::text <> $2 AND lease_owner IS NULL AND next_attempt_at > now() "
            "AND not_before <= now() FOR UPDATE SKIP LOCKED)",
            access_key, except_id);
}

bool GrantEngine::Impl::is_abandoned(const std::string& handler, const std::string& key) {
  std::lock_guard lock(abandoned_mutex);
  return abandoned.contains(handler + '\x1f' + key);
}

void GrantEngine::Impl::note(const std::string& grant_id, const std::string& reason, const std::string& handler) {
  auto noted = db.with_transaction([&](pqxx::work& txn) {
    sql::exec(txn,
              "INSERT INTO grant_history (grant_id, from_status, to_status, reason, handler_id, engine) "
              "SELECT id, status, status, $2, NULLIF($3, ''), $4 FROM grants WHERE id = $1::uuid",
              grant_id, reason, handler, opt.engine_id);
  });
  if (!noted.ok()) log_error("could not record a note on grant " + grant_id, noted.error());
}

// A Grant abandoned at its deadline returned. A success on a handler that does not hold the access (the engine
// failed over, or gave up for now) is taken back there; then the access this claim kept "granting" is released.
void GrantEngine::Impl::late_grant_result(const GrantRecord& g, const std::string& token, const std::string& handler,
                                          const std::string& key, Result<pb::Response> result) {
  bool clean = true;  // nothing left at the handler that the access row does not account for
  std::optional<OwedRevoke> owed;  // the compensating Revoke failed: retried durably by the workers
  if (result.ok()) {
    auto legit = db.with_transaction([&](pqxx::work& txn) {
      return !sql::exec(txn,
                        "SELECT 1 FROM accesses WHERE access_key = $1 AND status IN ('active', 'revoking') "
                        "AND handler_id = $2 AND provider_grant_id::text = $3",
                        g.access_key, handler, key)
                  .empty();
    });
    if (legit.ok() && !*legit) {
      std::string outcome;
      auto client = view.client(handler);
      if (!client) {
        clean = false;
        outcome = "failed: the handler is gone";
      } else {
        std::string kind;
        {
          // The kind the abandoned call used is what the compensating call must use.
          const auto rv = view.routing();
          for (const auto& c : rv.table->eligible(g.target_group))
            if (c.handler == handler) {
              kind = std::string(c.kind);
              break;
            }
          if (kind.empty()) kind = g.kind;
        }
        auto revoked = call_revoke(*client, revoke_request(g, key, kind, result->grant().state()), handler,
                                   deadline_in(opt.call_timeout));
        clean = revoked.ok();
        outcome = revoked.ok() ? "succeeded" : "failed: " + std::string(revoked.error().code_name()) + ": " + revoked.error().message;
        if (!revoked.ok()) {
          owed = OwedRevoke{handler, kind, "late Grant success"};
          outcome += "; retried until it succeeds";
        }
      }
      note(g.id,
           "the Grant that timed out on handler '" + handler + "' succeeded late; compensating Revoke there " + outcome,
           handler);
    } else if (!legit.ok()) {
      clean = false;
      log_error("checking a late Grant result for grant " + g.id, legit.error());
    }
  }
  auto released = db.with_transaction([&](pqxx::work& txn) {
    if (owed) owe_revoke(txn, g, key, *owed);
    if (clean) {
      const auto r = sql::exec(
          txn, std::string(sql::kClearAccessSql) + " AND status = 'granting' AND op_owner = $2 AND handler_id = $3",
          g.access_key, token, handler);
      if (r.affected_rows() > 0) wake_waiting(txn, g.access_key, "");
    } else {
      // Still in doubt: let the next attempt take the access over (and compensate again).
      sql::exec(txn, "UPDATE accesses SET op_until = now() WHERE access_key = $1 AND op_owner = $2", g.access_key,
                token);
      wake_waiting(txn, g.access_key, "");
    }
  });
  if (!released.ok()) log_error("releasing the access of grant " + g.id, released.error());
  {
    std::lock_guard lock(abandoned_mutex);
    abandoned.erase(handler + '\x1f' + key);
  }
  wake_all();
}

// ---------------------------------------------------------------------------------------------
// Activation
// ---------------------------------------------------------------------------------------------

void GrantEngine::Impl::activate(const GrantRecord& g, const std::string& token) {
  Activation b;
  auto began = db.with_transaction([&](pqxx::work& txn) { begin_activation(txn, g, token, b, /*extend_lease=*/true); });
  if (!began.ok()) {
    log_error("activating grant " + g.id, began.error());
    release(g, token, false);
    return;
  }
  run_activation(g, token, b);
}

// The decision of an activation, inside the caller's transaction (activate()'s own, or the claim's).
void GrantEngine::Impl::begin_activation(pqxx::work& txn, const GrantRecord& g, const std::string& token, Activation& b,
                                         bool extend_lease) {
  using Next = Activation::Next;
  b.routing = view.routing();
  b.plan = std::make_unique<routing::FailoverPlan>(*b.routing.table, g.target_group, *b.routing.health);
  b.claimed_at = std::chrono::steady_clock::now();
  routing::FailoverPlan& plan = *b.plan;

  auto transition = [&](std::optional<GrantStatus> from, GrantStatus to, const std::string& reason,
                        const std::string& handler) {
    b.transition = Transition{g.id, g.subject, g.target_group, from, to, reason, handler, opt.engine_id};
  };
  // Ends the pending grant without activating it.
  auto finish = [&](pqxx::work& txn, GrantStatus to, const std::string& reason) {
    sql::exec(txn,
              "UPDATE grants SET status = $2, ended_at = now(), last_error = CASE WHEN $2 = 'failed' THEN $3 "
              "ELSE last_error END, end_reason = CASE WHEN $2 = 'failed' THEN $3 ELSE end_reason END, lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
              g.id, std::string(to_string(to)), reason);
    add_history(txn, g.id, GrantStatus::pending, to, reason, "");
    transition(GrantStatus::pending, to, reason, "");
    b.next = Next::finished;
  };
  // Leaves the grant pending for `next_ms`; notes the reason when it is new.
  auto wait = [&](pqxx::work& txn, const LockedGrant& locked, const std::string& reason, int attempts,
                  long long next_ms) {
    sql::exec(txn,
              "UPDATE grants SET attempts = $2, last_error = $3, next_attempt_at = " + sql::after_ms(4) +
                  ", lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
              g.id, attempts, reason, next_ms);
    if (reason != locked.last_error) add_history(txn, g.id, GrantStatus::pending, GrantStatus::pending, reason, "");
    b.next = Next::finished;
  };
  auto retry_later = [&](pqxx::work& txn, const LockedGrant& locked, const std::string& reason) {
    const int attempts = locked.attempts + 1;
    wait(txn, locked, reason, attempts, ms(opt.backoff.delay(attempts)));
  };

  {
    // Locks the grant (and, outside a fresh claim, extends it over the provider call that may follow).
    const auto locked = lock_grant(txn, g.id, token, extend_lease);
    if (!locked || locked->status != GrantStatus::pending) return;  // lost the claim
    const LockedAccess access = upsert_access(txn, g);
    // An earlier call for this very grant was interrupted (crash, lost claim): settle it before anything else.
    const bool own_call_in_doubt = access.status == "granting" && access.op_grant_id == g.id && !access.op_live;

    if (locked->end_requested && !own_call_in_doubt)
      return finish(txn, GrantStatus::revoked, "cancelled before activation: " + locked->end_reason);
    if (locked->deadline_passed && !own_call_in_doubt)
      return finish(txn, GrantStatus::failed,
                    "not activated within " + std::to_string(opt.activation_deadline->count()) +
                        " s of its requested start" +
                        (locked->last_error.empty() ? "" : " (last reason: " + locked->last_error + ")"));

    if (access.status == "active") {
      const std::string reason = "joined the access that handler '" + access.handler_id +
                                 "' already grants (provider grant " + access.provider_grant_id + "); no provider call";
      const auto r = sql::exec(txn, kActivateSql, g.id, access.handler_id, access.kind, token, reason, opt.engine_id);
      if (r.affected_rows() != 1) return;
      transition(GrantStatus::pending, GrantStatus::active, reason, access.handler_id);
      b.next = Next::finished;
      return;
    }
    if (access.status == "revoking")
      return wait(txn, *locked,
                  "waiting for the revoke of the same access by grant " + access.op_grant_id + " to finish",
                  locked->attempts + 1, ms(opt.backoff.delay(locked->attempts + 1)));
    if (access.status == "granting" && access.op_live)
      return wait(txn, *locked, "waiting for grant " + access.op_grant_id + " to finish granting the same access",
                  locked->attempts, access.op_remaining_ms);

    // No access, or a Grant that was interrupted: (re)start it. An interrupted one keeps its key, so asking
    // the same handler again is idempotent.
    b.key = access.status == "granting" && !access.provider_grant_id.empty() ? access.provider_grant_id : g.id;
    b.fresh_access = access.status == "none";
    const routing::Candidate* first = plan.current();
    if (!first) {
      const auto skips = passed_over(view.route_states(g.target_group), std::nullopt, {});
      const std::string reason = with_skips("no candidate: target group '" + g.target_group +
                                                "' has no valid route with priority > 0 to a healthy handler",
                                            skips);
      if (reason != locked->last_error) b.skips_noted = skips;  // retry_later notes only a new reason
      return retry_later(txn, *locked, reason);
    }
    b.recorded = std::string(first->handler);
    std::string kind(first->kind);
    if (access.status == "granting" && !access.handler_id.empty() && access.handler_id != b.recorded) {
      b.doubt = access.handler_id;
      b.doubt_kind = access.kind;
      b.recorded = b.doubt;  // stays named until the compensating Revoke was sent
      kind = access.kind;
    }
    sql::exec(txn,
              "UPDATE accesses SET status = 'granting', handler_id = $2, kind = $3, provider_grant_id = $4::uuid, "
              "op_owner = $5, op_until = " +
                  sql::after_ms(6) +
                  ", op_grant_id = $7::uuid, updated_at = now() "
                  "WHERE access_key = $1",
              g.access_key, b.recorded, kind, b.key, token, ms(opt.lease), g.id);
    // Read under the access lock, which a compensating Revoke also takes before it is sent: a handler that
    // is being sent a Revoke with this key is not sent the Grant at the same time.
    b.busy = revokes_in_flight(txn, g.access_key, b.key);
    b.next = Next::call;
  }
}

// What follows the decision's commit: the provider calls along the failover plan, and their outcome.
void GrantEngine::Impl::run_activation(const GrantRecord& g, const std::string& token, Activation& b) {
  using Next = Activation::Next;
  routing::FailoverPlan& plan = *b.plan;
  if (b.transition) notify(*b.transition);
  count_skips(opt, b.skips_noted);
  if (b.next != Next::call) return;

  // An interrupted Grant on a handler other than the one we now ask: take back whatever it may have given.
  if (!b.doubt.empty()) {
    std::string outcome;
    if (is_abandoned(b.doubt, b.key)) {
      outcome = "left to the call still running there";
    } else if (auto client = view.client(b.doubt); !client) {
      outcome = "not possible: the handler is gone";
    } else {
      const std::string slot = b.doubt + '\x1f' + b.key;
      const auto deadline = deadline_in(opt.call_timeout);
      auto r = call_with_deadline<pb::Response>(
          pool,
          [client, req = revoke_request(g, b.key, b.doubt_kind, ""), h = b.doubt, deadline] {
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
          },
          place_of(*client));
      outcome = !r ? "timed out" : r->ok() ? "succeeded" : "failed: " + std::string(r->error().code_name()) + ": " + r->error().message;
      if (!r || !r->ok()) {
        // Not confirmed: owed durably, retried by the workers until the handler confirms.
        auto owed = db.with_transaction([&](pqxx::work& txn) {
          owe_revoke(txn, g, b.key, OwedRevoke{b.doubt, b.doubt_kind, "interrupted Grant"});
        });
        if (owed.ok())
          outcome += "; retried until it succeeds";
        else
          log_error("recording a compensating Revoke for grant " + g.id, owed.error());
      }
    }
    note(g.id,
         "a Grant for this access was interrupted on handler '" + b.doubt + "'; compensating Revoke there " + outcome,
         b.doubt);
  }

  std::vector<std::string> failures;
  std::optional<Error> refusal;
  std::string refusing_handler;
  std::optional<ChosenRoute> refusing_route;
  std::string doubt_handler, doubt_kind;  // a handler whose timed-out call is still running
  // Handlers whose Grant had an unknown outcome, owed a compensating Revoke: recorded in the transaction that
  // moves on (names the next handler, activates, or gives up for now).
  std::vector<OwedRevoke> owed;
  while (const routing::Candidate* c = plan.current()) {
    const std::string handler(c->handler);
    const std::string kind(c->kind);
    // A row claimed in a batch may have waited behind the others' calls: renew its claim before calling.
    const bool stale = std::chrono::steady_clock::now() - b.claimed_at > opt.lease / 3;
    if (b.recorded != handler || stale) {
      // Name the handler before calling it, so a crash during the call leaves the doubt on record.
      bool busy = false;
      auto recorded = db.with_transaction([&](pqxx::work& txn) {
        const auto r = sql::exec(txn,
                                 "UPDATE accesses SET handler_id = $2, kind = $3, op_until = " + sql::after_ms(5) +
                                     ", updated_at = now() "
                                     "WHERE access_key = $1 AND status = 'granting' AND op_owner = $4",
                                 g.access_key, handler, kind, token, ms(opt.lease));
        sql::exec(txn,
                  "UPDATE grants SET lease_until = " + sql::after_ms(3) + ", next_attempt_at = " + sql::after_ms(3) +
                      " WHERE id = $1::uuid AND lease_owner = $2",
                  g.id, token, ms(opt.lease));
        for (const auto& o : owed) owe_revoke(txn, g, b.key, o);
        busy = revokes_in_flight(txn, g.access_key, b.key).contains(handler);
        return r.affected_rows() == 1;
      });
      if (!recorded.ok()) {
        log_error("recording the next handler for grant " + g.id, recorded.error());
        release(g, token, false);
        return;
      }
      owed.clear();
      if (!*recorded) return;  // lost the claim
      b.recorded = handler;
      b.claimed_at = std::chrono::steady_clock::now();
      if (busy)
        b.busy.insert(handler);
      else
        b.busy.erase(handler);
    }
    if (b.busy.contains(handler)) {
      failures.push_back("handler '" + handler + "': a compensating Revoke for this access is in flight there");
      plan.fail(true);
      continue;
    }
    if (is_abandoned(handler, b.key)) {
      failures.push_back("handler '" + handler + "': an earlier call for this access is still running");
      plan.fail(true);
      continue;
    }
    auto client = view.client(handler);
    if (!client) {
      failures.push_back("handler '" + handler + "': no running instance");
      plan.fail(true);
      continue;
    }
    const std::string key = b.key;
    const auto deadline = deadline_in(opt.call_timeout);
    auto outcome = call_with_deadline<pb::Response>(
        pool,
        [client, req = grant_request(g, key, kind), handler, deadline] {
          return call_grant(*client, req, handler, deadline);
        },
        deadline,
        [&] {
          std::lock_guard lock(abandoned_mutex);
          abandoned.insert(handler + '\x1f' + key);
        },
        [this, g, token, handler, key](Result<pb::Response> late) {
          late_grant_result(g, token, handler, key, std::move(late));
        },
        place_of(*client));
    if (!outcome) {
      const Error e = make_error(ErrorCode::deadline_exceeded, "the Grant call did not return within " +
                                                          std::to_string(opt.call_timeout.count()) + " ms");
      view.report_handler_failure(handler, e);
      if (opt.on_failover) opt.on_failover(handler, e);
      failures.push_back(describe(handler, e));
      doubt_handler = handler;
      doubt_kind = kind;
      plan.fail(true);
      continue;
    }
    if (outcome->ok()) {
      view.report_handler_success(handler);
      const pb::Response& response = outcome->value();
      const bool already = response.status().code() == pb::Status::ALREADY_EXISTS;
      std::optional<Transition> done;
      std::string reason = "granted by handler '" + handler + "' (priority " + std::to_string(c->priority) + ")";
      if (already) reason += "; the provider already had it (already_exists)";
      if (!failures.empty()) reason += " after " + joined(failures);
      const auto skips = passed_over(view.route_states(g.target_group), ChosenRoute{handler, kind, c->priority},
                                     called_handlers(plan));
      reason = with_skips(reason, skips);
      // Grant row first, access row second (the lock order of every decision); either one no longer being
      // this claim's rolls both back.
      auto committed = db.with_transaction([&](pqxx::work& txn) -> Result<bool> {
        for (const auto& o : owed) owe_revoke(txn, g, key, o);
        if (sql::exec(txn, kActivateSql, g.id, handler, kind, token, reason, opt.engine_id).affected_rows() != 1)
          return false;
        add_provider_note(txn, g.id, GrantStatus::active, handler, response.grant().message());
        // The handler's provider and backend as they are now: what a later re-point of its revoke must match
        // even after the handler is deleted (revoke rule, routing/revoke.hpp).
        const auto identity = view.handler_identity(handler).value_or(HandlerIdentity{});
        const auto a = sql::exec(
            txn,
            "UPDATE accesses SET status = 'active', handler_id = $2, kind = $3, provider_grant_id = $4::uuid, "
            "provider_state = decode($5, 'hex'), op_owner = NULL, op_until = NULL, op_grant_id = NULL, "
            "handler_provider = NULLIF($7, ''), handler_backend = NULLIF($8, ''), handler_incarnation = NULLIF($9, ''), "
            "updated_at = now() WHERE access_key = $1 AND status = 'granting' AND op_owner = $6",
            g.access_key, handler, kind, key, hex_of(response.grant().state()), token, identity.provider,
            identity.backend, identity.incarnation);
        if (a.affected_rows() != 1) return make_error(ErrorCode::lost_claim, "the access is no longer this claim's");
        wake_waiting(txn, g.access_key, g.id);
        done = Transition{g.id,   g.subject, g.target_group, GrantStatus::pending, GrantStatus::active,
                          reason, handler,   opt.engine_id};
        return true;
      });
      if (!committed.ok() && committed.error().code == ErrorCode::lost_claim) done.reset();
      if (!committed.ok() && committed.error().code != ErrorCode::lost_claim) {
        // The access row still names this handler and key: the next attempt repeats the (idempotent) Grant.
        log_error("committing the activation of grant " + g.id, committed.error());
        release(g, token, false);
      }
      if (done) {
        notify(*done);
        count_skips(opt, skips);
      }
      return;
    }
    const Error& e = outcome->error();
    view.report_handler_failure(handler, e);
    if (is_retryable(e)) {
      if (unknown_outcome(e)) owed.push_back(OwedRevoke{handler, kind, describe(handler, e)});
      if (opt.on_failover) opt.on_failover(handler, e);
      failures.push_back(describe(handler, e));
      plan.fail(true);
      continue;
    }
    refusal = e;
    refusing_handler = handler;
    refusing_route = ChosenRoute{handler, kind, c->priority};
    plan.fail(false);
    break;
  }

  // No success: failed (non-retryable) or still pending (retry with backoff).
  std::optional<Transition> done;
  const auto skips = passed_over(view.route_states(g.target_group), refusing_route, called_handlers(plan));
  bool skips_noted = false;
  auto ended = db.with_transaction([&](pqxx::work& txn) {
    for (const auto& o : owed) owe_revoke(txn, g, b.key, o);  // whatever becomes of the claim
    const auto locked = lock_grant(txn, g.id, token);
    if (!locked || locked->status != GrantStatus::pending) return;
    const auto access = lock_access(txn, g.access_key);
    const bool held = access && access->status == "granting" && access->op_owner == token;
    const bool keep_doubt = held && !doubt_handler.empty() && is_abandoned(doubt_handler, b.key);
    if (keep_doubt) {
      // Keep the access "granting" on the handler whose call still runs, until that call settles.
      sql::exec(txn,
                "UPDATE accesses SET handler_id = $2, kind = $3, op_until = " + sql::after_ms(4) +
                    ", updated_at = now() WHERE access_key = $1",
                g.access_key, doubt_handler, doubt_kind, ms(opt.lease));
    } else if (held) {
      sql::exec(txn, sql::kClearAccessSql, g.access_key);
      wake_waiting(txn, g.access_key, g.id);
    }
    if (refusal) {
      const std::string reason = with_skips("refused by " + describe(refusing_handler, *refusal) +
                                                (failures.empty() ? "" : " (after " + joined(failures) + ")"),
                                            skips);
      // The refusal whole (message and field paths) for clients, and the handler that refused it: a failed
      // grant names its handler although it holds no access.
      nlohmann::json details = nlohmann::json::array();
      for (const auto& d : refusal->diagnostics) details.push_back({{"path", d.path}, {"reason", d.reason}});
      const nlohmann::json failure{{"handler", refusing_handler},
                                   {"code", refusal->code},
                                   {"message", refusal->message},
                                   {"details", details}};
      sql::exec(txn,
                "UPDATE grants SET status = 'failed', ended_at = now(), last_error = $2, end_reason = $2, "
                "handler_id = $3, kind = $4, failure = $5::jsonb, lease_owner = NULL, lease_until = NULL, "
                "updated_at = now() WHERE id = $1::uuid",
                g.id, reason, refusing_handler, refusing_route ? refusing_route->kind : std::string(),
                failure.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      add_history(txn, g.id, GrantStatus::pending, GrantStatus::failed, reason, refusing_handler);
      skips_noted = true;
      done = Transition{g.id,   g.subject,        g.target_group, GrantStatus::pending, GrantStatus::failed,
                        reason, refusing_handler, opt.engine_id};
      return;
    }
    if (locked->end_requested && !keep_doubt) {
      const std::string reason = "cancelled before activation: " + locked->end_reason;
      sql::exec(txn,
                "UPDATE grants SET status = 'revoked', ended_at = now(), lease_owner = NULL, lease_until = NULL, "
                "updated_at = now() WHERE id = $1::uuid",
                g.id);
      add_history(txn, g.id, GrantStatus::pending, GrantStatus::revoked, reason, "");
      done = Transition{g.id,   g.subject, g.target_group, GrantStatus::pending, GrantStatus::revoked,
                        reason, "",        opt.engine_id};
      return;
    }
    const std::string reason =
        with_skips(failures.empty() ? "no candidate: target group '" + g.target_group +
                                          "' has no valid route with priority > 0 to a healthy handler"
                                    : "no handler could grant it: " + joined(failures),
                   skips);
    const int attempts = locked->attempts + 1;
    sql::exec(txn,
              "UPDATE grants SET attempts = $2, last_error = $3, next_attempt_at = " + sql::after_ms(4) +
                  ", lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
              g.id, attempts, reason, ms(opt.backoff.delay(attempts)));
    if (reason != locked->last_error) {
      add_history(txn, g.id, GrantStatus::pending, GrantStatus::pending, reason, "");
      skips_noted = true;
    }
  });
  if (!ended.ok()) {
    log_error("recording the failed activation of grant " + g.id, ended.error());
    release(g, token, false);
  } else if (skips_noted) {
    count_skips(opt, skips);
  }
  if (done) notify(*done);
}

// ---------------------------------------------------------------------------------------------
// Ending
// ---------------------------------------------------------------------------------------------

namespace {
GrantStatus final_status(const LockedGrant& locked) {
  return locked.end_requested ? GrantStatus::revoked : GrantStatus::expired;
}
std::string end_why(const LockedGrant& locked) {
  return locked.end_requested ? (locked.end_reason.empty() ? "revoked" : locked.end_reason) : "expired at its end time";
}
}  // namespace

void GrantEngine::Impl::end_active(const GrantRecord& g, const std::string& token) {
  Ending e;
  auto decided = db.with_transaction([&](pqxx::work& txn) { begin_ending(txn, g, token, e); });
  if (!decided.ok()) {
    log_error("ending grant " + g.id, decided.error());
    release(g, token, false);
    return;
  }
  run_ending(g, token, e);
}

// The decision of an ending, inside the caller's transaction (end_active()'s own, or the claim's).
void GrantEngine::Impl::begin_ending(pqxx::work& txn, const GrantRecord& g, const std::string& token, Ending& e) {
  e.decided_at = std::chrono::steady_clock::now();
  const auto locked = lock_grant(txn, g.id, token);
  if (!locked || locked->status != GrantStatus::active) return;
  if (!locked->end_requested && !locked->ends_due) {  // claimed early (e.g. a clock step): back to sleep
    sql::exec(txn,
              "UPDATE grants SET next_attempt_at = ends_at, lease_owner = NULL, lease_until = NULL "
              "WHERE id = $1::uuid",
              g.id);
    return;
  }
  const GrantStatus to = final_status(*locked);
  const std::string why = end_why(*locked);
  const auto access = lock_access(txn, g.access_key);
  const auto other = sql::exec(txn,
                               "SELECT id::text FROM grants WHERE access_key = $1 AND status = 'active' "
                               "AND id <> $2::uuid ORDER BY ends_at DESC LIMIT 1",
                               g.access_key, g.id);
  auto end_now = [&](const std::string& reason) {
    sql::exec(txn,
              "UPDATE grants SET status = $2, ended_at = now(), end_reason = coalesce(end_reason, $3), "
              "lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
              g.id, std::string(to_string(to)), why);
    add_history(txn, g.id, GrantStatus::active, to, reason, g.handler_id);
    e.transition =
        Transition{g.id, g.subject, g.target_group, GrantStatus::active, to, reason, g.handler_id, opt.engine_id};
  };
  if (!other.empty()) return end_now(why + "; access still covered by grant " + text(other[0][0]));
  if (!access || access->status == "none") return end_now(why + "; no provider access was recorded for it");
  if (access->status != "active") {  // not expected: the access of an active grant is active
    sql::exec(txn,
              "UPDATE grants SET next_attempt_at = " + sql::after_ms(2) +
                  ", lease_owner = NULL, lease_until = NULL WHERE id = $1::uuid",
              g.id, ms(opt.poll_interval));
    return;
  }
  sql::exec(txn,
            "UPDATE accesses SET status = 'revoking', op_owner = $2, op_until = " + sql::after_ms(3) +
                ", op_grant_id = $4::uuid, updated_at = now() WHERE access_key = $1",
            g.access_key, token, ms(opt.lease), g.id);
  sql::exec(txn,
            "UPDATE grants SET status = 'revoking', end_reason = coalesce(end_reason, $2), lease_until = " +
                sql::after_ms(3) + ", next_attempt_at = " + sql::after_ms(3) +
                ", updated_at = now() WHERE id = $1::uuid",
            g.id, why, ms(opt.lease));
  add_history(txn, g.id, GrantStatus::active, GrantStatus::revoking, why, access->handler_id);
  e.transition = Transition{g.id, g.subject,          g.target_group, GrantStatus::active, GrantStatus::revoking,
                            why,  access->handler_id, opt.engine_id};
  e.revoke_access = access;
}

void GrantEngine::Impl::run_ending(const GrantRecord& g, const std::string& token, Ending& e) {
  if (e.transition) notify(*e.transition);
  if (!e.revoke_access) return;
  // Decided in a batch and waited behind the others' calls: renew the claim before calling.
  if (std::chrono::steady_clock::now() - e.decided_at > opt.lease / 3) {
    auto renewed = renew_revoke_claim(g, token);
    if (!renewed.ok()) {
      log_error("renewing the claim on grant " + g.id, renewed.error());
      release(g, token, false);
      return;
    }
    if (!*renewed) return;  // lost the claim
  }
  do_revoke(g, token, *e.revoke_access);
}

Result<bool> GrantEngine::Impl::renew_revoke_claim(const GrantRecord& g, const std::string& token) {
  return db.with_transaction([&](pqxx::work& txn) {
    const auto r =
        sql::exec(txn,
                  "UPDATE grants SET lease_until = " + sql::after_ms(3) + ", next_attempt_at = " + sql::after_ms(3) +
                      " WHERE id = $1::uuid AND lease_owner = $2",
                  g.id, token, ms(opt.lease));
    sql::exec(txn, "UPDATE accesses SET op_until = " + sql::after_ms(3) + " WHERE access_key = $1 AND op_owner = $2",
              g.access_key, token, ms(opt.lease));
    return r.affected_rows() == 1;
  });
}

void GrantEngine::Impl::continue_revoking(const GrantRecord& g, const std::string& token) {
  std::optional<Transition> done;
  std::optional<LockedAccess> revoke_access;
  auto decided = db.with_transaction([&](pqxx::work& txn) {
    const auto locked = lock_grant(txn, g.id, token);
    if (!locked || locked->status != GrantStatus::revoking) return;
    const GrantStatus to = final_status(*locked);
    const std::string why = end_why(*locked);
    const auto access = lock_access(txn, g.access_key);
    auto end_now = [&](const std::string& reason) {
      sql::exec(txn,
                "UPDATE grants SET status = $2, ended_at = now(), revoke_failing = false, attempts = 0, "
                "last_error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
                g.id, std::string(to_string(to)));
      add_history(txn, g.id, GrantStatus::revoking, to, reason, g.handler_id);
      done =
          Transition{g.id, g.subject, g.target_group, GrantStatus::revoking, to, reason, g.handler_id, opt.engine_id};
    };
    if (!access || access->status == "none") return end_now(why + "; the access was already removed");
    if (access->status == "active") {
      const auto other = sql::exec(
          txn, "SELECT id::text FROM grants WHERE access_key = $1 AND status = 'active' AND id <> $2::uuid LIMIT 1",
          g.access_key, g.id);
      if (!other.empty()) return end_now(why + "; access still covered by grant " + text(other[0][0]));
    } else if (access->status != "revoking") {  // granting: wait for that call to settle
      sql::exec(txn,
                "UPDATE grants SET next_attempt_at = " + sql::after_ms(2) +
                    ", lease_owner = NULL, lease_until = NULL WHERE id = $1::uuid",
                g.id, ms(opt.poll_interval));
      return;
    }
    sql::exec(txn,
              "UPDATE accesses SET status = 'revoking', op_owner = $2, op_until = " + sql::after_ms(3) +
                  ", op_grant_id = $4::uuid, updated_at = now() WHERE access_key = $1",
              g.access_key, token, ms(opt.lease), g.id);
    revoke_access = access;
  });
  if (!decided.ok()) {
    log_error("resuming the revoke of grant " + g.id, decided.error());
    release(g, token, false);
    return;
  }
  if (done) notify(*done);
  if (revoke_access) do_revoke(g, token, *revoke_access);
}

// The revoke rule (routing/revoke.hpp): the granting handler whatever its health, then the handlers declared to
// manage the same backend; nobody else can confirm that the access is gone. All of them failing (or none
// existing: the granting handler was deleted) keeps the grant revoking, retried with backoff.
void GrantEngine::Impl::do_revoke(const GrantRecord& g, const std::string& token, const LockedAccess& access) {
  const std::string key = access.provider_grant_id.empty() ? g.id : access.provider_grant_id;
  const std::vector<HandlerIdentity> identities = view.handler_identities();
  std::vector<routing::RevokeHandler> handlers;
  handlers.reserve(identities.size());
  for (const auto& h : identities) handlers.push_back({h.id, h.provider, h.backend, h.healthy});
  // A configured granting handler is judged by what the operator declares now; a deleted one by what the
  // access recorded when it granted.
  routing::GrantingHandler granting{access.handler_id, false, access.handler_provider, access.handler_backend, false};
  granting.exists = granting_handler_present(access);
  if (granting.exists) {
    granting.healthy = view.handler_healthy(access.handler_id);
    for (const auto& h : identities)
      if (h.id == access.handler_id && !h.provider.empty()) {
        granting.provider = h.provider;
        granting.backend = h.backend;
      }
  }
  const std::vector<routing::RevokeTarget> targets = routing::revoke_targets(granting, handlers);
  bool any_healthy = false;  // whether some handler that may confirm was healthy: if not, flagged at once
  for (const auto& t : targets) any_healthy = any_healthy || view.handler_healthy(t.handler);

  std::vector<std::string> failures;
  std::string handler;
  bool pinned = false;
  bool already = false;
  std::string provider_note;  // the provider's message ("left the membership granted by 'postgres' in place")
  auto claimed = std::chrono::steady_clock::now();
  for (const auto& t : targets) {
    const std::string h(t.handler);
    // Several handlers may be asked one after another, each up to the call deadline: renew the claim before a
    // call when a third of the lease has gone, so no other worker (nor a force-close) takes the grant while a
    // Revoke is still running; a lost claim stops here.
    if (std::chrono::steady_clock::now() - claimed > opt.lease / 3) {
      auto renewed = renew_revoke_claim(g, token);
      if (!renewed.ok()) {
        log_error("renewing the claim on grant " + g.id, renewed.error());
        release(g, token, false);
        return;
      }
      if (!*renewed) return;  // lost the claim
      claimed = std::chrono::steady_clock::now();
    }
    if (is_abandoned(h, key)) {
      failures.push_back("handler '" + h + "': an earlier call for this access is still running");
      continue;
    }
    auto client = view.client(h);
    if (!client) {
      failures.push_back("handler '" + h + "': no running instance");
      continue;
    }
    const auto deadline = deadline_in(opt.call_timeout);
    auto outcome = call_with_deadline<pb::Response>(
        pool,
        [client, req = revoke_request(g, key, access.kind, bytes_of(access.state_hex)), h, deadline] {
          return call_revoke(*client, req, h, deadline);
        },
        deadline,
        [&] {
          std::lock_guard lock(abandoned_mutex);
          abandoned.insert(h + '\x1f' + key);
        },
        [this, h, key](Result<pb::Response>) {
          std::lock_guard lock(abandoned_mutex);
          abandoned.erase(h + '\x1f' + key);
        },
        place_of(*client));
    if (!outcome) {
      const Error e = make_error(ErrorCode::deadline_exceeded, "the Revoke call did not return within " +
                                                          std::to_string(opt.call_timeout.count()) + " ms");
      view.report_handler_failure(h, e);
      failures.push_back(describe(h, e));
      continue;
    }
    if (!outcome->ok()) {
      const Error& e = outcome->error();
      view.report_handler_failure(h, e);
      failures.push_back(describe(h, e));
      continue;
    }
    view.report_handler_success(h);
    handler = h;
    pinned = t.pinned;
    already = outcome->value().status().code() == pb::Status::ALREADY_REVOKED;
    provider_note = outcome->value().revoke().message();
    break;
  }
  std::string failure;
  if (handler.empty()) {
    const std::string gone = view.handler_exists(access.handler_id)
                                 ? "was deleted (the handler of that id now is another one, which never held it)"
                                 : "was deleted";
    failure = targets.empty()
                  ? "the granting handler '" + access.handler_id + "' " + gone +
                        " and no handler holding the access can confirm the revoke: an admin must "
                        "force-close the grant (gatehouse grant revoke " + g.id +
                        " --force --reason …; recorded as access_may_persist) or re-point it to a handler of the "
                        "same provider and backend (--handler ID)"
                  : joined(failures);
  }

  std::optional<Transition> done;
  bool warn = false;
  auto recorded = db.with_transaction([&](pqxx::work& txn) {
    const auto locked = lock_grant(txn, g.id, token);
    if (!locked || locked->status != GrantStatus::revoking) return;
    if (failure.empty()) {
      const auto a = lock_access(txn, g.access_key);
      if (!a || a->status != "revoking" || a->op_owner != token) return;
      sql::exec(txn, sql::kClearAccessSql, g.access_key);
      const GrantStatus to = final_status(*locked);
      std::string reason = "revoked by handler '" + handler + "'";
      reason += pinned ? " (the granting handler)"
                       : " (same backend '" + std::string(granting.backend) + "' as the granting handler '" +
                             access.handler_id + "')";
      if (already) reason += "; the provider said it was already revoked";
      if (!failures.empty()) reason += "; after " + joined(failures);
      sql::exec(txn,
                "UPDATE grants SET status = $2, ended_at = now(), revoke_failing = false, attempts = 0, "
                "last_error = NULL, access_may_persist = false, leftover_provider_grant_id = NULL, "
                "leftover_state = NULL, leftover_provider = NULL, leftover_backend = NULL, lease_owner = NULL, "
                "lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
                g.id, std::string(to_string(to)));
      add_history(txn, g.id, GrantStatus::revoking, to, reason, handler);
      add_provider_note(txn, g.id, to, handler, provider_note);
      wake_waiting(txn, g.access_key, g.id);
      done = Transition{g.id, g.subject, g.target_group, GrantStatus::revoking, to, reason, handler, opt.engine_id};
      return;
    }
    const int attempts = locked->attempts + 1;
    // Flagged at once when no handler that may confirm is healthy (or none exists any more): nobody can take
    // the revoke now, so the access outlives its end until that changes.
    const bool failing = attempts >= opt.revoke_failing_after || targets.empty() || !any_healthy;
    sql::exec(txn,
              "UPDATE grants SET attempts = $2, last_error = $3, revoke_failing = revoke_failing OR $4, "
              "next_attempt_at = " +
                  sql::after_ms(5) + ", lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
              g.id, attempts, failure, failing, ms(opt.backoff.delay(attempts)));
    sql::exec(txn, "UPDATE accesses SET op_owner = NULL, op_until = NULL WHERE access_key = $1 AND op_owner = $2",
              g.access_key, token);
    if (failure != locked->last_error)
      add_history(txn, g.id, GrantStatus::revoking, GrantStatus::revoking, "revoke failed: " + failure,
                  access.handler_id);
    if (failing && !locked->revoke_failing)
      add_history(txn, g.id, GrantStatus::revoking, GrantStatus::revoking,
                  "revoke failed " + std::to_string(attempts) + (attempts == 1 ? " time" : " times in a row") +
                      ": flagged revoke_failing (still retrying with backoff, at once when the handler is healthy "
                      "again)",
                  access.handler_id);
    warn = true;
  });
  if (!recorded.ok()) {
    log_error("recording the revoke of grant " + g.id, recorded.error());
    release(g, token, false);
  }
  if (warn) warn_revoke_failure(g, access.handler_id, failure);
  if (done) {
    forget_revoke_warning(g.id);
    notify(*done);
  }
}

}  // namespace gatehouse::host::grants
