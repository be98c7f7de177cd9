// Internals of GrantEngine shared by grant_engine.cpp (API, workers, queries) and grant_flows.cpp (the
// activation and ending transitions). Not part of the library's interface.
#pragma once

#include "loader/call_pool.hpp"
#include "grants/grant_engine.hpp"
#include "grants/routing_skips.hpp"
#include "loader/provider_calls.hpp"
#include "routing/router.hpp"

#include <atomic>
#include <functional>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace gatehouse::host::grants {

// SQL fragments and row conversion (grant_engine.cpp).
namespace sql {
// Runs `statement` as a prepared statement of the transaction's connection, named after a hash of its text:
// parsed and planned once per connection instead of once per call. Statement texts must therefore be
// constant (values go in parameters), so their number stays small.
template <class... Args>
pqxx::result exec(pqxx::work& txn, const std::string& statement, Args&&... args) {
  const std::string name = "gatehouse_grants_" + std::to_string(std::hash<std::string>{}(statement));
  txn.conn().prepare(name, statement);  // registered lazily, on first use; a no-op when already defined
  return txn.exec_prepared(name, std::forward<Args>(args)...);
}

// The grants columns read_grant() expects, each prefixed with `alias.` when alias is not empty.
std::string grant_columns(const std::string& alias = "");
GrantRecord read_grant(const pqxx::row& row);
// "now() + <ms> milliseconds" with the value inlined as a parameter placeholder $n.
std::string after_ms(int placeholder);

// An access nobody holds any more ($1: access_key): every column of the last holder cleared.
inline constexpr const char* kClearAccessSql =
    "UPDATE accesses SET status = 'none', handler_id = NULL, kind = NULL, provider_grant_id = NULL, "
    "provider_state = NULL, op_owner = NULL, op_until = NULL, op_grant_id = NULL, handler_provider = NULL, "
    "handler_backend = NULL, handler_incarnation = NULL, updated_at = now() WHERE access_key = $1";
}  // namespace sql

// The grant row as a decision transaction locked it (SELECT … FOR UPDATE).
struct LockedGrant {
  GrantStatus status = GrantStatus::pending;
  std::string lease_owner;
  bool end_requested = false;
  std::string end_reason;
  std::string revoke_requested_by;
  int attempts = 0;
  std::string last_error;
  bool ends_due = false;         // ends_at <= now()
  bool deadline_passed = false;  // activation_deadline set and passed
  bool revoke_failing = false;
};

// The access row as a decision transaction locked it.
struct LockedAccess {
  std::string status;  // none, granting, active, revoking
  std::string handler_id;
  std::string kind;
  std::string provider_grant_id;
  std::string state_hex;
  std::string op_owner;
  bool op_live = false;
  long long op_remaining_ms = 0;  // until op_until, 0 when passed
  std::string op_grant_id;
  std::string handler_provider;  // the granting handler's provider and backend when it granted (migration 0007)
  std::string handler_backend;
  std::string handler_incarnation;  // and which creation of that id it was (migration 0011); empty: not recorded
};

// An activation between its decision (committed) and its provider calls.
struct Activation {
  enum class Next { lost, finished, call } next = Next::lost;
  std::optional<Transition> transition;  // to report once the decision is committed
  std::string key;                       // the provider's idempotency key for this access
  std::string doubt;                     // handler of an interrupted earlier call, when not the first candidate
  std::string doubt_kind;
  std::string recorded;       // the handler the access row names now
  bool fresh_access = false;  // the access was 'none' before this decision marked it granting
  std::set<std::string> busy;  // handlers with a compensating Revoke in flight for this key (decision time)
  std::vector<RouteSkip> skips_noted;  // routes passed over that the decision's history row names (metric)
  RoutingView routing;        // keeps the plan's table and health alive
  std::unique_ptr<routing::FailoverPlan> plan;
  std::chrono::steady_clock::time_point claimed_at;  // when the claim (lease) was last renewed
};

// An ending between its decision (committed) and its provider call.
struct Ending {
  std::optional<Transition> transition;       // to report once the decision is committed
  std::optional<LockedAccess> revoke_access;  // set when the provider's Revoke must be called
  std::chrono::steady_clock::time_point decided_at;
};

// A Revoke owed to a handler whose Grant had an unknown outcome (table grant_compensations), not yet recorded.
struct OwedRevoke {
  std::string handler;
  std::string kind;  // the route kind the Grant was sent with
  std::string reason;
};

// A claimed row of grant_compensations (compensations.cpp).
struct ClaimedCompensation {
  long long id = 0;
  std::string access_key;
  std::string handler;
  std::string kind;
  std::string key;
  std::string grant_id;
  int attempts = 0;
  std::string last_error;
  std::string incarnation;  // of the handler when the Revoke was owed; empty: not recorded
};

// A claimed row; pending and active ones claimed by the worker loop come with their decision already made.
struct Claimed {
  GrantRecord grant;
  std::unique_ptr<Activation> activation;
  std::unique_ptr<Ending> ending;
};

struct GrantEngine::Impl {
  Impl(store::Database& db, ControlPlaneView& view, GrantEngineOptions options);

  store::Database& db;
  ControlPlaneView& view;
  GrantEngineOptions opt;
  std::string nonce;  // distinguishes this run of the engine id from earlier ones (restarts)
  std::atomic<std::uint64_t> claim_seq{0};
  std::atomic<bool> recovered{false};

  std::mutex wake_mutex;
  std::condition_variable wake_cv;
  bool wake_flag = false;
  bool stopping = false;
  std::vector<std::thread> workers;

  // (handler \x1f idempotency key) of calls abandoned at their deadline and still running.
  std::mutex abandoned_mutex;
  std::set<std::string> abandoned;

  // revoke_actions.cpp: when the last "revoke failing" warning of a grant was logged (at most one a minute),
  // and which handlers were healthy at the last routing_changed() (owed revokes are woken when one turns good).
  std::mutex revoke_warn_mutex;
  std::map<std::string, std::chrono::steady_clock::time_point> revoke_warned;
  std::mutex healthy_mutex;
  std::set<std::string> last_healthy;

  // ---- grant_engine.cpp ----
  std::string new_token();
  Result<void> recover();
  // Claims up to `limit` due rows. with_decisions: pending and active rows also get their activation / ending
  // decided in the claim's transaction (one commit for the batch instead of one per grant), in access-key
  // order so that concurrent claims lock accesses in the same order.
  Result<std::vector<Claimed>> claim(const std::string& token, std::size_t limit, bool with_decisions);
  // claim() with decisions, falling back to a plain claim when deciding failed (one bad row must not block
  // its batch).
  Result<std::vector<Claimed>> claim_batch(const std::string& token);
  void process(Claimed& c, const std::string& token);
  void release(const GrantRecord& g, const std::string& token, bool due_now);
  // Hands back a row whose activation was decided but whose provider call never started (stop()).
  void release_unstarted(const GrantRecord& g, const std::string& token, const Activation& b);
  std::size_t process_batch(std::vector<Claimed>& batch, const std::string& token, bool honour_stop);
  void worker_loop();
  void notify(const Transition& t) const;
  void wake_all();
  bool stop_requested();

  // ---- grant_flows.cpp ----
  void activate(const GrantRecord& g, const std::string& token);
  void begin_activation(pqxx::work& txn, const GrantRecord& g, const std::string& token, Activation& b,
                        bool extend_lease);
  void run_activation(const GrantRecord& g, const std::string& token, Activation& b);
  void end_active(const GrantRecord& g, const std::string& token);
  void begin_ending(pqxx::work& txn, const GrantRecord& g, const std::string& token, Ending& e);
  void run_ending(const GrantRecord& g, const std::string& token, Ending& e);
  void continue_revoking(const GrantRecord& g, const std::string& token);

  void do_revoke(const GrantRecord& g, const std::string& token, const LockedAccess& access);
  // Logs a warning for a failed revoke attempt, at most once a minute per grant; forget_revoke_warning() when
  // the revoke went through (revoke_actions.cpp).
  void warn_revoke_failure(const GrantRecord& g, const std::string& handler, const std::string& failure);
  void forget_revoke_warning(const std::string& grant_id);
  // Owed revokes (grants revoking, compensations) of handlers that turned healthy since the last call: due now.
  Result<std::size_t> wake_revokes_of_recovered();
  // The admin paths of revoke() (revoke_actions.cpp), inside the caller's transaction on the locked grant.
  Result<void> force_close(pqxx::work& txn, const std::string& id, const std::string& actor, const std::string& reason,
                           std::optional<Transition>& transition);
  Result<void> repoint(pqxx::work& txn, const std::string& id, const std::string& actor, const std::string& reason,
                       const std::string& handler);
  Result<void> reattempt(pqxx::work& txn, const std::string& id, const std::string& actor, const std::string& reason,
                         const std::string& handler, std::optional<Transition>& transition);

  // Helpers inside a transaction.
  // nullopt when the grant is gone or the claim is no longer `token`'s. extend_lease: the lock is an UPDATE
  // that also renews the claim (before a provider call).
  std::optional<LockedGrant> lock_grant(pqxx::work& txn, const std::string& id, const std::string& token,
                                        bool extend_lease = false) const;
  std::optional<LockedAccess> lock_access(pqxx::work& txn, const std::string& key) const;
  LockedAccess upsert_access(pqxx::work& txn, const GrantRecord& g) const;  // creates it ('none') when missing
  void add_history(pqxx::work& txn, const std::string& id, std::optional<GrantStatus> from, GrantStatus to,
                   const std::string& reason, const std::string& handler) const;
  // Whether the handler the access names is still the one that granted it: it exists, and it is the same
  // creation of that id running the same provider (a handler deleted and created again never held it).
  bool granting_handler_present(const LockedAccess& access) const;
  // Renews this claim's grant lease and its hold on the access (op_until) for another lease before a Revoke
  // call; false when the grant is no longer this claim's (taken over, force-closed): call nothing then.
  Result<bool> renew_revoke_claim(const GrantRecord& g, const std::string& token);
  // A note (status → status) with what the provider said, when it said anything.
  void add_provider_note(pqxx::work& txn, const std::string& id, GrantStatus status, const std::string& handler,
                         const std::string& message) const;
  void wake_waiting(pqxx::work& txn, const std::string& access_key, const std::string& except_id) const;

  // ---- compensations.cpp ----
  // Records that a Revoke with `key` is owed to `handler` (no-op when one is already open for both).
  void owe_revoke(pqxx::work& txn, const GrantRecord& g, const std::string& key, const OwedRevoke& owed) const;
  // Handlers with a compensating Revoke in flight (claimed, lease live) for this access and key.
  std::set<std::string> revokes_in_flight(pqxx::work& txn, const std::string& access_key,
                                          const std::string& key) const;
  Result<std::vector<ClaimedCompensation>> claim_compensations(const std::string& token, std::size_t limit);
  void process_compensation(const ClaimedCompensation& c, const std::string& token);
  void release_compensation(const ClaimedCompensation& c, const std::string& token);
  // Claims and processes due compensations; returns how many were claimed.
  std::size_t run_compensations(const std::string& token, bool honour_stop);

  bool is_abandoned(const std::string& handler, const std::string& key);
  void note(const std::string& grant_id, const std::string& reason, const std::string& handler);
  void late_grant_result(const GrantRecord& g, const std::string& token, const std::string& handler,
                         const std::string& key, Result<pb::Response> result);
  void log_error(const std::string& what, const Error& error) const;

  // Destroyed first (declared last): waits for abandoned calls, whose callbacks use the members above.
  CallPool pool;
};

// The kind sent to the provider for a route kind (see grant_engine.hpp CHOICES).
std::string provider_kind(std::string_view route_kind);

// Provider requests (grant_flows.cpp). Revoke goes through invoke(), not the typed revoke(): the status tells
// already_revoked apart.
pb::RevokeRequest revoke_request(const GrantRecord& g, const std::string& key, const std::string& route_kind,
                                 const std::string& state);
Result<pb::Response> call_revoke(ProviderClient& client, const pb::RevokeRequest& in, const std::string& handler,
                                 CallDeadline deadline);
// A Grant error that does not say whether the provider acted (the runner died or was killed mid-call).
bool unknown_outcome(const Error& e);

}  // namespace gatehouse::host::grants
