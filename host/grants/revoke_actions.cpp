// What surrounds the revoke rule (routing/revoke.hpp) besides the call itself: the admin's ways out of a revoke
// nobody can confirm (force-close → access_may_persist, re-point to a handler of the same backend), a revoke of
// a force-closed grant attempted again, owed revokes woken when a handler turns healthy, and the warnings that
// make a failing revoke loud.
//
// Lock order as in every decision: the grant row first, then its access row.
#include "grants/engine_impl.hpp"

#include <spdlog/spdlog.h>

namespace gatehouse::host::grants {
namespace {

std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str()); }

constexpr auto kWarnEvery = std::chrono::minutes(1);

// The grant row fields the admin paths decide on, locked.
struct AdminLocked {
  GrantStatus status = GrantStatus::pending;
  bool access_may_persist = false;
  std::string access_key;
  std::string handler_id;
  std::string kind;
  std::string last_error;
  bool end_requested = false;
  std::string leftover_key, leftover_state_hex, leftover_provider, leftover_backend, leftover_incarnation;
  std::string subject, target_group;
};

std::optional<AdminLocked> lock_for_admin(pqxx::work& txn, const std::string& id) {
  const auto rows = sql::exec(
      txn,
      "SELECT status, access_may_persist, access_key, coalesce(handler_id, ''), coalesce(kind, ''), "
      "coalesce(last_error, ''), end_requested, coalesce(leftover_provider_grant_id::text, ''), "
      "coalesce(encode(leftover_state, 'hex'), ''), coalesce(leftover_provider, ''), coalesce(leftover_backend, ''), "
      "subject, target_group_id, coalesce(leftover_incarnation, '') FROM grants WHERE id = $1::uuid FOR UPDATE",
      id);
  if (rows.empty()) return std::nullopt;
  const auto& r = rows[0];
  AdminLocked g;
  g.status = parse_grant_status(text(r[0])).value_or(GrantStatus::failed);
  g.access_may_persist = r[1].as<bool>();
  g.access_key = text(r[2]);
  g.handler_id = text(r[3]);
  g.kind = text(r[4]);
  g.last_error = text(r[5]);
  g.end_requested = r[6].as<bool>();
  g.leftover_key = text(r[7]);
  g.leftover_state_hex = text(r[8]);
  g.leftover_provider = text(r[9]);
  g.leftover_backend = text(r[10]);
  g.subject = text(r[11]);
  g.target_group = text(r[12]);
  g.leftover_incarnation = text(r[13]);
  return g;
}

Error in_flight() {
  return make_error(ErrorCode::conflict, "a Revoke call for this grant is in flight right now; try again in a few seconds");
}

// Whether `target` may take the revoke of what a handler of (provider, backend) granted: the revoke rule's
// same-backend test, with its reason when not.
Result<void> check_same_backend(const ControlPlaneView& view, const std::string& target, const std::string& granting,
                                const std::string& provider, const std::string& backend) {
  auto refuse = [&](const std::string& why) {
    return make_error(ErrorCode::failed_precondition, "cannot re-point the revoke to handler '" + target + "': " + why,
                      {{"/handler", why}});
  };
  if (!view.handler_exists(target)) return make_error(ErrorCode::not_found, "handler '" + target + "' does not exist",
                                                      {{"/handler", "does not exist"}});
  if (provider.empty() || backend.empty())
    return refuse("the granting handler '" + granting +
                  "' declared no backend (handlers are interchangeable for revokes only when both declare the same "
                  "backend); force-close the grant instead");
  const auto identity = view.handler_identity(target);
  if (!identity || identity->provider != provider || identity->backend != backend)
    return refuse("it must run provider " + provider + " and declare backend '" + backend + "' like '" + granting +
                  "' (it runs " + (identity ? identity->provider : std::string("?")) + " with backend '" +
                  (identity ? identity->backend : std::string()) + "')");
  return {};
}

}  // namespace

void GrantEngine::Impl::warn_revoke_failure(const GrantRecord& g, const std::string& handler,
                                            const std::string& failure) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(revoke_warn_mutex);
    if (revoke_warned.size() > 100'000) revoke_warned.clear();  // bounded; at worst one extra warning each
    auto [it, fresh] = revoke_warned.try_emplace(g.id, now);
    if (!fresh) {
      if (now - it->second < kWarnEvery) return;
      it->second = now;
    }
  }
  spdlog::warn("grant {} ({} on target group {}): the revoke owed by handler '{}' failed, so the access outlives "
               "its end until a handler holding it confirms (retried with backoff; warned at most once a minute): {}",
               g.id, g.subject, g.target_group, handler, failure);
}

void GrantEngine::Impl::forget_revoke_warning(const std::string& grant_id) {
  std::lock_guard lock(revoke_warn_mutex);
  revoke_warned.erase(grant_id);
}

Result<std::size_t> GrantEngine::Impl::wake_revokes_of_recovered() {
  const auto identities = view.handler_identities();
  std::set<std::string> healthy_now;
  for (const auto& h : identities)
    if (h.healthy) healthy_now.insert(h.id);
  std::set<std::string> recovered;
  {
    std::lock_guard lock(healthy_mutex);
    for (const auto& id : healthy_now)
      if (!last_healthy.contains(id)) recovered.insert(id);
    last_healthy = healthy_now;
  }
  if (recovered.empty()) return std::size_t{0};
  // A recovered handler may also take the revokes owed by its same-backend peers.
  std::set<std::string> owing = recovered;
  for (const auto& r : identities) {
    if (!recovered.contains(r.id) || r.backend.empty()) continue;
    for (const auto& h : identities)
      if (h.provider == r.provider && h.backend == r.backend) owing.insert(h.id);
  }
  // Handler ids are [a-z0-9-] in the registry; quoted anyway, so any id makes a valid array literal.
  std::string array = "{";
  for (const auto& id : owing) {
    array += (array.size() > 1 ? ",\"" : "\"");
    for (char c : id) {
      if (c == '"' || c == '\\') array += '\\';
      array += c;
    }
    array += '"';
  }
  array += '}';
  auto woken = db.with_transaction([&](pqxx::work& txn) -> std::size_t {
    const auto grants_woken = sql::exec(
        txn,
        "UPDATE grants SET next_attempt_at = now() WHERE id IN (SELECT g.id FROM grants g JOIN accesses a "
        "ON a.access_key = g.access_key WHERE g.status = 'revoking' AND g.lease_owner IS NULL "
        "AND g.next_attempt_at > now() AND a.status = 'revoking' AND a.handler_id = ANY($1::text[]) "
        "FOR UPDATE OF g SKIP LOCKED)",
        array);
    const auto owed_woken = sql::exec(
        txn,
        "UPDATE grant_compensations SET next_attempt_at = now() WHERE id IN (SELECT id FROM grant_compensations "
        "WHERE done_at IS NULL AND lease_owner IS NULL AND next_attempt_at > now() AND handler_id = ANY($1::text[]) "
        "FOR UPDATE SKIP LOCKED)",
        array);
    return static_cast<std::size_t>(grants_woken.affected_rows() + owed_woken.affected_rows());
  });
  if (woken.ok() && *woken > 0) wake_all();
  return woken;
}

Result<void> GrantEngine::Impl::force_close(pqxx::work& txn, const std::string& id, const std::string& actor,
                                            const std::string& reason, std::optional<Transition>& transition) {
  const auto g = lock_for_admin(txn, id);
  if (!g) return make_error(ErrorCode::not_found, "no grant with id '" + id + "'", {{"/id", "does not exist"}});
  if (g->status != GrantStatus::revoking) {
    if (g->access_may_persist) return {};  // force-closed already: nothing to do
    return make_error(ErrorCode::failed_precondition,
                      "grant " + id + " is " + std::string(to_string(g->status)) +
                          ": --force closes only a grant whose revoke is in progress (revoking); revoke it first");
  }
  const auto access = lock_access(txn, g->access_key);
  if (access && access->op_live) return in_flight();
  const GrantStatus to = g->end_requested ? GrantStatus::revoked : GrantStatus::expired;
  const std::string holder = access && !access->handler_id.empty() ? access->handler_id : g->handler_id;
  sql::exec(txn,
            "UPDATE grants SET status = $2, ended_at = now(), revoke_failing = false, access_may_persist = true, "
            "handler_id = NULLIF($3, ''), leftover_provider_grant_id = NULLIF($4, '')::uuid, "
            "leftover_state = decode($5, 'hex'), leftover_provider = NULLIF($6, ''), leftover_backend = NULLIF($7, ''), "
            "leftover_incarnation = NULLIF($8, ''), "
            "attempts = 0, lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
            id, std::string(to_string(to)), holder, access ? access->provider_grant_id : std::string(),
            access ? access->state_hex : std::string(), access ? access->handler_provider : std::string(),
            access ? access->handler_backend : std::string(),
            access ? access->handler_incarnation : std::string());
  if (access && access->status == "revoking") {
    // Nobody tracks that access any more: a new grant of the same target starts a fresh one.
    sql::exec(txn, sql::kClearAccessSql, g->access_key);
    wake_waiting(txn, g->access_key, id);
  }
  const std::string why = "force-closed by " + actor + ": " + reason +
                          "; no handler holding the access confirmed the revoke" +
                          (g->last_error.empty() ? "" : " (last error: " + g->last_error + ")") +
                          ", so the access may persist at handler '" + holder +
                          "' (access_may_persist; a revoke of this grant attempts it again)";
  add_history(txn, id, GrantStatus::revoking, to, why, holder);
  transition = Transition{id, g->subject, g->target_group, GrantStatus::revoking, to, why, holder, opt.engine_id};
  return {};
}

Result<void> GrantEngine::Impl::repoint(pqxx::work& txn, const std::string& id, const std::string& actor,
                                        const std::string& reason, const std::string& handler) {
  const auto g = lock_for_admin(txn, id);
  if (!g) return make_error(ErrorCode::not_found, "no grant with id '" + id + "'", {{"/id", "does not exist"}});
  if (g->status != GrantStatus::revoking)
    return make_error(ErrorCode::failed_precondition, "grant " + id + " is " + std::string(to_string(g->status)) +
                                                 ": a revoke can be re-pointed only while it is in progress (revoking)"
                                                 " or after a force-close (access_may_persist)");
  const auto access = lock_access(txn, g->access_key);
  if (!access || access->status != "revoking") return make_error(ErrorCode::conflict, "grant " + id + " is settling; try again");
  if (access->op_live) return in_flight();
  const std::string& granting = access->handler_id;
  // The granting handler's provider and backend: as configured now, or as recorded when it is gone (deleted,
  // or replaced by a new handler of the same id, which is then just another handler to check).
  const bool present = granting_handler_present(*access);
  if (handler == granting && present) return {};
  std::string provider = access->handler_provider, backend = access->handler_backend;
  if (present)
    if (auto identity = view.handler_identity(granting)) {
      provider = identity->provider;
      backend = identity->backend;
    }
  if (auto ok = check_same_backend(view, handler, granting, provider, backend); !ok) return ok.take_error();
  // The access now belongs to that handler, as it is now (its incarnation decides who confirms from here on).
  const auto target = view.handler_identity(handler);
  sql::exec(txn,
            "UPDATE accesses SET handler_id = $2, handler_incarnation = NULLIF($3, ''), updated_at = now() "
            "WHERE access_key = $1",
            g->access_key, handler, target ? target->incarnation : std::string());
  sql::exec(txn,
            "UPDATE grants SET handler_id = $2, attempts = 0, next_attempt_at = now(), updated_at = now() "
            "WHERE id = $1::uuid",
            id, handler);
  add_history(txn, id, GrantStatus::revoking, GrantStatus::revoking,
              "revoke re-pointed from handler '" + granting + "' to '" + handler + "' (same provider " + provider +
                  " and backend '" + backend + "') by " + actor + (reason.empty() ? "" : ": " + reason),
              handler);
  return {};
}

Result<void> GrantEngine::Impl::reattempt(pqxx::work& txn, const std::string& id, const std::string& actor,
                                          const std::string& reason, const std::string& handler,
                                          std::optional<Transition>& transition) {
  const auto g = lock_for_admin(txn, id);
  if (!g) return make_error(ErrorCode::not_found, "no grant with id '" + id + "'", {{"/id", "does not exist"}});
  const auto locked_access = lock_access(txn, g->access_key);  // never deleted once the grant was active
  if (!locked_access) return make_error(ErrorCode::failed_precondition, "grant " + id + " has no access record to revoke");
  const LockedAccess& access = *locked_access;
  if (access.status != "none")
    return make_error(ErrorCode::failed_precondition,
                      "the same access is " + access.status + " again for grant " +
                          (access.op_grant_id.empty() ? std::string("another grant") : access.op_grant_id) +
                          " (handler '" + access.handler_id + "'); revoke that grant instead");
  const std::string target = handler.empty() ? g->handler_id : handler;
  std::string incarnation = g->leftover_incarnation;  // the handler that granted, as it was
  // The id that granted may now name another handler (deleted and created again): it counts as any other.
  const auto holder_now = view.handler_identity(g->handler_id);
  const bool replaced = holder_now && holder_now->is_other_creation_than(g->leftover_incarnation);
  if (target != g->handler_id || replaced) {
    if (auto ok = check_same_backend(view, target, g->handler_id, g->leftover_provider, g->leftover_backend); !ok)
      return ok.take_error();
    const auto identity = view.handler_identity(target);
    incarnation = identity ? identity->incarnation : std::string();
  }
  sql::exec(txn,
            "UPDATE accesses SET status = 'revoking', handler_id = $2, kind = NULLIF($3, ''), "
            "provider_grant_id = NULLIF($4, '')::uuid, provider_state = decode($5, 'hex'), handler_provider = "
            "NULLIF($6, ''), handler_backend = NULLIF($7, ''), op_owner = NULL, op_until = NULL, op_grant_id = $8::uuid, "
            "handler_incarnation = NULLIF($9, ''), updated_at = now() WHERE access_key = $1",
            g->access_key, target, g->kind, g->leftover_key, g->leftover_state_hex, g->leftover_provider,
            g->leftover_backend, id, incarnation);
  sql::exec(txn,
            "UPDATE grants SET status = 'revoking', ended_at = NULL, handler_id = $2, attempts = 0, last_error = NULL, "
            "next_attempt_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
            id, target);
  const std::string why = "revoke attempted again by " + actor + (reason.empty() ? "" : ": " + reason) +
                          " (force-closed earlier with access_may_persist), at handler '" + target + "'";
  add_history(txn, id, g->status, GrantStatus::revoking, why, target);
  transition = Transition{id, g->subject, g->target_group, g->status, GrantStatus::revoking, why, target, opt.engine_id};
  return {};
}

Result<GrantRecord> GrantEngine::revoke(std::string_view id_view, std::string_view actor_view,
                                        std::string_view reason_view, const RevokeOptions& options,
                                        const GrantBeforeCommit& before_commit) {
  const std::string id(id_view);
  const std::string actor = actor_view.empty() ? "anonymous" : std::string(actor_view);
  const std::string reason(reason_view);
  if (options.force && !options.handler.empty())
    return make_error(ErrorCode::invalid_argument, "force and handler exclude each other: force-close, or re-point",
                      {{"/handler", "not allowed with force"}});
  if (options.force && reason.empty())
    return make_error(ErrorCode::invalid_argument, "a force-close needs a reason (recorded in the history and audit log)",
                      {{"/reason", "required with force"}});
  auto existing = get(id);  // also refuses ids that cannot be grant ids
  if (!existing) return existing.take_error();
  const bool admin_path = options.force || !options.handler.empty() || existing->access_may_persist ||
                          existing->status == GrantStatus::revoking;
  if (!admin_path) return revoke(id_view, actor_view, reason_view, before_commit);

  std::optional<Transition> transition;
  auto decide = [&](pqxx::work& txn) -> Result<void> {
    if (options.force) return impl_->force_close(txn, id, actor, reason, transition);
    const auto status =
        sql::exec(txn, "SELECT status, access_may_persist FROM grants WHERE id = $1::uuid FOR UPDATE", id);
    if (status.empty()) return make_error(ErrorCode::not_found, "no grant with id '" + id + "'");
    const auto now = parse_grant_status(text(status[0][0])).value_or(GrantStatus::failed);
    if (now == GrantStatus::revoking) {
      if (!options.handler.empty()) return impl_->repoint(txn, id, actor, reason, options.handler);
      // Asked again while it is being revoked: try now rather than at the next backoff step.
      sql::exec(txn,
                "UPDATE grants SET next_attempt_at = now() WHERE id = $1::uuid AND (lease_owner IS NULL OR "
                "lease_until <= now())",
                id);
      return {};
    }
    if (is_final(now) && status[0][1].as<bool>()) return impl_->reattempt(txn, id, actor, reason, options.handler, transition);
    if (!options.handler.empty())
      return make_error(ErrorCode::failed_precondition, "grant " + id + " is " + std::string(to_string(now)) +
                                                   ": a revoke can be re-pointed only while it is in progress "
                                                   "(revoking) or after a force-close (access_may_persist)");
    return {};
  };
  auto done = impl_->db.with_transaction([&](pqxx::work& txn) -> Result<void> {
    auto decided = decide(txn);
    if (decided.ok() && before_commit) {
      const auto rows = sql::exec(txn, "SELECT " + sql::grant_columns() + " FROM grants WHERE id = $1::uuid", id);
      before_commit(txn, sql::read_grant(rows[0]));
    }
    return decided;
  });
  if (!done.ok()) return done.take_error();
  if (transition) impl_->notify(*transition);
  impl_->forget_revoke_warning(id);
  impl_->wake_all();
  return get(id);
}

}  // namespace gatehouse::host::grants
