// The grant engine: the durable lifecycle of access grants on PostgreSQL (tables of migration 0002_grants).
//
// LIFECYCLE (docs/architecture.md "Flows"; tests in tests/grants/)
//   request()   validates against the target group (kind schema, per-group maximum duration) and stores the
//               grant as pending, due at not_before.
//   activation  A worker claims the due grant and looks at its *access* (one row per target group + subject
//               + target, shared by overlapping grants, locked FOR UPDATE in every decision):
//                 access active                → the grant joins it: active at once, no provider call;
//                 access being granted/revoked → the grant waits (it is woken when that call finishes);
//                 no access                    → the access is marked "granting" (committed), then the provider's
//                                                Grant is called with the grant id as idempotency key on the
//                                                routing candidates in order (routing::FailoverPlan), and the
//                                                access and the grant become active in one transaction with the
//                                                provider's state. ends_at = activated_at + duration: time spent
//                                                pending never shortens access.
//               Retryable failures and timeouts fail over to the next candidate; a non-retryable one fails the
//               grant at once with the provider's message; no candidate left → the grant stays pending and is
//               retried with backoff (its reason goes to the history once per distinct reason).
//               already_exists counts as success.
//   compensation A Grant failing with an *unknown outcome* (transport_failed: the runner died mid-call;
//               deadline_exceeded reported by the runner: it was killed at the deadline) may have left access at
//               that handler. The transaction that moves on (names the next candidate, or gives up for now)
//               also records a row in grant_compensations (migration 0006): a Revoke owed to that handler with
//               the same idempotency key and kind and an empty state. Workers claim due rows (FOR UPDATE SKIP
//               LOCKED, leased like grants) next to grants and send it whatever the handler's health, retrying
//               with `backoff` while it has no instance or fails (at once when it turns healthy); already_revoked and not_found
//               count as done; a deleted handler abandons it. A row whose handler holds the access with that
//               key (the retried Grant landed there) is not needed and never sent; a Grant and a compensating
//               Revoke with one key never go to one handler at once (both decide under the access lock, and
//               a handler with a Revoke in flight is skipped like a failed candidate). Each row done or
//               abandoned leaves a note on the grant ("compensating Revoke on handler 'x' after an unknown
//               Grant outcome: succeeded"). The best-effort Revokes below (crash doubt, late success) become
//               such rows when they are not confirmed.
//   ending      At ends_at (or at once after an early revoke()), if another active grant covers the same
//               access the grant ends without a provider call ("access still covered by grant <id>").
//               Otherwise access and grant become "revoking" (committed), Revoke goes to the handler that
//               granted — whatever its health — or a handler declared to manage the same backend
//               (routing::revoke_targets; never another backend: its "already revoked" is no evidence) with the
//               state Grant returned, then the access is gone and the grant expired / revoked. A failing revoke
//               is retried forever with backoff (capped at 30 s, at once when the handler turns healthy); it is
//               flagged revoke_failing at once when no handler that may confirm is healthy or exists, else after
//               `revoke_failing_after` consecutive failures (cleared when the revoke succeeds). A deleted
//               granting handler leaves the grant revoke_failing until an admin re-points or force-closes it
//               (revoke() with RevokeOptions: access_may_persist). A new grant of the same access waits while a revoke is in progress.
//
// CRASH SAFETY AND REPLICAS
//   Every transition is one transaction: a conditional UPDATE (status and lease owner must still be what the
//   worker claimed) plus its grant_history row. Workers claim due rows with FOR UPDATE SKIP LOCKED and hold a
//   lease (lease_owner = "<engine id>/<boot nonce>/<claim>", lease_until); a transition that updates no row
//   lost its claim and is abandoned. Expired leases make rows due again, so work of a killed engine is
//   resumed by any engine; an engine restarted under the same engine_id releases its predecessor's leases at
//   start() at once. A provider call interrupted by a crash leaves its access "granting"/"revoking" with the
//   handler and idempotency key it was sent with: the next engine repeats the call with the same key (a
//   Grant on another handler first sends a compensating Revoke to the one in doubt, recorded as owed in
//   grant_compensations when it is not confirmed). Owed compensations survive restarts: any engine sends them.
//   Engine ids must be unique among live engines sharing a database (default: the host name) and must not
//   contain '/'.
//
// COST: a worker claims up to `claim_batch` due rows in one transaction and decides the activation of the
//   pending ones in that same transaction (accesses locked in access-key order, so concurrent claims never
//   deadlock); a grant then costs two commits of its own (request, activation) plus its share of the batch's
//   decision commit (the "granting" mark that must be durable before the provider call), statements are
//   prepared once per connection, and provider calls of a batch run one after another (a row whose claim
//   aged past lease/3 renews it before its call). Each worker round also claims due compensations (one
//   cheap indexed query when there are none), and an activation decision reads the compensations in flight
//   for its access (indexed, usually none). Give the Database at least workers + 2 connections.
//
// PROVIDER CALLS run on a pool with `call_timeout`; a timed-out call counts as deadline_exceeded (retryable)
//   and is reported to the control plane. An in-process call cannot be interrupted: it keeps running, no
//   other call for the same handler and key is made until it returns, and if it returns a late Grant success
//   on a handler that no longer holds the access, the engine revokes it there and notes that in the history
//   (owed durably if that Revoke fails). In isolation mode the runner is killed instead and nothing comes
//   back late: the runner reports the unknown outcome and a compensation is recorded (see compensation).
//   Destroying the engine waits for such calls.
//
// CHOICES
//   * No activation deadline by default: a grant stays pending until a handler can serve it or it is revoked
//     (`activation_deadline` fails it after that long past not_before instead).
//   * The kind sent to a provider is the route kind's last '/'-separated segment ("gatehouse/demo/ProjectRole"
//     and "ProjectRole" both send "ProjectRole"); a revoke is sent with the kind the Grant used.
//   * The engine does not run migrations: call store::migrate() first.
//
// THREADS: every public member may be called from any thread. `db` and `control_plane` must outlive the engine.
#pragma once

#include "common/result.hpp"
#include "grants/control_plane_view.hpp"
#include "grants/grant_types.hpp"
#include "store/database.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::host::grants {

// A value, shared read-only by the engine's workers: delay() may be called from any thread (its jitter comes
// from a thread-local generator).
struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};  // after the first failure
  // Cap of the doubling: 30 s, so an owed revoke is never more than 30 s from its next attempt (and it is
  // woken at once when its handler turns healthy: routing_changed()). Documented in docs/api.md "Revokes".
  std::chrono::milliseconds max{30'000};
  double jitter = 0.2;                      // ± this fraction, so replicas do not retry in lockstep

  // The delay after `failures` consecutive failures (1 = the first).
  std::chrono::milliseconds delay(int failures) const;
};

struct GrantEngineOptions {
  std::string engine_id;  // unique among live engines on one database; default: the host name
  std::size_t workers = 4;
  std::chrono::milliseconds poll_interval{200};  // how often idle workers look for due rows
  std::chrono::milliseconds lease{30'000};       // raised to 2 × call_timeout + 1 s when shorter
  std::chrono::milliseconds call_timeout{10'000};
  BackoffPolicy backoff;
  int revoke_failing_after = 5;                             // consecutive revoke failures before the grant is flagged
  std::size_t claim_batch = 8;                              // rows a worker claims at once
  std::optional<std::chrono::seconds> activation_deadline;  // see CHOICES above
  // Called after each committed transition (not notes), on the engine's threads; must not throw or block long.
  std::function<void(const Transition&)> on_transition;
  // Called when a Grant call failed in a retryable way (or timed out) and the router moves on to the next
  // candidate (a failover), with the handler that failed. Same threading rules as on_transition.
  std::function<void(const std::string& handler, const Error& error)> on_failover;
  // Called once for each route a routing decision passed over that the grant's history names (routing_skips.hpp;
  // reason "unhealthy", "disabled" or "invalid"). Same threading rules as on_transition.
  std::function<void(const std::string& handler, const std::string& reason)> on_routing_skip;
};

// What a caller adds to the transaction that stores a request or a revoke (the API's audit row, issue 14 item
// 2), with the grant as that transaction leaves it. Runs only when the call stores something (not for a
// replayed Idempotency-Key or a refusal); if it throws, nothing is stored.
using GrantBeforeCommit = std::function<void(pqxx::work&, const GrantRecord&)>;

// The rule for Idempotency-Key values: 1–255 bytes of printable ASCII (0x20–0x7E). Error invalid_argument.
Result<void> check_idempotency_key(std::string_view key);

class GrantEngine {
 public:
  GrantEngine(store::Database& db, ControlPlaneView& control_plane, GrantEngineOptions options = {});
  ~GrantEngine();  // stop(), then waits for abandoned provider calls
  GrantEngine(const GrantEngine&) = delete;
  GrantEngine& operator=(const GrantEngine&) = delete;

  // Stores a new pending grant. Errors: not_found (no such target group, path "/target_group"),
  // invalid_argument (validate_grant_request), database_*.
  Result<GrantRecord> request(const GrantRequestSpec& spec);

  // IDEMPOTENCY (item 6 of issue 13): request() for a spec that may carry an idempotency_key. A key already used
  // by spec.actor with the same fingerprint returns that grant (replayed = true) whatever its state, before any
  // validation (a retry must not fail because a limit changed meanwhile); with another fingerprint the answer is
  // idempotency_conflict naming the key and the grant. The key is stored on the grant row in the INSERT that
  // creates it, under a unique index on (created_by, idempotency_key): of concurrent retries one inserts, the
  // others wait for its commit and then find its grant. Errors as request(), plus invalid_argument for a key
  // that is empty, longer than 255 bytes or not printable ASCII.
  Result<RequestOutcome> request_idempotent(const GrantRequestSpec& spec, const GrantBeforeCommit& before_commit = {});
  // Only the lookup of request_idempotent(): the grant spec.actor created with spec.idempotency_key, nullopt when
  // none (or the spec has no key), idempotency_conflict when it was created for another fingerprint.
  Result<std::optional<GrantRecord>> find_idempotent(const GrantRequestSpec& spec) const;

  // Early revoke. Pending: cancelled (→ revoked) without a provider call, unless a Grant for it may be in
  // flight: then it is revoked as soon as that call settles. Active: ends now (see ending). Revoking or
  // ended: unchanged (idempotent). Errors: not_found, database_*.
  Result<GrantRecord> revoke(std::string_view id, std::string_view actor, std::string_view reason,
                             const GrantBeforeCommit& before_commit = {});
  // The same with the admin's options, and the paths of the revoke rule (revoke_actions.cpp):
  //   revoking grant            → retried now (or re-pointed to options.handler, which must run the same
  //                               provider and declare the same non-empty backend as the granting handler);
  //   force (revoking grants)   → ended now without a confirmation, flagged access_may_persist (reason required;
  //                               a call in flight makes it `conflict`, try again);
  //   access_may_persist grant  → the revoke is attempted again (back to revoking), at options.handler if given.
  // Errors: not_found, invalid_argument (/reason, /handler), failed_precondition (the state does not allow it,
  // the handler is not of the same backend), conflict, database_*. Who may use force and handler is the
  // caller's to check (the API: admins only).
  Result<GrantRecord> revoke(std::string_view id, std::string_view actor, std::string_view reason,
                             const RevokeOptions& options, const GrantBeforeCommit& before_commit = {});

  Result<GrantRecord> get(std::string_view id) const;
  // Newest first (requested_at, then id, descending); filter.after continues after a grant (keyset paging:
  // grants inserted meanwhile never shift a page, every grant that existed when the walk began is seen once).
  Result<std::vector<GrantRecord>> list(const GrantFilter& filter) const;
  Result<std::vector<HistoryEntry>> history(std::string_view id) const;    // oldest first

  // Starts the workers (idempotent). They release this engine id's stale leases first.
  void start();
  // No new claims; finishes the transitions in flight (their provider calls included), hands claimed but
  // unstarted rows back, and returns. Idempotent.
  void stop();

  // Processes every row due now, synchronously on the calling thread (tests, benchmarks, tools); returns how
  // many claims were processed. Do not mix with start() in a way that matters to you: both claim rows.
  Result<std::size_t> run_once();

  // Routes or handler health changed: pending grants waiting for a retry become due now, so do the revokes owed
  // to handlers that turned healthy since the last call (and to their same-backend peers), and workers wake.
  Result<std::size_t> routing_changed();
  // Wakes the workers (e.g. after writing to the tables from outside).
  void wake();

  const std::string& engine_id() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::host::grants
