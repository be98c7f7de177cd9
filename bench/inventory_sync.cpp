// Inventory sync throughput against `psql \copy` (issue 5, item 5; README "Inventory sync").
//
// Starts a private PostgreSQL (fsync on, default settings), syncs N synthetic users from the demo provider
// through the real registry and SyncEngine, then exports the same rows to CSV and loads them with
// `psql \copy` into an identical table (CREATE TABLE ... LIKE resources INCLUDING ALL). Reports both times,
// the ratio of throughputs and this process's peak RSS (getrusage ru_maxrss, taken before psql runs), then
// times a re-sync of the same rows for reference.
//
//   bench_inventory_sync [--users N (1000000)] [--page-size P (500)] [--concurrency C (2)] [--batch-rows B]
#include "inventory/sync_engine.hpp"
#include "loader/dll_loader.hpp"
#include "registry/registry.hpp"
#include "store/embedded_postgres.hpp"
#include "store/migrations.hpp"
#include "store/process.hpp"

#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace gatehouse::host;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_inventory_sync: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(Result<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().describe());
  return std::move(r.value());
}
void must(Result<void> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().describe());
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void psql(const store::EmbeddedPostgres& pg, const fs::path& bin, const std::string& command) {
  auto outcome = must(store::run_command({(bin / "psql").string(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                                          pg.socket_dir().string(), "-p", std::to_string(pg.port()), "-U",
                                          "postgres", "-d", "gatehouse", "-c", command},
                                         nullptr, std::chrono::minutes(30)),
                      "psql");
  if (outcome.exit_code != 0) die("psql failed: " + outcome.tail());
}

fs::path postgres_bin() {
  fs::path best;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql"))
    if (fs::exists(entry.path() / "bin" / "psql") && entry.path() > best) best = entry.path();
  if (best.empty()) die("no /usr/lib/postgresql/*/bin/psql");
  return best / "bin";
}

}  // namespace

int main(int argc, char** argv) {
  long users = 1'000'000;
  int page_size = 500;
  inventory::SyncOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long value = std::stol(argv[i + 1]);
    if (key == "--users") users = value;
    else if (key == "--page-size") page_size = static_cast<int>(value);
    else if (key == "--concurrency") options.concurrency = static_cast<std::size_t>(value);
    else if (key == "--batch-rows") options.batch_rows = static_cast<std::size_t>(value);
    else die("unknown option " + key);
  }
  spdlog::set_level(spdlog::level::warn);

  std::string root = (fs::temp_directory_path() / "gatehouse-bench-inventory-XXXXXX").string();
  if (mkdtemp(root.data()) == nullptr) die("mkdtemp");
  chmod(root.c_str(), 0711);  // the cluster's user must pass through
  store::EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = root + "/pg";
  pg_options.port = 50000 + static_cast<int>(getpid() % 10000);
  pg_options.sync_initdb = false;  // throwaway cluster; the server keeps fsync on
  auto pg = must(store::EmbeddedPostgres::start(pg_options), "start PostgreSQL");
  const fs::path bin = postgres_bin();
  {
    store::Database db(pg->connection_string(), store::DatabaseOptions{8, std::chrono::seconds(60)});
    must(store::migrate(db), "migrate");
    auto catalog = std::make_shared<registry::ProviderCatalog>();
    must(catalog->add(must(load_provider_in_process(BENCH_DEMO_SO), "load demo.so")), "catalog");
    must(catalog->record(db), "record providers");
    auto reg = must(registry::Registry::open(db, catalog), "open registry");
    setenv("GATEHOUSE_BENCH_DEMO_TOKEN", "bench-token-123456", 1);
    fs::create_directories(root + "/demo");
    // The demo serves 4 fixed users + synthetic ones, 2 groups and 2 projects.
    must(reg->create_handler({"demo-bench",
                              "gatehouse/demo@1.0.0",
                              {{"state_dir", root + "/demo"},
                               {"token", "env:GATEHOUSE_BENCH_DEMO_TOKEN"},
                               {"synthetic_users", users - 4},
                               {"page_size", page_size}}}),
         "create handler");

    inventory::SyncEngine engine(db, *reg, options);
    const auto sync_start = Clock::now();
    auto run = must(engine.run("demo-bench"), "sync");
    const double sync_s = seconds_since(sync_start);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    if (run.status != "succeeded") die("sync ended " + run.status + ": " + run.error);
    const auto rows = run.resources_written;

    const std::string csv = root + "/resources.csv";
    const std::string columns = "(handler_id, type, id, name, data, relations, loader, changed_run)";
    psql(*pg, bin, "\\copy (SELECT handler_id, type, id, name, data, relations, loader, changed_run FROM resources) "
                   "TO '" + csv + "' CSV");
    psql(*pg, bin, "CREATE TABLE resources_copy (LIKE resources INCLUDING ALL)");
    const auto copy_start = Clock::now();
    psql(*pg, bin, "\\copy resources_copy " + columns + " FROM '" + csv + "' CSV");
    const double copy_s = seconds_since(copy_start);

    // For reference (not part of the goal): a re-sync of the same, unchanged rows goes through staging + merge
    // and writes nothing.
    const auto resync_start = Clock::now();
    auto resync = must(engine.run("demo-bench"), "re-sync");
    const double resync_s = seconds_since(resync_start);
    if (resync.status != "succeeded") die("re-sync ended " + resync.status + ": " + resync.error);

    std::printf("rows: %lld (demo provider, page size %d, concurrency %zu, batch %zu rows)\n",
                static_cast<long long>(rows), page_size, options.concurrency, options.batch_rows);
    std::printf("gatehouse sync : %.2f s  (%.0f rows/s, peak buffered resources %lld)\n", sync_s, rows / sync_s,
                static_cast<long long>(run.peak_buffered_resources));
    std::printf("psql \\copy     : %.2f s  (%.0f rows/s, CSV %.0f MiB)\n", copy_s, rows / copy_s,
                static_cast<double>(fs::file_size(csv)) / (1024.0 * 1024.0));
    std::printf("ratio          : gatehouse throughput = %.0f%% of psql \\copy (goal >= 70%%)\n",
                100.0 * copy_s / sync_s);
    std::printf("re-sync        : %.2f s  (%.0f rows/s, %lld rows written: unchanged rows are not rewritten)\n",
                resync_s, rows / resync_s, static_cast<long long>(resync.resources_written));
    std::printf("peak RSS       : %.1f MiB (goal <= 256 MiB)\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
  }
  must(pg->stop(), "stop PostgreSQL");
  pg.reset();
  fs::remove_all(root);
  return 0;
}
