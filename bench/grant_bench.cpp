// Grant engine benchmarks (bench/README.md, "Grants"): a private PostgreSQL in a temp directory, the demo
// provider loaded in process, and a GrantEngine doing durable transitions.
//
//   bench_grants throughput [--grants N] [--workers 2,4,8] [--requesters R] [--sync on,off] [--demo-dir DIR]
//       request → active for N grants (distinct accesses) per row; one fresh database per row.
//   bench_grants provider-only [--grants N] [--workers 1,4] [--demo-dir DIR]
//       the demo provider's own Grant rate from N threads, without database or engine (its ceiling).
//   bench_grants revoke-lag [--grants N] [--window-s S] [--workers W] [--sync on] [--demo-dir DIR]
//       activates N grants, spreads their ends_at uniformly over S seconds starting 5 s later, and measures
//       lag = ended_at (the grant became expired) − ends_at.
//
// --demo-dir: where the demo provider's state directories go (default: the temp dir, i.e. the disk; the
// demo fsyncs every grant file). /dev/shm takes the provider's own disk writes out of the measurement.
#include "grants/grant_engine.hpp"
#include "grants/static_control_plane.hpp"
#include "loader/dll_loader.hpp"
#include "loader/provider_calls.hpp"
#include "store/embedded_postgres.hpp"
#include "store/migrations.hpp"

#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace grants = gatehouse::host::grants;
namespace store = gatehouse::host::store;
namespace host = gatehouse::host;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_grants: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(host::Result<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().describe());
  return std::move(r).value();
}

void must(host::Result<void> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().describe());
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

std::string make_temp_dir(const fs::path& parent, const std::string& prefix) {
  std::string pattern = (parent / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) die("mkdtemp " + pattern);
  chmod(pattern.c_str(), 0711);  // the cluster's user (postgres, when run as root) must pass through
  return pattern;
}

struct Args {
  std::string mode;
  int grants = 5000;
  std::vector<int> workers{2, 4, 8};
  int requesters = 2;
  std::vector<std::string> sync{"on"};
  std::string demo_parent;
  int window_s = 60;
};

Args parse(int argc, char** argv) {
  if (argc < 2) die("usage: bench_grants throughput|revoke-lag [options] (see the source)");
  Args a;
  a.mode = argv[1];
  if (a.mode == "revoke-lag") {
    a.grants = 10000;
    a.workers = {4};
  }
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--grants")
      a.grants = std::stoi(value);
    else if (key == "--workers") {
      a.workers.clear();
      for (const auto& w : split(value)) a.workers.push_back(std::stoi(w));
    } else if (key == "--requesters")
      a.requesters = std::stoi(value);
    else if (key == "--sync")
      a.sync = split(value);
    else if (key == "--demo-dir")
      a.demo_parent = value;
    else if (key == "--window-s")
      a.window_s = std::stoi(value);
    else
      die("unknown option " + key);
  }
  return a;
}

std::string scalar(store::Database& db, const std::string& sql) {
  return must(db.with_transaction([&](pqxx::work& txn) -> std::string {
    const auto r = txn.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }),
              sql);
}

// One run's world: a fresh database of the cluster, the demo provider as handler "demo-1", group "projects".
struct Run {
  std::string database;
  std::unique_ptr<store::Database> db;
  grants::StaticControlPlane plane;
  std::string demo_dir;
};

std::unique_ptr<Run> prepare(store::EmbeddedPostgres& pg, store::Database& maintenance, const std::string& name,
                             const std::string& sync, const std::string& demo_parent, std::size_t connections,
                             const std::shared_ptr<host::ProviderModule>& demo) {
  auto run = std::make_unique<Run>();
  run->database = name;
  must(maintenance.with_connection([&](pqxx::connection& c) {
    pqxx::nontransaction q(c);
    q.exec("CREATE DATABASE " + c.quote_name(name));
    q.exec("ALTER DATABASE " + c.quote_name(name) + " SET synchronous_commit = " + (sync == "off" ? "off" : "on"));
  }),
       "create database");
  run->db = std::make_unique<store::Database>(pg.connection_string_for(name),
                                              store::DatabaseOptions{connections, std::chrono::seconds(60)});
  must(store::migrate(*run->db), "migrate");
  const auto kind = demo->schema()["targets"]["ProjectRole"];
  must(run->db->with_transaction([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO target_groups (id, provider_publisher, provider_name, provider_version, kind, kind_schema, "
        "max_duration_seconds) VALUES ('projects', 'gatehouse', 'demo', '1.0.0', 'ProjectRole', $1::jsonb, 86400)",
        kind.dump());
  }),
       "target group");
  run->plane.set_target_group(grants::TargetGroupView{"projects", "ProjectRole", kind, std::chrono::seconds(86400)});
  run->demo_dir = make_temp_dir(demo_parent, "gatehouse-bench-demo");
  auto client = must(demo->create(nlohmann::json{{"state_dir", run->demo_dir}, {"token", "bench-token-123"}}, "demo-1"),
                     "create demo handler");
  run->plane.set_handler("demo-1", std::shared_ptr<host::ProviderClient>(std::move(client)), true);
  must(run->plane.set_routes({gatehouse::host::routing::Route{"projects", "demo-1", "ProjectRole", 100, true}}),
       "routes");
  return run;
}

grants::GrantRequestSpec spec_for(int i, std::chrono::seconds duration) {
  grants::GrantRequestSpec s;
  s.subject = "user-" + std::to_string(i) + "@example.com";
  s.target_group = "projects";
  s.target = {{"project", i % 2 ? "apollo" : "zephyr"}, {"role", "viewer"}};
  s.duration = duration;
  s.actor = "bench";
  return s;
}

// Requests n grants from `requesters` threads; returns when every one is active (counted by the hook).
struct Activation {
  double seconds = 0;
  double request_seconds = 0;  // until the last request was stored
};

Activation activate_all(grants::GrantEngine& engine, std::atomic<int>& active, std::mutex& mutex,
                        std::condition_variable& cv, int n, int requesters, std::chrono::seconds duration) {
  const auto start = SteadyClock::now();
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < requesters; ++t)
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) must(engine.request(spec_for(i, duration)), "request");
    });
  for (auto& t : threads) t.join();
  const auto requested = SteadyClock::now();
  {
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, 170s, [&] { return active.load() >= n; }))
      die("only " + std::to_string(active.load()) + " of " + std::to_string(n) + " grants became active in 170 s");
  }
  const auto done = SteadyClock::now();
  return {std::chrono::duration<double>(done - start).count(),
          std::chrono::duration<double>(requested - start).count()};
}

grants::GrantEngineOptions engine_options(int workers, std::function<void(const grants::Transition&)> hook) {
  grants::GrantEngineOptions o;
  o.engine_id = "bench";
  o.workers = static_cast<std::size_t>(workers);
  o.poll_interval = 200ms;  // the default
  o.on_transition = std::move(hook);
  return o;
}

void throughput(const Args& args, store::EmbeddedPostgres& pg, store::Database& maintenance,
                const std::shared_ptr<host::ProviderModule>& demo) {
  std::printf(
      "| synchronous_commit | demo state dir | workers | requesters | grants | request→active wall s | "
      "grants/s | request→active p50 ms | p99 ms |\n|---|---|---|---|---|---|---|---|---|\n");
  int run_no = 0;
  for (const auto& sync : args.sync) {
    for (int workers : args.workers) {
      auto run = prepare(pg, maintenance, "throughput_" + std::to_string(++run_no), sync, args.demo_parent,
                         static_cast<std::size_t>(workers + args.requesters + 2), demo);
      std::atomic<int> active{0};
      std::mutex mutex;
      std::condition_variable cv;
      grants::GrantEngine engine(*run->db, run->plane, engine_options(workers, [&](const grants::Transition& t) {
        if (t.to == grants::GrantStatus::active && ++active >= args.grants) {
          std::lock_guard lock(mutex);
          cv.notify_all();
        }
      }));
      engine.start();
      const auto a = activate_all(engine, active, mutex, cv, args.grants, args.requesters, 3600s);
      engine.stop();
      const std::string p = scalar(*run->db,
                                   "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 1) || ' ' || "
                                   "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY x)::numeric, 1) FROM (SELECT "
                                   "extract(epoch from activated_at - requested_at) * 1000 AS x FROM grants) s");
      const auto space = p.find(' ');
      std::printf("| %s | %s | %d | %d | %d | %.2f | %.0f | %s | %s |\n", sync.c_str(), args.demo_parent.c_str(),
                  workers, args.requesters, args.grants, a.seconds, args.grants / a.seconds, p.substr(0, space).c_str(),
                  p.substr(space + 1).c_str());
      std::fflush(stdout);
      fs::remove_all(run->demo_dir);
    }
  }
}

void revoke_lag(const Args& args, store::EmbeddedPostgres& pg, store::Database& maintenance,
                const std::shared_ptr<host::ProviderModule>& demo) {
  const int workers = args.workers.front();
  auto run = prepare(pg, maintenance, "revoke_lag", args.sync.front(), args.demo_parent,
                     static_cast<std::size_t>(workers + args.requesters + 2), demo);
  std::atomic<int> active{0}, expired{0};
  std::mutex mutex;
  std::condition_variable cv;
  grants::GrantEngine engine(*run->db, run->plane, engine_options(workers, [&](const grants::Transition& t) {
    if (t.to == grants::GrantStatus::active) ++active;
    if (t.to == grants::GrantStatus::expired) ++expired;
    if (active >= args.grants || expired >= args.grants) {
      std::lock_guard lock(mutex);
      cv.notify_all();
    }
  }));
  engine.start();
  const auto a = activate_all(engine, active, mutex, cv, args.grants, args.requesters, 3600s);
  std::printf("activated %d grants in %.2f s (%.0f grants/s)\n", args.grants, a.seconds, args.grants / a.seconds);

  // Their ends spread uniformly over the window, starting 5 s from now (the same row the engine will claim:
  // next_attempt_at follows ends_at, exactly as activation sets it).
  must(run->db->with_transaction([&](pqxx::work& txn) {
    txn.exec_params(
        "WITH ranked AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM grants) "
        "UPDATE grants g SET ends_at = now() + interval '5 seconds' + (ranked.i * $1::float8 / $2) * "
        "interval '1 second', next_attempt_at = now() + interval '5 seconds' + (ranked.i * $1::float8 / $2) * "
        "interval '1 second' FROM ranked WHERE g.id = ranked.id AND g.status = 'active'",
        args.window_s, args.grants);
  }),
       "spread ends_at");
  const auto spread_at = SteadyClock::now();
  {
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, std::chrono::seconds(args.window_s + 60), [&] { return expired.load() >= args.grants; }))
      die("only " + std::to_string(expired.load()) + " grants expired");
  }
  const double total = std::chrono::duration<double>(SteadyClock::now() - spread_at).count();
  engine.stop();
  const std::string q =
      "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 1) || ' ' || "
      "round(percentile_cont(0.9) WITHIN GROUP (ORDER BY x)::numeric, 1) || ' ' || "
      "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY x)::numeric, 1) || ' ' || round(max(x)::numeric, 1) || ' ' "
      "|| count(*) FROM (SELECT extract(epoch from ended_at - ends_at) * 1000 AS x FROM grants "
      "WHERE status = 'expired') s";
  const std::string left_active =
      "SELECT round(percentile_cont(0.99) WITHIN GROUP (ORDER BY x)::numeric, 1) || ' ' || round(max(x)::numeric, 1) "
      "FROM (SELECT extract(epoch from h.at - g.ends_at) * 1000 AS x FROM grants g JOIN grant_history h ON "
      "h.grant_id = g.id AND h.from_status = 'active' AND h.to_status = 'revoking') s";
  std::printf("revoke lag (ended_at - ends_at, ms): p50 p90 p99 max count = %s\n", scalar(*run->db, q).c_str());
  std::printf("left 'active' (active->revoking committed - ends_at, ms): p99 max = %s\n",
              scalar(*run->db, left_active).c_str());
  std::printf("all %d expired %.1f s after the spread (window %d s + 5 s lead)\n", args.grants, total, args.window_s);
  std::printf("demo grant files left: %zu\n",
              static_cast<std::size_t>(
                  std::distance(fs::directory_iterator(run->demo_dir + "/grants"), fs::directory_iterator{})));
  fs::remove_all(run->demo_dir);
}

// The demo provider alone (no database, no engine): its own ceiling for Grant calls from `threads` threads.
void provider_only(const Args& args, const std::shared_ptr<host::ProviderModule>& demo) {
  std::printf("| demo state dir | threads | grants | wall s | grants/s |\n|---|---|---|---|---|\n");
  for (int threads : args.workers) {
    const std::string dir = make_temp_dir(args.demo_parent, "gatehouse-bench-demo");
    std::shared_ptr<host::ProviderClient> client =
        must(demo->create(nlohmann::json{{"state_dir", dir}, {"token", "bench-token-123"}}, "demo-1"), "create");
    std::atomic<int> next{0};
    const auto start = SteadyClock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (int i = next++; i < args.grants; i = next++) {
          host::pb::GrantRequest r;
          r.set_grant_id("bench-" + std::to_string(i));
          r.set_subject("user-" + std::to_string(i));
          r.mutable_target()->set_kind("ProjectRole");
          (*r.mutable_target()->mutable_properties())["project"] = "apollo";
          (*r.mutable_target()->mutable_properties())["role"] = "viewer";
          must(host::grant(*client, r, ::gatehouse::host::deadline_in(std::chrono::seconds(30)), "demo-1"), "grant");
        }
      });
    for (auto& t : pool) t.join();
    const double wall = std::chrono::duration<double>(SteadyClock::now() - start).count();
    std::printf("| %s | %d | %d | %.2f | %.0f |\n", args.demo_parent.c_str(), threads, args.grants, wall,
                args.grants / wall);
    fs::remove_all(dir);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);  // the demo logs every grant at info
  const std::string root = make_temp_dir(fs::temp_directory_path(), "gatehouse-bench-grants");
  if (args.demo_parent.empty()) args.demo_parent = root;
  if (args.mode == "provider-only") {
    provider_only(args, must(host::load_provider_in_process(std::string(BENCH_DEMO_SO)), "load demo.so"));
    fs::remove_all(root);
    return 0;
  }

  store::EmbeddedPostgresOptions options;
  options.data_dir = root + "/pg";
  options.port = 50000 + static_cast<int>(getpid() % 10000);
  options.database = "postgres";
  options.sync_initdb = false;  // throwaway cluster; the server itself keeps fsync on
  auto pg = must(store::EmbeddedPostgres::start(options), "start PostgreSQL");
  std::printf("PostgreSQL: %s (fsync on, synchronous_commit per row, other settings default)\n",
              pg->data_dir().c_str());
  {
    store::Database maintenance(pg->connection_string_for("postgres"), store::DatabaseOptions{2, 30s});
    std::printf("server: %s\n", scalar(maintenance, "SHOW server_version").c_str());
    auto demo = must(host::load_provider_in_process(std::string(BENCH_DEMO_SO)), "load demo.so");
    if (args.mode == "throughput")
      throughput(args, *pg, maintenance, demo);
    else if (args.mode == "revoke-lag")
      revoke_lag(args, *pg, maintenance, demo);
    else
      die("unknown mode " + args.mode);
  }
  must(pg->stop(), "stop PostgreSQL");
  pg.reset();
  fs::remove_all(root);
  return 0;
}
