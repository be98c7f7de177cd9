// The engine's API, its workers and the read queries. The transitions themselves are in grant_flows.cpp.
#include "grants/engine_impl.hpp"
#include "grants/target_validation.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>

namespace gatehouse::host::grants {

// ---------------------------------------------------------------------------------------------
// Small values
// ---------------------------------------------------------------------------------------------

std::string_view to_string(GrantStatus status) {
  switch (status) {
    case GrantStatus::pending:
      return "pending";
    case GrantStatus::active:
      return "active";
    case GrantStatus::revoking:
      return "revoking";
    case GrantStatus::revoked:
      return "revoked";
    case GrantStatus::expired:
      return "expired";
    case GrantStatus::failed:
      return "failed";
  }
  return "pending";
}

std::optional<GrantStatus> parse_grant_status(std::string_view text) {
  for (auto s : {GrantStatus::pending, GrantStatus::active, GrantStatus::revoking, GrantStatus::revoked,
                 GrantStatus::expired, GrantStatus::failed})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

std::chrono::milliseconds BackoffPolicy::delay(int failures) const {
  const double base = static_cast<double>(std::max<std::int64_t>(initial.count(), 1));
  const double cap = static_cast<double>(std::max(max.count(), initial.count()));
  const int exponent = std::clamp(failures - 1, 0, 40);
  double ms = std::min(cap, base * std::pow(2.0, exponent));
  if (jitter > 0) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> spread(1.0 - jitter, 1.0 + jitter);
    ms *= spread(rng);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(1.0, ms)));
}

std::string provider_kind(std::string_view route_kind) {
  const auto slash = route_kind.rfind('/');
  return std::string(slash == std::string_view::npos ? route_kind : route_kind.substr(slash + 1));
}

namespace {

std::string default_engine_id() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "gatehouse";
  return name;
}

std::string random_hex(std::size_t chars) {
  static constexpr char digits[] = "0123456789abcdef";
  std::random_device device;
  std::string out;
  for (std::size_t i = 0; i < chars; ++i) out += digits[device() % 16];
  return out;
}

bool looks_like_uuid(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

Error grant_not_found(std::string_view id) {
  return make_error(ErrorCode::not_found, "no grant with id '" + std::string(id) + "'", {{"/id", "does not exist"}});
}

TimePoint from_us(long long us) { return TimePoint(std::chrono::microseconds(us)); }
std::optional<TimePoint> optional_us(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return from_us(f.as<long long>());
}
std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str()); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------------------------

namespace sql {

std::string grant_columns(const std::string& alias) {
  const std::string p = alias.empty() ? "" : alias + ".";
  auto us = [&](const char* col) { return "(extract(epoch from " + p + col + ") * 1000000)::bigint"; };
  return p + "id::text, " + p + "subject, " + p + "target_group_id, " + p + "target::text, " + p + "access_key, " + p +
         "status, " + us("requested_at") + ", " + us("not_before") + ", " + p + "duration_seconds, " +
         us("activated_at") + ", " + us("ends_at") + ", " + us("ended_at") + ", " + p + "end_requested, " +
         us("revoke_requested_at") + ", " + p + "revoke_requested_by, " + p + "end_reason, " + p + "handler_id, " + p +
         "kind, " + p + "revoke_failing, " + p + "attempts, " + us("next_attempt_at") + ", " + p + "last_error, " + p +
         "created_by, " + p + "idempotency_key, " + p + "failure::text, " + p + "access_may_persist";
}

GrantRecord read_grant(const pqxx::row& row) {
  GrantRecord g;
  g.id = text(row[0]);
  g.subject = text(row[1]);
  g.target_group = text(row[2]);
  const auto target = nlohmann::json::parse(text(row[3]), nullptr, false);
  if (target.is_object())
    for (const auto& [name, value] : target.items())
      g.target[name] = value.is_string() ? value.get<std::string>() : value.dump();
  g.access_key = text(row[4]);
  g.status = parse_grant_status(text(row[5])).value_or(GrantStatus::failed);
  g.requested_at = from_us(row[6].as<long long>());
  g.not_before = from_us(row[7].as<long long>());
  g.duration = std::chrono::seconds(row[8].as<long long>());
  g.activated_at = optional_us(row[9]);
  g.ends_at = optional_us(row[10]);
  g.ended_at = optional_us(row[11]);
  g.end_requested = row[12].as<bool>();
  g.revoke_requested_at = optional_us(row[13]);
  g.revoke_requested_by = text(row[14]);
  g.end_reason = text(row[15]);
  g.handler_id = text(row[16]);
  g.kind = text(row[17]);
  g.revoke_failing = row[18].as<bool>();
  g.attempts = row[19].as<int>();
  g.next_attempt_at = from_us(row[20].as<long long>());
  g.last_error = text(row[21]);
  g.created_by = text(row[22]);
  g.idempotency_key = text(row[23]);
  g.access_may_persist = row[25].as<bool>();
  if (!row[24].is_null()) {
    const auto failure = nlohmann::json::parse(text(row[24]), nullptr, false);
    if (failure.is_object()) {
      GrantFailure f;
      f.handler = failure.value("handler", "");
      f.code = failure.value("code", "");
      f.message = failure.value("message", "");
      for (const auto& d : failure.value("details", nlohmann::json::array()))
        if (d.is_object()) f.details.emplace_back(d.value("path", ""), d.value("reason", ""));
      g.failure = std::move(f);
    }
  }
  return g;
}

std::string after_ms(int placeholder) {
  return "(now() + $" + std::to_string(placeholder) + "::bigint * interval '1 millisecond')";
}

}  // namespace sql

// ---------------------------------------------------------------------------------------------
// Impl: plumbing
// ---------------------------------------------------------------------------------------------

GrantEngine::Impl::Impl(store::Database& database, ControlPlaneView& control_plane, GrantEngineOptions options)
    : db(database), view(control_plane), opt(std::move(options)), nonce(random_hex(8)) {
  if (opt.engine_id.empty()) opt.engine_id = default_engine_id();
  std::replace(opt.engine_id.begin(), opt.engine_id.end(), '/', '-');
  if (opt.workers == 0) opt.workers = 1;
  if (opt.claim_batch == 0) opt.claim_batch = 1;
  if (opt.poll_interval.count() <= 0) opt.poll_interval = std::chrono::milliseconds(1);
  if (opt.call_timeout.count() <= 0) opt.call_timeout = std::chrono::milliseconds(1);
  const auto min_lease = 2 * opt.call_timeout + std::chrono::milliseconds(1000);
  if (opt.lease < min_lease) opt.lease = min_lease;
  if (opt.revoke_failing_after < 1) opt.revoke_failing_after = 1;
}

std::string GrantEngine::Impl::new_token() {
  return opt.engine_id + "/" + nonce + "/" + std::to_string(claim_seq.fetch_add(1) + 1);
}

void GrantEngine::Impl::log_error(const std::string& what, const Error& error) const {
  spdlog::warn("grant engine {}: {}: {}", opt.engine_id, what, error.describe());
}

void GrantEngine::Impl::notify(const Transition& t) const {
  if (!opt.on_transition) return;
  try {
    opt.on_transition(t);
  } catch (...) {
    spdlog::warn("grant engine {}: the transition hook threw; ignored", opt.engine_id);
  }
}

void GrantEngine::Impl::wake_all() {
  {
    std::lock_guard lock(wake_mutex);
    wake_flag = true;
  }
  wake_cv.notify_all();
}

bool GrantEngine::Impl::stop_requested() {
  std::lock_guard lock(wake_mutex);
  return stopping;
}

// A restarted engine (same id, new nonce) takes its predecessor's leases back at once instead of waiting
// for them to expire: that process is gone, so its claims and in-flight calls are over.
Result<void> GrantEngine::Impl::recover() {
  return db.with_transaction([&](pqxx::work& txn) {
    sql::exec(
        txn,
        "UPDATE grants SET lease_owner = NULL, lease_until = NULL, next_attempt_at = LEAST(next_attempt_at, now()) "
        "WHERE lease_owner IS NOT NULL AND split_part(lease_owner, '/', 1) = $1 "
        "AND split_part(lease_owner, '/', 2) <> $2 AND status IN ('pending', 'active', 'revoking')",
        opt.engine_id, nonce);
    sql::exec(txn,
              "UPDATE accesses SET op_until = now() WHERE op_owner IS NOT NULL AND op_until > now() "
              "AND split_part(op_owner, '/', 1) = $1 AND split_part(op_owner, '/', 2) <> $2",
              opt.engine_id, nonce);
    sql::exec(txn,
              "UPDATE grant_compensations SET lease_owner = NULL, lease_until = NULL, "
              "next_attempt_at = LEAST(next_attempt_at, now()) WHERE done_at IS NULL AND lease_owner IS NOT NULL "
              "AND split_part(lease_owner, '/', 1) = $1 AND split_part(lease_owner, '/', 2) <> $2",
              opt.engine_id, nonce);
  });
}

Result<std::vector<Claimed>> GrantEngine::Impl::claim(const std::string& token, std::size_t limit,
                                                      bool with_decisions) {
  static const std::string statement =
      "WITH due AS (SELECT id FROM grants WHERE status IN ('pending', 'active', 'revoking') "
      "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
      "UPDATE grants g SET lease_owner = $2, lease_until = " +
      sql::after_ms(3) + ", next_attempt_at = " + sql::after_ms(3) + " FROM due WHERE g.id = due.id RETURNING " +
      sql::grant_columns("g");
  return db.with_transaction([&](pqxx::work& txn) {
    const auto rows =
        sql::exec(txn, statement, static_cast<long long>(limit), token, static_cast<long long>(opt.lease.count()));
    std::vector<Claimed> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(Claimed{sql::read_grant(row), nullptr, nullptr});
    if (with_decisions) {
      std::vector<Claimed*> deciding;
      for (auto& c : out)
        if (c.grant.status == GrantStatus::pending || c.grant.status == GrantStatus::active) deciding.push_back(&c);
      std::sort(deciding.begin(), deciding.end(),
                [](const Claimed* a, const Claimed* b) { return a->grant.access_key < b->grant.access_key; });
      for (Claimed* c : deciding) {
        if (c->grant.status == GrantStatus::pending) {
          c->activation = std::make_unique<Activation>();
          begin_activation(txn, c->grant, token, *c->activation, /*extend_lease=*/false);
        } else {
          c->ending = std::make_unique<Ending>();
          begin_ending(txn, c->grant, token, *c->ending);
        }
      }
    }
    return out;
  });
}

Result<std::vector<Claimed>> GrantEngine::Impl::claim_batch(const std::string& token) {
  auto batch = claim(token, opt.claim_batch, true);
  if (batch.ok() || batch.error().code == ErrorCode::database_unavailable) return batch;
  log_error("deciding a batch of activations failed; claiming without", batch.error());
  return claim(token, opt.claim_batch, false);
}

// Hands a claimed row back: due now (stop) or after a short pause (the database refused something).
void GrantEngine::Impl::release(const GrantRecord& g, const std::string& token, bool due_now) {
  auto released = db.with_transaction([&](pqxx::work& txn) {
    sql::exec(txn,
              "UPDATE grants SET lease_owner = NULL, lease_until = NULL, next_attempt_at = " + sql::after_ms(3) +
                  " WHERE id = $1::uuid AND lease_owner = $2",
              g.id, token, static_cast<long long>(due_now ? 0 : opt.backoff.initial.count()));
    // A call this claim made may have been interrupted: let the next attempt take the access over now.
    sql::exec(txn, "UPDATE accesses SET op_until = now() WHERE access_key = $1 AND op_owner = $2", g.access_key, token);
  });
  if (!released.ok()) log_error("could not release grant " + g.id, released.error());
}

void GrantEngine::Impl::release_unstarted(const GrantRecord& g, const std::string& token, const Activation& b) {
  auto released = db.with_transaction([&](pqxx::work& txn) {
    sql::exec(txn,
              "UPDATE grants SET lease_owner = NULL, lease_until = NULL, next_attempt_at = now() "
              "WHERE id = $1::uuid AND lease_owner = $2",
              g.id, token);
    if (b.fresh_access) {  // no call was made: the access is exactly as unused as before
      sql::exec(txn,
                "UPDATE accesses SET status = 'none', handler_id = NULL, kind = NULL, provider_grant_id = NULL, "
                "op_owner = NULL, op_until = NULL, op_grant_id = NULL, updated_at = now() "
                "WHERE access_key = $1 AND status = 'granting' AND op_owner = $2",
                g.access_key, token);
    } else {  // it was in doubt before: leave it in doubt, free to be taken over
      sql::exec(txn, "UPDATE accesses SET op_until = now() WHERE access_key = $1 AND op_owner = $2", g.access_key,
                token);
    }
  });
  if (!released.ok()) log_error("could not release grant " + g.id, released.error());
}

void GrantEngine::Impl::process(Claimed& c, const std::string& token) {
  const GrantRecord& g = c.grant;
  try {
    switch (g.status) {
      case GrantStatus::pending:
        if (c.activation)
          run_activation(g, token, *c.activation);
        else
          activate(g, token);
        break;
      case GrantStatus::active:
        if (c.ending)
          run_ending(g, token, *c.ending);
        else
          end_active(g, token);
        break;
      case GrantStatus::revoking:
        continue_revoking(g, token);
        break;
      default:
        release(g, token, true);
        break;
    }
  } catch (const std::exception& e) {
    log_error("processing grant " + g.id + " failed", make_error(ErrorCode::internal_error, e.what()));
    release(g, token, false);
  }
}

std::size_t GrantEngine::Impl::process_batch(std::vector<Claimed>& batch, const std::string& token, bool honour_stop) {
  std::size_t done = 0;
  for (auto& c : batch) {
    if (honour_stop && stop_requested()) {
      // Decisions made in the claim are committed: report them, and hand back what still needs a call.
      if (c.activation && c.activation->transition) notify(*c.activation->transition);
      if (c.ending && c.ending->transition) notify(*c.ending->transition);
      if (c.activation) {
        if (c.activation->next == Activation::Next::call) release_unstarted(c.grant, token, *c.activation);
      } else if (c.ending) {
        if (c.ending->revoke_access) release(c.grant, token, true);  // resumed as a revoking grant
      } else {
        release(c.grant, token, true);
      }
      continue;
    }
    process(c, token);
    ++done;
  }
  return done;
}

void GrantEngine::Impl::worker_loop() {
  while (!stop_requested()) {
    const std::string token = new_token();
    auto batch = claim_batch(token);
    std::size_t claimed = 0;
    if (batch.ok()) {
      claimed = batch->size();
      process_batch(*batch, token, true);
    } else {
      log_error("claiming due grants failed", batch.error());
    }
    if (stop_requested()) break;
    // Compensating Revokes owed after unknown Grant outcomes (compensations.cpp), under their own claim.
    const std::size_t compensations = run_compensations(new_token(), true);
    if (claimed >= opt.claim_batch || compensations >= opt.claim_batch) continue;  // more may be due: no pause
    std::unique_lock lock(wake_mutex);
    wake_cv.wait_for(lock, opt.poll_interval, [&] { return stopping || wake_flag; });
    wake_flag = false;
  }
}

// ---------------------------------------------------------------------------------------------
// GrantEngine
// ---------------------------------------------------------------------------------------------

GrantEngine::GrantEngine(store::Database& db, ControlPlaneView& control_plane, GrantEngineOptions options)
    : impl_(std::make_unique<Impl>(db, control_plane, std::move(options))) {}

GrantEngine::~GrantEngine() { stop(); }

const std::string& GrantEngine::engine_id() const { return impl_->opt.engine_id; }

void GrantEngine::start() {
  std::lock_guard lock(impl_->wake_mutex);
  if (!impl_->workers.empty()) return;
  impl_->stopping = false;
  if (!impl_->recovered.exchange(true)) {
    if (auto r = impl_->recover(); !r.ok()) {
      impl_->log_error("releasing the leases of an earlier run failed (they expire on their own)", r.error());
      impl_->recovered = false;
    }
  }
  for (std::size_t i = 0; i < impl_->opt.workers; ++i) impl_->workers.emplace_back([this] { impl_->worker_loop(); });
}

void GrantEngine::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(impl_->wake_mutex);
    impl_->stopping = true;
    workers.swap(impl_->workers);
  }
  impl_->wake_cv.notify_all();
  for (auto& t : workers) t.join();
}

void GrantEngine::wake() { impl_->wake_all(); }

Result<std::size_t> GrantEngine::run_once() {
  if (!impl_->recovered.exchange(true)) {
    if (auto r = impl_->recover(); !r.ok()) {
      impl_->recovered = false;
      return r.take_error();
    }
  }
  std::size_t total = 0;
  while (true) {
    const std::string token = impl_->new_token();
    auto batch = impl_->claim_batch(token);
    if (!batch.ok()) return batch.take_error();
    total += impl_->process_batch(*batch, token, false);
    const std::size_t compensations = impl_->run_compensations(impl_->new_token(), false);
    total += compensations;
    if (batch->empty() && compensations == 0) return total;
  }
}

Result<std::size_t> GrantEngine::routing_changed() {
  auto woken = impl_->db.with_transaction([](pqxx::work& txn) -> std::size_t {
    const auto r = txn.exec(
        "UPDATE grants SET next_attempt_at = now() WHERE id IN (SELECT id FROM grants WHERE status = 'pending' "
        "AND lease_owner IS NULL AND next_attempt_at > now() AND not_before <= now() FOR UPDATE SKIP LOCKED)");
    return static_cast<std::size_t>(r.affected_rows());
  });
  // Revokes owed to a handler whose health just turned good are retried now, not at their next backoff step.
  auto revokes = impl_->wake_revokes_of_recovered();
  if (!revokes.ok()) impl_->log_error("waking the revokes of recovered handlers", revokes.error());
  impl_->wake_all();
  if (woken.ok() && revokes.ok()) return *woken + *revokes;
  return woken;
}

Result<void> check_idempotency_key(std::string_view key) {
  if (key.empty()) return make_error(ErrorCode::invalid_argument, "the Idempotency-Key header is empty");
  if (key.size() > 255)
    return make_error(ErrorCode::invalid_argument, "the Idempotency-Key header is " + std::to_string(key.size()) +
                                              " bytes long; at most 255 are allowed");
  for (unsigned char c : key)
    if (c < 0x20 || c > 0x7e)
      return make_error(ErrorCode::invalid_argument,
                        "the Idempotency-Key header must be printable ASCII (0x20-0x7E); it holds byte 0x" +
                            std::string(1, "0123456789abcdef"[c >> 4]) + std::string(1, "0123456789abcdef"[c & 15]));
  return {};
}

namespace {

std::string actor_of(const GrantRequestSpec& spec) { return spec.actor.empty() ? "anonymous" : spec.actor; }

long long not_before_us(const GrantRequestSpec& spec) {
  using std::chrono::microseconds;
  return spec.not_before ? std::chrono::duration_cast<microseconds>(spec.not_before->time_since_epoch()).count() : -1;
}

// What an Idempotency-Key stands for when the caller does not say (see GrantRequestSpec::fingerprint).
std::string fingerprint_of(const GrantRequestSpec& spec) {
  if (!spec.fingerprint.empty()) return spec.fingerprint;
  return nlohmann::json{{"subject", spec.subject},
                        {"target_group", spec.target_group},
                        {"target", spec.target},
                        {"duration_seconds", spec.duration.count()},
                        {"not_before_us", not_before_us(spec)}}
      .dump();
}

Error idempotency_conflict(const std::string& key, const std::string& actor, const std::string& grant_id) {
  return make_error(ErrorCode::idempotency_conflict, "Idempotency-Key '" + key + "' was already used by '" + actor +
                                                "' for a different request (grant " + grant_id +
                                                "); send a new key for a new request");
}

// The grant `actor` created with `key`, and whether it was created for `fingerprint`.
std::optional<std::pair<GrantRecord, bool>> lookup_key(pqxx::work& txn, const std::string& actor,
                                                       const std::string& key, const std::string& fingerprint) {
  static const std::string statement = "SELECT " + sql::grant_columns() +
                                       ", request_hash = encode(sha256(convert_to($3, 'UTF8')), 'hex') "
                                       "FROM grants WHERE created_by = $1 AND idempotency_key = $2";
  const auto rows = sql::exec(txn, statement, actor, key, fingerprint);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  return std::pair{sql::read_grant(row), row[static_cast<pqxx::row::size_type>(row.size() - 1)].as<bool>()};
}

}  // namespace

Result<std::optional<GrantRecord>> GrantEngine::find_idempotent(const GrantRequestSpec& spec) const {
  if (spec.idempotency_key.empty()) return std::optional<GrantRecord>();
  if (auto valid = check_idempotency_key(spec.idempotency_key); !valid) return valid.take_error();
  const std::string actor = actor_of(spec);
  const std::string fingerprint = fingerprint_of(spec);
  return impl_->db.with_transaction([&](pqxx::work& txn) -> Result<std::optional<GrantRecord>> {
    auto found = lookup_key(txn, actor, spec.idempotency_key, fingerprint);
    if (!found) return std::optional<GrantRecord>();
    if (!found->second) return idempotency_conflict(spec.idempotency_key, actor, found->first.id);
    return std::optional<GrantRecord>(std::move(found->first));
  });
}

Result<GrantRecord> GrantEngine::request(const GrantRequestSpec& spec) {
  auto outcome = request_idempotent(spec);
  if (!outcome) return outcome.take_error();
  return std::move(outcome->grant);
}

Result<RequestOutcome> GrantEngine::request_idempotent(const GrantRequestSpec& spec,
                                                       const GrantBeforeCommit& before_commit) {
  if (!spec.idempotency_key.empty()) {
    auto earlier = find_idempotent(spec);
    if (!earlier) return earlier.take_error();
    if (*earlier) return RequestOutcome{std::move(**earlier), true};
  }
  const auto group = impl_->view.target_group(spec.target_group);
  if (!group) {
    return make_error(ErrorCode::not_found, "target group '" + spec.target_group + "' does not exist",
                      {{"/target_group", "does not exist"}});
  }
  if (auto valid = validate_grant_request(*group, spec); !valid.ok()) return valid.take_error();

  const std::string actor = actor_of(spec);
  const std::string fingerprint = spec.idempotency_key.empty() ? std::string() : fingerprint_of(spec);
  const std::string material = access_key_material(spec.target_group, spec.subject, spec.target);
  const std::string reason = "requested by " + actor + (spec.request_note.empty() ? "" : "; " + spec.request_note);
  // The grant and its first history row in one statement (one round trip). With a key, a concurrent request
  // that stored the same key first makes the INSERT do nothing (after waiting for that commit): no row.
  static const std::string statement =
      "WITH start AS (SELECT CASE WHEN $5::bigint < 0 THEN now() "
      "ELSE timestamptz 'epoch' + $5::bigint * interval '1 microsecond' END AS at), "
      "g AS (INSERT INTO grants (subject, target_group_id, target, access_key, status, not_before, duration_seconds, "
      "next_attempt_at, created_by, idempotency_key, request_hash) SELECT $1, $2, $3::jsonb, "
      "encode(sha256(convert_to($4, 'UTF8')), 'hex'), 'pending', start.at, $6, start.at, $7, NULLIF($10, ''), "
      "CASE WHEN $10 = '' THEN NULL ELSE encode(sha256(convert_to($11, 'UTF8')), 'hex') END FROM start "
      "ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING *), "
      "h AS (INSERT INTO grant_history (grant_id, from_status, to_status, reason, engine) "
      "SELECT id, NULL, 'pending', $8, $9 FROM g) "
      "SELECT " +
      sql::grant_columns() + " FROM g";
  auto stored = impl_->db.with_transaction([&](pqxx::work& txn) -> Result<RequestOutcome> {
    const auto rows = sql::exec(txn, statement, spec.subject, spec.target_group, canonical_target_json(spec.target),
                                material, not_before_us(spec), static_cast<long long>(spec.duration.count()), actor,
                                reason, impl_->opt.engine_id, spec.idempotency_key, fingerprint);
    if (!rows.empty()) {
      RequestOutcome created{sql::read_grant(rows[0]), false};
      if (before_commit) before_commit(txn, created.grant);
      return created;
    }
    // Lost the race to a concurrent request with the same key, now committed: its grant is the answer.
    auto found = lookup_key(txn, actor, spec.idempotency_key, fingerprint);
    if (!found) return make_error(ErrorCode::internal_error, "Idempotency-Key '" + spec.idempotency_key +
                                                         "' conflicted, but no grant holds it");
    if (!found->second) return idempotency_conflict(spec.idempotency_key, actor, found->first.id);
    return RequestOutcome{std::move(found->first), true};
  });
  if (!stored.ok()) {
    if (store::sqlstate_of(stored.error()) == "23503")  // the group is not in the database
      return make_error(ErrorCode::not_found, "target group '" + spec.target_group + "' does not exist in the database",
                        {{"/target_group", "does not exist"}});
    return stored;
  }
  if (stored->replayed) return stored;
  const GrantRecord& g = stored->grant;
  impl_->notify(Transition{g.id, g.subject, g.target_group, std::nullopt, GrantStatus::pending, reason, "",
                           impl_->opt.engine_id});
  impl_->wake_all();
  return stored;
}

Result<GrantRecord> GrantEngine::revoke(std::string_view id_view, std::string_view actor_view,
                                        std::string_view reason_view, const GrantBeforeCommit& before_commit) {
  const std::string id(id_view);
  if (!looks_like_uuid(id)) return grant_not_found(id);
  const std::string actor = actor_view.empty() ? "anonymous" : std::string(actor_view);
  const std::string why = "revoked by " + actor + (reason_view.empty() ? "" : ": " + std::string(reason_view));
  std::optional<Transition> transition;
  auto done = impl_->db.with_transaction([&](pqxx::work& txn) -> Result<GrantRecord> {
    const auto locked = sql::exec(
        txn, "SELECT status, access_key, subject, target_group_id FROM grants WHERE id = $1::uuid FOR UPDATE", id);
    if (locked.empty()) return grant_not_found(id);
    const auto status = parse_grant_status(locked[0][0].c_str()).value_or(GrantStatus::failed);
    const std::string key = locked[0][1].c_str();
    if (status == GrantStatus::pending) {
      const auto access = sql::exec(txn, "SELECT status, op_grant_id::text FROM accesses WHERE access_key = $1", key);
      const bool grant_in_flight = !access.empty() && text(access[0][0]) == "granting" && text(access[0][1]) == id;
      if (!grant_in_flight) {
        sql::exec(
            txn,
            "UPDATE grants SET status = 'revoked', end_requested = true, revoke_requested_at = now(), "
            "revoke_requested_by = $2, end_reason = $3, ended_at = now(), lease_owner = NULL, lease_until = NULL, "
            "updated_at = now() WHERE id = $1::uuid",
            id, actor, why);
        const std::string reason = "cancelled before activation: " + why;
        impl_->add_history(txn, id, GrantStatus::pending, GrantStatus::revoked, reason, "");
        transition =
            Transition{id, text(locked[0][2]),  text(locked[0][3]), GrantStatus::pending, GrantStatus::revoked, reason,
                       "", impl_->opt.engine_id};
      } else {
        // A Grant for it may be in flight: the worker settles that call, then revokes what it gave.
        sql::exec(txn,
                  "UPDATE grants SET end_requested = true, revoke_requested_at = now(), revoke_requested_by = $2, "
                  "end_reason = $3, updated_at = now() WHERE id = $1::uuid AND NOT end_requested",
                  id, actor, why);
        impl_->add_history(txn, id, status, status, why + " (while a Grant was in flight: revoked once it settles)",
                           "");
      }
    } else if (status == GrantStatus::active) {
      const auto r = sql::exec(
          txn,
          "UPDATE grants SET end_requested = true, revoke_requested_at = now(), revoke_requested_by = $2, "
          "end_reason = $3, next_attempt_at = CASE WHEN lease_owner IS NULL OR lease_until <= now() THEN now() "
          "ELSE next_attempt_at END, updated_at = now() WHERE id = $1::uuid AND NOT end_requested",
          id, actor, why);
      if (r.affected_rows() > 0) impl_->add_history(txn, id, status, status, why, "");
    }
    const auto rows = sql::exec(txn, "SELECT " + sql::grant_columns() + " FROM grants WHERE id = $1::uuid", id);
    GrantRecord revoked = sql::read_grant(rows[0]);
    if (before_commit) before_commit(txn, revoked);
    return revoked;
  });
  if (done.ok()) {
    if (transition) impl_->notify(*transition);
    impl_->wake_all();
  }
  return done;
}

Result<GrantRecord> GrantEngine::get(std::string_view id_view) const {
  const std::string id(id_view);
  if (!looks_like_uuid(id)) return grant_not_found(id);
  return impl_->db.with_transaction([&](pqxx::work& txn) -> Result<GrantRecord> {
    const auto rows = sql::exec(txn, "SELECT " + sql::grant_columns() + " FROM grants WHERE id = $1::uuid", id);
    if (rows.empty()) return grant_not_found(id);
    return sql::read_grant(rows[0]);
  });
}

Result<std::vector<GrantRecord>> GrantEngine::list(const GrantFilter& filter) const {
  if (filter.after && (!looks_like_uuid(filter.after->id) || filter.after->requested_at_us < 0))
    return make_error(ErrorCode::invalid_argument, "the list cursor does not name a grant");
  return impl_->db.with_transaction([&](pqxx::work& txn) {
    // Keyset paging: the row comparison walks grants_requested_idx backwards from the cursor (no OFFSET).
    static const std::string statement =
        "SELECT " + sql::grant_columns() +
        " FROM grants WHERE ($1 = '' OR status = $1) AND ($2 = '' OR subject = $2) "
        "AND ($3 = '' OR target_group_id = $3) AND (NOT $7 OR revoke_failing) "
        "AND ($5::bigint < 0 OR (requested_at, id) < "
        "(timestamptz 'epoch' + $5::bigint * interval '1 microsecond', $6::uuid)) "
        "ORDER BY requested_at DESC, id DESC LIMIT $4";
    const bool after = filter.after.has_value();
    const auto rows =
        sql::exec(txn, statement, filter.status ? std::string(to_string(*filter.status)) : std::string(),
                  filter.subject.value_or(""), filter.target_group.value_or(""), static_cast<long long>(filter.limit),
                  after ? filter.after->requested_at_us : -1LL,
                  after ? filter.after->id : std::string("00000000-0000-0000-0000-000000000000"),
                  filter.revoke_failing_only);
    std::vector<GrantRecord> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(sql::read_grant(row));
    return out;
  });
}

Result<std::vector<HistoryEntry>> GrantEngine::history(std::string_view id_view) const {
  const std::string id(id_view);
  if (!looks_like_uuid(id)) return grant_not_found(id);
  return impl_->db.with_transaction([&](pqxx::work& txn) -> Result<std::vector<HistoryEntry>> {
    if (sql::exec(txn, "SELECT 1 FROM grants WHERE id = $1::uuid", id).empty()) return grant_not_found(id);
    const auto rows = sql::exec(
        txn,
        "SELECT id, (extract(epoch from at) * 1000000)::bigint, from_status, to_status, reason, handler_id, engine "
        "FROM grant_history WHERE grant_id = $1::uuid ORDER BY id",
        id);
    std::vector<HistoryEntry> out;
    for (const auto& row : rows) {
      HistoryEntry e;
      e.id = row[0].as<long long>();
      e.at = from_us(row[1].as<long long>());
      if (!row[2].is_null()) e.from = parse_grant_status(row[2].c_str());
      e.to = parse_grant_status(row[3].c_str()).value_or(GrantStatus::failed);
      e.reason = text(row[4]);
      e.handler_id = text(row[5]);
      e.engine = text(row[6]);
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace gatehouse::host::grants
