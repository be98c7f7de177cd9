#include "daemon/daemon.hpp"

#include "api/api_service.hpp"
#include "api/http_server.hpp"
#include "grants/grant_engine.hpp"
#include "health/health_monitor.hpp"
#include "inventory/sync_engine.hpp"
#include "registry/registry.hpp"
#include "store/database.hpp"
#include "store/embedded_postgres.hpp"
#include "store/migrations.hpp"
#include "store/notification_listener.hpp"

#include <gatehouse/version.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>

namespace gatehouse::host::daemon {
namespace {

int fail(const std::string& what, const Error& error) {
  spdlog::critical("{}: {}", what, error.describe());
  return 1;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "gatehoused";
  std::string out(name);
  for (char& c : out)
    if (c == '/') c = '-';
  return out;
}

}  // namespace

int serve(const DaemonConfig& config, const std::string& connection, const sigset_t& signals);

int run_daemon(const DaemonConfig& config) {
  // Signals are taken synchronously by this thread (sigwait): block them before any thread starts, so every
  // thread inherits the mask and none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  spdlog::info("gatehoused {} starting", GATEHOUSE_FRAMEWORK_VERSION);

  std::unique_ptr<store::EmbeddedPostgres> embedded;
  std::string connection;
  if (config.database_url) {
    connection = *config.database_url;
    spdlog::info("database: the configured PostgreSQL (database.url)");
  } else {
    store::EmbeddedPostgresOptions options;
    options.data_dir = config.data_dir / "postgres";
    auto started = store::EmbeddedPostgres::start(options);
    if (!started) return fail("cannot start the embedded PostgreSQL", started.error());
    embedded = std::move(*started);
    for (const auto& note : embedded->notes()) spdlog::info("embedded PostgreSQL: {}", note);
    spdlog::info("database: embedded PostgreSQL in {} (unix socket only)", embedded->data_dir().string());
    connection = embedded->connection_string();
  }

  const int code = serve(config, connection, signals);
  if (embedded) {
    if (auto stopped = embedded->stop(); !stopped) spdlog::error("stopping the embedded PostgreSQL: {}", stopped.error().message);
  }
  spdlog::info("gatehoused stopped");
  return code;
}

// Everything that uses the database, in a scope that ends before the embedded database stops.
int serve(const DaemonConfig& config, const std::string& connection, const sigset_t& signals) {
  store::DatabaseOptions db_options;
  // Grant workers and API threads hold one connection each; an inventory sync holds up to concurrency + 1 (and
  // two syncs run at once); health checks and the routing watcher share the rest.
  db_options.max_connections = std::max(config.database_max_connections,
                                        config.grant_workers + config.api_threads + 2 * (config.inventory_concurrency + 1) + 4);
  store::Database db(connection, db_options);
  if (auto ping = db.ping(); !ping) return fail("cannot reach the database", ping.error());
  if (auto migrated = store::migrate(db); !migrated) return fail("cannot migrate the database", migrated.error());

  // Every provider file is first loaded in a throwaway runner process (a file that crashes or hangs while
  // loading is refused without harming us); files accepted before and unchanged since are remembered here.
  isolation::ScanOptions scan;
  scan.safety.allowed_sha256 = config.provider_allowed_sha256;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (!ec) scan.cache_file = config.data_dir / "provider-scan-cache.json";
  auto catalog = std::make_shared<registry::ProviderCatalog>();
  for (const auto& refusal : catalog->scan(config.provider_paths, scan)) spdlog::warn("{}", refusal.describe());
  for (const auto& module : catalog->list())
    spdlog::info("provider {} loaded from {}", module->identity().reference(), module->path());
  if (catalog->list().empty()) {
    std::string where;
    for (const auto& p : config.provider_paths) where += (where.empty() ? "" : ", ") + p.string();
    spdlog::warn("no provider loaded from the search paths ({})", where);
  }
  if (auto recorded = catalog->record(db); !recorded) return fail("cannot record providers", recorded.error());

  // Every provider call carries its caller's deadline, and an isolated runner is killed exactly at it (so nothing
  // comes back after the caller moved on). The isolation call timeout is only the cap on a call's deadline: the
  // longest any caller here gives (grants, health checks, inventory loads).
  registry::RegistryOptions registry_options;
  registry_options.isolation.call_timeout =
      std::max({config.call_timeout, config.health_timeout, config.inventory_call_timeout});
  auto opened = registry::Registry::open(db, catalog, registry_options);
  if (!opened) return fail("cannot load handlers, target groups and routes", opened.error());
  auto& registry = **opened;

  api::Metrics metrics;
  grants::GrantEngineOptions engine_options;
  engine_options.engine_id = config.engine_id.empty() ? host_name() : config.engine_id;
  engine_options.workers = config.grant_workers;
  engine_options.call_timeout = config.call_timeout;
  engine_options.on_transition = [&metrics](const grants::Transition& t) {
    metrics.count_transition(std::string(grants::to_string(t.to)));
    spdlog::info("grant {} {} → {}: {}", t.grant_id, t.from ? std::string(grants::to_string(*t.from)) : "new",
                 grants::to_string(t.to), t.reason);
  };
  engine_options.on_failover = [&metrics](const std::string& handler, const Error& error) {
    metrics.count_failover(handler);
    spdlog::warn("handler {} failed a Grant ({}); failing over", handler, error.code_name());
  };
  engine_options.on_routing_skip = [&metrics](const std::string& handler, const std::string& reason) {
    metrics.count_routing_skip(handler, reason);
  };
  grants::GrantEngine engine(db, registry, engine_options);

  // One caller for the in-process calls of health checks and inventory syncs: one bounded pool, one ledger of
  // calls abandoned at their deadline (loader/provider_caller.hpp). Declared before both, destroyed after them.
  auto provider_caller = std::make_shared<ProviderCaller>();
  health::HealthOptions health_options;
  health_options.caller = provider_caller;
  health_options.interval = config.health_interval;
  health_options.timeout = config.health_timeout;
  health::HealthMonitor monitor(registry, health_options);

  inventory::SyncOptions sync_options;
  sync_options.interval = config.inventory_interval;  // 0: scheduled syncs off (on-demand runs still work)
  for (const auto& [handler, interval] : config.inventory_interval_by_handler)
    sync_options.interval_by_handler[handler] = interval;
  sync_options.concurrency = config.inventory_concurrency;
  sync_options.call_timeout = config.inventory_call_timeout;
  sync_options.caller = provider_caller;
  inventory::SyncEngine sync(db, registry, sync_options);

  const auth::TokenVerifier tokens(config.tokens);
  if (tokens.size() == 0)
    spdlog::warn("no API tokens are configured (api.tokens): every API call but /healthz and /readyz is refused");
  std::atomic<bool> draining{false};
  api::ApiService service(
      {db, registry, *catalog, engine, tokens, metrics, &monitor, [&draining] { return draining.load(); }, &sync});

  api::HttpServerOptions http;
  http.address = config.listen_host;
  http.port = config.listen_port;
  http.threads = config.api_threads;
  http.max_body_bytes = config.max_body_bytes;
  http.read_timeout = config.read_timeout;
  http.write_timeout = config.write_timeout;
  auto server = api::HttpServer::start(
      http, [&service](const api::HttpRequest& r) { return service.handle(r); },
      [&service, &metrics](const api::HttpRequest& r, int status, std::chrono::duration<double> elapsed) {
        metrics.observe_request(service.route_label(r), r.method, status, elapsed);
        spdlog::debug("{} {} {} → {} in {:.1f} ms", r.remote, r.method, r.target, status, elapsed.count() * 1000);
      });
  if (!server) return fail("cannot start the API", server.error());

  // The grant engine hears of every new routing snapshot (a route, handler or health change, here or through
  // another replica): waiting grants are due at once instead of at their next backoff.
  auto woken = registry.subscribe([&engine](const grants::RoutingView&) {
    if (auto r = engine.routing_changed(); !r) spdlog::warn("waking pending grants failed: {}", r.error().message);
  });
  // Changes committed through other gatehoused on this database: PostgreSQL notifies, and a periodic comparison
  // of revisions catches what a broken listening connection missed.
  store::NotificationListenerOptions listen;
  listen.channel = registry::kControlPlaneChannel;
  listen.period = config.replica_reconcile_interval;
  store::NotificationListener replicas(connection, listen, [&registry](store::WakeReason reason) {
    auto reconciled = reason == store::WakeReason::tick ? registry.reconcile_if_changed() : registry.reconcile();
    if (!reconciled) spdlog::warn("reading control-plane changes of other replicas failed: {}", reconciled.error().message);
  });

  monitor.start();
  engine.start();
  sync.start();
  if (auto listening = replicas.start(); !listening) return fail("cannot listen for other replicas' changes", listening.error());
  spdlog::info("gatehoused ready: API on http://{} ({} handlers, {} target groups, {} routes)",
               (*server)->address(), registry.handlers().size(), registry.target_groups().size(), registry.routes().size());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}: shutting down", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  draining = true;
  (*server)->stop(std::chrono::seconds(10));
  replicas.stop();
  woken.reset();
  sync.stop();
  engine.stop();
  monitor.stop();
  if (const auto out = provider_caller->abandoned_total(); out > 0) {
    // In-process provider calls that passed their deadline and never returned cannot be interrupted, and waiting
    // for them would keep a SIGTERM from ever ending the process. Their pool is kept (deliberately never freed)
    // so its threads stay valid until the process exits.
    spdlog::warn("{} in-process provider call(s) abandoned at their deadline are still running; exiting without "
                 "waiting for them",
                 out);
    static auto* kept = new std::shared_ptr<ProviderCaller>(provider_caller);
    (void)kept;
  }
  return 0;
}

}  // namespace gatehouse::host::daemon
