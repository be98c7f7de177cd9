// API benchmark (bench/README.md "API"): the real gatehoused on the embedded default (its own PostgreSQL in a
// temp directory, fsync on), the demo provider, and C concurrent keep-alive clients over loopback.
//
//   bench_api [--clients 1,4,16] [--seconds S] [--demo-dir DIR]
//
// Rows: GET /healthz (the transport floor: no token, no database), GET /v1/grants/{id} (authenticated, one
// grant and its history read from PostgreSQL), POST /v1/grants (authenticated, validated, one durable insert
// with its history row and audit rows; activation happens afterwards in the engine, not in the measurement).
// For each: requests/s and latency percentiles of complete request/response exchanges.
#include "daemon_bench_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_api: %s\n", what.c_str());
  std::exit(1);
}

using gatehouse::bench::free_port;
using gatehouse::bench::sha256_hex;

// One keep-alive HTTP/1.1 connection, for one client thread.
class Connection {
 public:
  explicit Connection(int port) : fd_(gatehouse::bench::connect_loopback(port)) {
    if (fd_ < 0) die("connect failed");
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Returns the status; the body in `body`.
  int exchange(const std::string& request, std::string* body = nullptr) {
    const int status = gatehouse::bench::exchange(fd_, request, body);
    if (status == 0) die("connection closed by gatehoused");
    if (status < 0) die("response without Content-Length");
    return status;
  }

 private:
  int fd_ = -1;
};

std::string request(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = "") {
  return gatehouse::bench::http_request(method, target, token, body);
}

struct Row {
  std::string name;
  int clients = 0;
  double seconds = 0;
  std::vector<double> latencies_us;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Runs `make_request(client, i)` on `clients` connections for `seconds`.
Row measure(const std::string& name, int port, int clients, double seconds,
            const std::function<std::string(int, long)>& make_request, int expect) {
  std::vector<std::vector<double>> per(static_cast<std::size_t>(clients));
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(port);
      while (!go) std::this_thread::yield();
      for (long i = 0; !stop; ++i) {
        const auto req = make_request(c, i);
        const auto t0 = Clock::now();
        std::string body;
        const int status = conn.exchange(req, &body);
        const auto t1 = Clock::now();
        if (status != expect) die(name + ": HTTP " + std::to_string(status) + " " + body);
        per[static_cast<std::size_t>(c)].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    });
  }
  const auto start = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  Row row{name, clients, std::chrono::duration<double>(Clock::now() - start).count(), {}};
  for (auto& v : per) row.latencies_us.insert(row.latencies_us.end(), v.begin(), v.end());
  return row;
}

std::vector<int> list_of(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

// Runs a shell command and returns what it printed (stdout), or dies.
std::string output_of(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) die("cannot run: " + command);
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  if (pclose(pipe) != 0) die("failed: " + command + "\n" + out);
  return out;
}

// pgbench's transactions/s ("tps = 1234.5 (without initial connection time)") for one script and client count,
// against the daemon's own embedded cluster: the anchor of the same run (issue 14 "Measure").
double pgbench_tps(const std::string& target, const char* mode, int clients, double seconds) {
  const std::string out = output_of("pgbench " + target + " -n " + mode + " -c " + std::to_string(clients) + " -j " +
                                    std::to_string(std::min(clients, 2)) + " -T " +
                                    std::to_string(static_cast<int>(seconds)) + " pgbench_anchor 2>&1");
  const auto at = out.find("tps = ");
  if (at == std::string::npos) die("pgbench printed no tps:\n" + out);
  return std::stod(out.substr(at + 6));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> clients{1, 4, 16};
  double seconds = 5;
  std::string demo_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--clients") clients = list_of(value);
    else if (flag == "--seconds") seconds = std::stod(value);
    else if (flag == "--demo-dir") demo_dir = value;
    else die("unknown option " + flag);
  }

  char pattern[] = "/tmp/gatehouse-bench-api-XXXXXX";
  if (!mkdtemp(pattern)) die("mkdtemp failed");
  const fs::path dir = pattern;
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const fs::path demo_state = demo_dir.empty() ? dir / "demo-state" : fs::path(demo_dir) / "gatehouse-bench-api-demo";
  fs::create_directories(demo_state);
  const int port = free_port();
  const std::string token = "gh_bench_admin_token";
  std::ofstream(dir / "gatehoused.yaml") << "listen: 127.0.0.1:" << port << "\ndata_dir: " << (dir / "data").string()
                                         << "\nproviders:\n  search_paths: [" << fs::path(BENCH_DEMO_SO).parent_path().string()
                                         << "]\nlogging:\n  level: warn\napi:\n  threads: 4\n  tokens:\n"
                                         << "    - {name: bench, role: admin, sha256: " << sha256_hex(token) << "}\n";
  std::string why;
  const pid_t pid = gatehouse::bench::start_gatehoused(BENCH_GATEHOUSED, (dir / "gatehoused.yaml").string(),
                                                       (dir / "gatehoused.log").string(),
                                                       {{"DEMO_TOKEN", "bench-demo-token"}}, port, why);
  if (pid < 0) die(why);

  Connection admin(port);
  const std::string setup = R"({"handlers":[{"id":"demo","provider":"gatehouse/demo@1.0.0","config":{"state_dir":")" +
                            demo_state.string() +
                            R"(","token":"env:DEMO_TOKEN"}}],"target_groups":[{"id":"projects","kind":"gatehouse/demo@1.0.0/ProjectRole"}],"routes":[{"target_group":"projects","handler":"demo","priority":100}]})";
  std::string body;
  if (admin.exchange(request("POST", "/v1/apply", token, setup), &body) != 200) die("apply failed: " + body);
  admin.exchange(request("POST", "/v1/handlers/demo/check", token, "{}"));
  if (admin.exchange(request("POST", "/v1/grants", token,
                             R"({"subject":"bench@example.com","target_group":"projects","target":{"project":"apollo","role":"viewer"},"duration":"8h"})"),
                     &body) != 201)
    die("grant request failed: " + body);
  const auto id_at = body.find("\"id\":\"");
  const std::string grant_id = body.substr(id_at + 6, 36);

  // The anchor: pgbench on the daemon's own cluster (same settings, same disk), scale 10, in its own database.
  const std::string pg = "-h " + (dir / "data" / "postgres" / "socket").string() + " -p 5432 -U postgres";
  output_of("psql " + pg + " -d postgres -qc 'CREATE DATABASE pgbench_anchor' 2>&1");
  output_of("pgbench " + pg + " -i -q -s 10 pgbench_anchor 2>&1");

  std::printf("gatehoused API over loopback, %.0f s per row (embedded PostgreSQL, fsync on)\n", seconds);
  std::printf("%-26s %8s %10s %9s %9s %9s\n", "request", "clients", "req/s", "p50 µs", "p90 µs", "p99 µs");
  std::atomic<long> serial{0};
  for (int c : clients) {
    std::vector<Row> rows;
    rows.push_back(measure("GET /healthz", port, c, seconds, [](int, long) { return request("GET", "/healthz", ""); }, 200));
    rows.push_back(measure("GET /v1/grants/{id}", port, c, seconds,
                           [&](int, long) { return request("GET", "/v1/grants/" + grant_id, token); }, 200));
    rows.push_back(measure("POST /v1/grants", port, c, seconds,
                           [&](int client, long) {
                             // A distinct subject per request: each is a new access (no overlap shortcut).
                             return request("POST", "/v1/grants", token,
                                            R"({"subject":"user-)" + std::to_string(client) + "-" +
                                                std::to_string(serial++) +
                                                R"(@example.com","target_group":"projects","target":{"project":"apollo","role":"viewer"},"duration":"1h"})");
                           },
                           201));
    for (auto& r : rows)
      std::printf("%-26s %8d %10.0f %9.0f %9.0f %9.0f\n", r.name.c_str(), r.clients,
                  static_cast<double>(r.latencies_us.size()) / r.seconds, percentile(r.latencies_us, 0.5),
                  percentile(r.latencies_us, 0.9), percentile(r.latencies_us, 0.99));
    const double select_only = pgbench_tps(pg, "-S", c, seconds);
    const double simple_update = pgbench_tps(pg, "-N", c, seconds);
    const auto rate = [](const Row& r) { return static_cast<double>(r.latencies_us.size()) / r.seconds; };
    std::printf("%-26s %8d %10.0f   GET /v1/grants/{id} = %.0f %% of it\n", "pgbench -S (anchor)", c, select_only,
                100.0 * rate(rows[1]) / select_only);
    std::printf("%-26s %8d %10.0f   POST /v1/grants = %.0f %% of it\n", "pgbench -N (anchor)", c, simple_update,
                100.0 * rate(rows[2]) / simple_update);
  }
  gatehouse::bench::stop_gatehoused(pid);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!demo_dir.empty()) fs::remove_all(demo_state, ec);
  return 0;
}
