// Revoke after an outage of the target (bench/README.md "Revoke after an outage", issue 19 item 2): how long a
// grant's access outlives its end when the target system is down at that moment.
//
//   bench_revoke_outage [--outages 10,60] [--runs 3] [--health-interval 1] [--duration 3] [--lead 1]
//
// The real gatehoused on its embedded default store, the postgres provider as handler `pg-bench` against a
// *target* PostgreSQL cluster of the benchmark's own (temp dir, unix socket only). Per run: a grant of role
// bench_readers to login bench-alice for --duration seconds; the target is stopped (pg_ctl stop -m fast) --lead
// seconds before the grant's ends_at, kept down N seconds, started again; then the grant is polled until it is
// `expired` and the membership is checked gone in pg_auth_members.
//
// outlived   = ended_at - ends_at           (how long the access outlived its end; both from the API)
// after_back = ended_at - back              (back: the first moment the target accepted a connection again)
// bound      = N + H + 1 s                  (issue 19: outage + one health interval + 1 s)
//
// It is a measurement, not a test: only setup failures exit non-zero; a bound that does not hold is printed.
#include "daemon_bench_support.hpp"
#include "store/embedded_postgres.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace store = gatehouse::host::store;
using nlohmann::json;
// Wall clock, not steady_clock: the times compared with the client's are the daemon's (its PostgreSQL's
// now()), and both read the same system clock on this machine.
using Wall = std::chrono::system_clock;
using std::chrono::milliseconds;

pid_t daemon_pid = 0;  // killed by die(): a setup failure must not leave gatehoused running
// At namespace scope so that std::exit (die) runs its destructor, which stops the target cluster.
std::unique_ptr<store::EmbeddedPostgres> target;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_revoke_outage: %s\n", what.c_str());
  gatehouse::bench::stop_gatehoused(daemon_pid);
  std::exit(1);
}

using gatehouse::bench::free_port;
using gatehouse::bench::http_call;
using gatehouse::bench::sha256_hex;

// A connection per call (closed after it): the benchmark idles for up to a minute between calls, longer than
// the daemon keeps an idle one.
std::string request(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = "") {
  return gatehouse::bench::http_request(method, target, token, body, /*close=*/true);
}

// The API's times: always "YYYY-MM-DDTHH:MM:SS.mmmZ" (format_rfc3339 in host/api).
Wall::time_point parse_time(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s, &ms) != 7)
    die("unexpected time format: " + text);
  using namespace std::chrono;
  const sys_days day = year{y} / month{static_cast<unsigned>(mo)} / static_cast<unsigned>(d);
  return Wall::time_point(day) + hours(h) + minutes(mi) + seconds(s) + milliseconds(ms);
}

double seconds_between(Wall::time_point from, Wall::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string clock_text(Wall::time_point t) {
  const auto ms = std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char b[32];
  std::snprintf(b, sizeof b, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return b;
}

std::vector<int> list_of(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double max_of(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// Whether bench-alice is a member of bench_readers on the target, read from pg_auth_members.
bool is_member(const std::string& dsn) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  const auto r = tx.exec(
      "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
      "WHERE r.rolname = 'bench_readers' AND u.rolname = 'bench-alice'");
  return r[0][0].as<long>() > 0;
}

// Starts (or restarts) the target cluster; its data directory persists across restarts, so the roles do too.
std::unique_ptr<store::EmbeddedPostgres> start_target(const store::EmbeddedPostgresOptions& options) {
  auto started = store::EmbeddedPostgres::start(options);
  if (!started.ok()) die("the target cluster did not start: " + started.error().message);
  return std::move(started.value());
}

struct RunResult {
  int outage = 0;
  int run = 0;
  bool expired = false;       // the grant reached `expired` within the wait
  bool member_gone = false;   // pg_auth_members agrees
  double outage_measured = 0; // stop issued -> target accepting again
  double outlived = 0;        // ended_at - ends_at
  double after_back = 0;      // ended_at - back
  double healthy_after_back = -1;  // checked_at of the first healthy check after back - back (-1: not seen)
  double ended_after_healthy = 0;  // ended_at - that check: ≈ 0.25 s when the health change woke the revoke
  int failed_attempts = 0;    // "revoke failed" notes in the history (one per distinct failure text)
  std::string status;         // the grant's last status when not expired
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> outages{10, 60};
  int runs = 3, health_interval = 1, duration = 3;
  double lead = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--outages") outages = list_of(value);
    else if (flag == "--runs") runs = std::stoi(value);
    else if (flag == "--health-interval") health_interval = std::stoi(value);
    else if (flag == "--duration") duration = std::stoi(value);
    else if (flag == "--lead") lead = std::stod(value);
    else die("unknown option " + flag);
  }
  if (argc % 2 == 0) die("every option takes a value");
  if (runs < 1 || health_interval < 1 || duration < 1 || lead < 0 || lead >= duration) die("bad option value");

  char pattern[] = "/tmp/gh-bench-revoke-XXXXXX";
  if (!mkdtemp(pattern)) die("mkdtemp failed");
  const fs::path dir = pattern;
  // Searchable by the unprivileged user both clusters run as when root runs the benchmark.
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);

  // ---- the target cluster: socket only, in the temp dir ----
  store::EmbeddedPostgresOptions target_options;
  target_options.data_dir = dir / "target";
  target_options.port = free_port();  // names the socket file only
  target_options.database = "postgres";
  target_options.sync_initdb = false;  // throwaway cluster
  target = start_target(target_options);
  const std::string target_dsn = target->connection_string_for("postgres");
  try {
    pqxx::connection c(target_dsn);
    pqxx::nontransaction tx(c);
    tx.exec("CREATE ROLE bench_readers NOLOGIN");
    tx.exec("CREATE ROLE \"bench-alice\" LOGIN");
  } catch (const std::exception& e) {
    die(std::string("creating the target's roles: ") + e.what());
  }

  // ---- gatehoused on its embedded default store ----
  const int port = free_port();
  const std::string token = "gh_bench_admin_token";
  std::ofstream(dir / "gatehoused.yaml")
      << "listen: 127.0.0.1:" << port << "\ndata_dir: " << (dir / "data").string()
      << "\nproviders:\n  search_paths: [" << BENCH_POSTGRES_SO_DIR << "]\n"
      << "health:\n  interval_seconds: " << health_interval << "\n"
      // No scheduled inventory syncs: their loader calls would fail during the outage and are not measured.
      << "inventory:\n  interval_seconds: 0\n"
      << "logging:\n  level: warn\napi:\n  tokens:\n"
      << "    - {name: bench, role: admin, sha256: " << sha256_hex(token) << "}\n";
  std::string why;
  daemon_pid = gatehouse::bench::start_gatehoused(BENCH_GATEHOUSED, (dir / "gatehoused.yaml").string(),
                                                  (dir / "gatehoused.log").string(), {{"PG_DSN", target_dsn}},
                                                  port, why);
  if (daemon_pid < 0) {
    daemon_pid = 0;
    die(why);
  }

  const json setup = {
      {"handlers",
       {{{"id", "pg-bench"},
         {"provider", "gatehouse/postgres@1.0.0"},
         {"config", {{"dsn", "env:PG_DSN"}, {"grantable", "^bench_"}}}}}},
      {"target_groups", {{{"id", "bench-roles"}, {"kind", "gatehouse/postgres@1.0.0/DatabaseRole"}}}},
      {"routes", {{{"target_group", "bench-roles"}, {"handler", "pg-bench"}, {"priority", 100}}}}};
  std::string body;
  if (http_call(port, request("POST", "/v1/apply", token, setup.dump()), &body) != 200) die("apply failed: " + body);
  if (http_call(port, request("POST", "/v1/handlers/pg-bench/check", token, "{}"), &body) != 200 ||
      json::parse(body)["health"]["status"] != "healthy")
    die("handler pg-bench is not healthy: " + body);

  auto get_json = [&](const std::string& path) -> std::optional<json> {
    std::string b;
    if (http_call(port, request("GET", path, token), &b) != 200) return std::nullopt;
    return json::parse(b);
  };

  std::printf("revoke after an outage of the target: health interval H = %d s, grants of %d s, target stopped %.1f s "
              "before ends_at\n",
              health_interval, duration, lead);
  std::printf("%4s %4s %9s %9s %6s %11s %15s %16s %11s %5s  %s\n", "N s", "run", "outage s", "outlived", "bound",
              "after_back", "healthy-back s", "ended-healthy s", "fail notes", "held", "membership");
  std::vector<RunResult> results;
  const json grant_request = {{"subject", "bench-alice"},
                              {"target_group", "bench-roles"},
                              {"target", {{"database", "postgres"}, {"role", "bench_readers"}}},
                              {"duration", duration}};
  for (int n : outages) {
    for (int run = 1; run <= runs; ++run) {
      RunResult r;
      r.outage = n;
      r.run = run;
      // The previous run left the handler healthy (its revoke landed); a grant is routed only to a healthy one.
      if (http_call(port, request("POST", "/v1/grants", token, grant_request.dump()), &body) != 201)
        die("grant request failed: " + body);
      const std::string id = json::parse(body)["id"].get<std::string>();
      std::optional<json> grant;
      for (int i = 0; i < 600; ++i) {
        grant = get_json("/v1/grants/" + id);
        if (grant && (*grant)["status"] != "pending") break;
        std::this_thread::sleep_for(milliseconds(50));
      }
      if (!grant || (*grant)["status"] != "active")
        die("grant " + id + " did not become active: " + (grant ? grant->dump() : std::string("unreadable")));
      const auto ends_at = parse_time((*grant)["ends_at"].get<std::string>());
      if (!is_member(target_dsn)) die("grant " + id + " is active but bench-alice is not a member of bench_readers");

      // ---- the outage ----
      std::this_thread::sleep_until(ends_at - std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(lead)));
      const auto stop_issued = Wall::now();  // a fast shutdown refuses new connections from its start
      if (auto stopped = target->stop(); !stopped.ok()) die("stopping the target: " + stopped.error().message);
      target.reset();
      std::this_thread::sleep_until(stop_issued + std::chrono::seconds(n));
      // pg_ctl -w polls readiness every 100 ms, so start()'s return is late by up to that: "back" is the first
      // connection a prober thread gets, trying every 10 ms from the moment the start is issued.
      Wall::time_point back{};
      std::thread prober([&] {
        const auto until = Wall::now() + std::chrono::seconds(90);  // past start()'s own 60 s timeout
        while (Wall::now() < until) {
          try {
            pqxx::connection c(target_dsn);
            back = Wall::now();
            return;
          } catch (const std::exception&) {
            std::this_thread::sleep_for(milliseconds(10));
          }
        }
      });
      target = start_target(target_options);
      prober.join();
      if (back == Wall::time_point{}) die("the target started but accepted no connection");
      r.outage_measured = seconds_between(stop_issued, back);

      // ---- until the revoke lands ----
      std::optional<Wall::time_point> healthy_checked;
      // The first healthy check since the stop was issued is necessarily one after the target came back.
      auto look_at_health = [&] {
        if (healthy_checked) return;
        if (auto h = get_json("/v1/handlers/pg-bench"); h && (*h)["health"]["status"] == "healthy") {
          const auto checked = parse_time((*h)["health"]["checked_at"].get<std::string>());
          if (checked >= stop_issued) healthy_checked = checked;
        }
      };
      const auto give_up = Wall::now() + std::chrono::seconds(120);
      while (Wall::now() < give_up) {
        look_at_health();
        grant = get_json("/v1/grants/" + id);
        if (grant && (*grant)["status"] != "active" && (*grant)["status"] != "revoking") break;
        std::this_thread::sleep_for(milliseconds(50));
      }
      // A revoke retried on its backoff may land before the health check sees the target again.
      for (int i = 0; i < 100 && !healthy_checked; ++i) {
        std::this_thread::sleep_for(milliseconds(50));
        look_at_health();
      }
      r.status = grant ? (*grant)["status"].get<std::string>() : "unreadable";
      r.expired = r.status == "expired";
      if (r.expired) {
        const auto ended_at = parse_time((*grant)["ended_at"].get<std::string>());
        r.outlived = seconds_between(ends_at, ended_at);
        r.after_back = seconds_between(back, ended_at);
      }
      if (healthy_checked) r.healthy_after_back = seconds_between(back, *healthy_checked);
      if (healthy_checked && r.expired)
        r.ended_after_healthy = seconds_between(*healthy_checked, parse_time((*grant)["ended_at"].get<std::string>()));
      for (const auto& h : (*grant)["history"])
        if (h["reason"].is_string() && h["reason"].get<std::string>().rfind("revoke failed:", 0) == 0) ++r.failed_attempts;
      try {
        r.member_gone = !is_member(target_dsn);
      } catch (const std::exception& e) {
        die(std::string("reading pg_auth_members: ") + e.what());
      }
      const double bound = n + health_interval + 1.0;
      const bool held = r.expired && r.member_gone && r.outlived <= bound;
      std::printf("%4d %4d %9.2f %9.2f %6.0f %11.2f %15.2f %16.2f %11d %5s  %s\n", n, run, r.outage_measured,
                  r.outlived, bound, r.after_back, r.healthy_after_back, r.ended_after_healthy, r.failed_attempts,
                  held ? "yes" : "NO", r.member_gone ? "gone" : "STILL PRESENT");
      if (!r.expired)
        std::printf("     grant %s is %s after 120 s (ends_at %s, back %s)\n", id.c_str(), r.status.c_str(),
                    clock_text(ends_at).c_str(), clock_text(back).c_str());
      std::fflush(stdout);
      results.push_back(r);
    }
  }

  std::printf("\nper outage N (%d runs each; H = %d s; bound = N + H + 1 s):\n", runs, health_interval);
  std::printf("| N s | runs | outage measured, median s | healthy again after back, median / max s | outlived median s "
              "| outlived max s | after_back median s | after_back max s | bound s | held |\n"
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (int n : outages) {
    std::vector<double> outage, healthy, outlived, after_back;
    bool held = true;
    int count = 0;
    for (const auto& r : results) {
      if (r.outage != n) continue;
      ++count;
      outage.push_back(r.outage_measured);
      if (r.healthy_after_back >= 0) healthy.push_back(r.healthy_after_back);
      if (r.expired) {
        outlived.push_back(r.outlived);
        after_back.push_back(r.after_back);
      }
      held = held && r.expired && r.member_gone && r.outlived <= n + health_interval + 1.0;
    }
    std::printf("| %d | %d | %.2f | %.2f / %.2f | %.2f | %.2f | %.2f | %.2f | %d | %s |\n", n, count, median(outage),
                median(healthy), max_of(healthy), median(outlived), max_of(outlived), median(after_back),
                max_of(after_back), n + health_interval + 1, held ? "yes" : "**no**");
  }

  gatehouse::bench::stop_gatehoused(daemon_pid);
  daemon_pid = 0;
  target.reset();  // pg_ctl stop
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
