#include "grant_test_support.hpp"

#include "loader/dll_loader.hpp"
#include "postgres_fixture.hpp"
#include "run_process.hpp"
#include "store/migrations.hpp"

#include <gatehouse/provider/v1/provider.pb.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace grant_test {

namespace fs = std::filesystem;
namespace host = gatehouse::host;

std::string scripted_provider_path() {
  return std::string(GATEHOUSE_BINARY_DIR) + "/tests/fixtures/fixture_scripted_provider.so";
}
std::string demo_provider_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/plugins/demo/demo.so"; }
std::string engine_worker_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/tests/grants/grant_engine_worker"; }

namespace {

std::shared_ptr<host::ProviderModule> load(const std::string& path) {
  auto module = host::load_provider_in_process(path);
  if (!module.ok()) throw std::runtime_error("cannot load " + path + ": " + module.error().describe());
  return std::move(module).value();
}

class CrashingClient final : public host::ProviderClient {
 public:
  CrashingClient(std::shared_ptr<host::ProviderClient> inner, std::string crash_on)
      : inner_(std::move(inner)), crash_on_(std::move(crash_on)) {}

  bool enforces_deadline() const override { return inner_->enforces_deadline(); }
  gatehouse::host::Result<std::string> call(std::string_view request_bytes, gatehouse::host::CallDeadline deadline) override {
    auto reply = inner_->call(request_bytes, deadline);
    gatehouse::provider::v1::Request request;
    if (request.ParseFromArray(request_bytes.data(), static_cast<int>(request_bytes.size()))) {
      if ((crash_on_ == "grant" && request.has_grant()) || (crash_on_ == "revoke" && request.has_revoke()))
        raise(SIGKILL);  // the provider acted; the engine never hears about it
    }
    return reply;
  }

 private:
  std::shared_ptr<host::ProviderClient> inner_;
  std::string crash_on_;
};

}  // namespace

std::shared_ptr<host::ProviderModule> scripted_module() {
  static std::once_flag once;
  static std::shared_ptr<host::ProviderModule> module;
  std::call_once(once, [] { module = load(scripted_provider_path()); });
  return module;
}

std::shared_ptr<host::ProviderModule> demo_module() {
  static std::once_flag once;
  static std::shared_ptr<host::ProviderModule> module;
  std::call_once(once, [] { module = load(demo_provider_path()); });
  return module;
}

std::shared_ptr<host::ProviderClient> crashing_client(std::shared_ptr<host::ProviderClient> inner,
                                                      std::string crash_on) {
  return std::make_shared<CrashingClient>(std::move(inner), std::move(crash_on));
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

std::string scalar(store::Database& db, const std::string& sql) {
  auto r = db.with_transaction([&](pqxx::work& txn) -> std::string {
    const auto rows = txn.exec(sql);
    if (rows.empty() || rows[0][0].is_null()) return "";
    return rows[0][0].c_str();
  });
  if (!r.ok()) throw std::runtime_error("query failed: " + sql + ": " + r.error().describe());
  return *r;
}

long long count(store::Database& db, const std::string& sql) {
  const std::string v = scalar(db, sql);
  return v.empty() ? 0 : std::stoll(v);
}

World::World(const std::string& name_hint, const std::string& connection) {
  if (connection.empty()) {  // a helper process joining a test's world uses the test's directories
    std::string pattern = (fs::temp_directory_path() / "gatehouse-grants-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
  }
  connection_ = connection.empty() ? gatehouse::test::TestPostgres::instance().fresh_database(name_hint) : connection;
  db_ = std::make_unique<store::Database>(connection_, store::DatabaseOptions{16, std::chrono::seconds(30)});
  if (connection.empty()) {
    auto migrated = store::migrate(*db_);
    if (!migrated.ok()) throw std::runtime_error("migrate: " + migrated.error().describe());
  }
  const nlohmann::json kind = scripted_module()->schema()["targets"]["Thing"];
  auto inserted = db_->with_transaction([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO target_groups (id, provider_publisher, provider_name, provider_version, kind, kind_schema, "
        "max_duration_seconds) VALUES ($1, 'gatehouse-tests', 'scripted', '1.0.0', 'Thing', $2::jsonb, 3600) "
        "ON CONFLICT DO NOTHING",
        std::string(kGroup), kind.dump());
  });
  if (!inserted.ok()) throw std::runtime_error("target group: " + inserted.error().describe());
  plane_.set_target_group(grants::TargetGroupView{kGroup, "Thing", kind, std::chrono::seconds(3600)});
}

World::~World() {
  std::error_code ignored;
  if (!root_.empty()) fs::remove_all(root_, ignored);
}

void World::add_handler(const std::string& id, bool healthy, const std::string& state_dir,
                        const std::string& crash_on) {
  if (state_dir.empty() && root_.empty()) throw std::runtime_error("handler " + id + " needs a state directory");
  const std::string dir = state_dir.empty() ? root_ + "/" + id : state_dir;
  fs::create_directories(dir);
  dirs_[id] = dir;
  auto client = scripted_module()->create(nlohmann::json{{"state_dir", dir}}, id);
  if (!client.ok()) throw std::runtime_error("create " + id + ": " + client.error().describe());
  std::shared_ptr<host::ProviderClient> shared = std::move(client).value();
  if (!crash_on.empty()) shared = crashing_client(std::move(shared), crash_on);
  plane_.set_handler(id, std::move(shared), healthy);
}

void World::add_demo_handler(const std::string& id, const std::string& token) {
  const std::string dir = root_ + "/" + id;
  fs::create_directories(dir);
  dirs_[id] = dir;
  auto client = demo_module()->create(nlohmann::json{{"state_dir", dir}, {"token", token}}, id);
  if (!client.ok()) throw std::runtime_error("create " + id + ": " + client.error().describe());
  plane_.set_handler(id, std::shared_ptr<host::ProviderClient>(std::move(client).value()), true);
  const nlohmann::json kind = demo_module()->schema()["targets"]["ProjectRole"];
  auto inserted = db_->with_transaction([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO target_groups (id, provider_publisher, provider_name, provider_version, kind, kind_schema, "
        "max_duration_seconds) VALUES ('projects', 'gatehouse', 'demo', '1.0.0', 'ProjectRole', $1::jsonb, 3600) "
        "ON CONFLICT DO NOTHING",
        kind.dump());
  });
  if (!inserted.ok()) throw std::runtime_error("target group: " + inserted.error().describe());
  plane_.set_target_group(grants::TargetGroupView{"projects", "ProjectRole", kind, std::chrono::seconds(3600)});
}

void World::routes(const std::vector<routing::Route>& routes) {
  auto set = plane_.set_routes(routes);
  if (!set.ok()) throw std::runtime_error("routes: " + set.error().describe());
}

std::string World::dir(const std::string& handler) const { return dirs_.at(handler); }

void World::script(const std::string& handler, const std::string& file, const std::string& text) {
  const fs::path path = fs::path(dir(handler)) / file;
  if (text.empty()) {
    std::error_code ignored;
    fs::remove(path, ignored);
    return;
  }
  std::ofstream(path) << text << "\n";
}

std::vector<std::string> World::calls(const std::string& handler) const {
  std::vector<std::string> out;
  std::ifstream in(fs::path(dir(handler)) / "calls.log");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

long long World::calls_of(const std::string& handler, const std::string& line) const {
  long long n = 0;
  for (const auto& l : calls(handler)) n += l == line;
  return n;
}

std::set<std::string> World::grant_files(const std::string& handler) const {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir(handler)) / "grants", ec))
    out.insert(entry.path().filename().string());
  return out;
}

grants::GrantRequestSpec World::spec(const std::string& subject, std::chrono::seconds duration,
                                     const std::string& level) const {
  grants::GrantRequestSpec s;
  s.subject = subject;
  s.target_group = kGroup;
  s.target = {{"name", "box"}, {"level", level}};
  s.duration = duration;
  s.actor = "tester";
  return s;
}

grants::GrantEngineOptions World::fast_options(const std::string& engine_id) {
  grants::GrantEngineOptions o;
  o.engine_id = engine_id;
  o.workers = 2;
  o.poll_interval = 50ms;
  o.call_timeout = 500ms;
  o.lease = 2s;
  o.backoff.initial = 50ms;
  o.backoff.max = 200ms;
  o.backoff.jitter = 0.1;
  return o;
}

std::vector<std::pair<std::string, std::string>> transitions(grants::GrantEngine& engine, const std::string& id) {
  auto h = engine.history(id);
  if (!h.ok()) throw std::runtime_error("history: " + h.error().describe());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : *h) {
    if (e.is_note()) continue;
    out.emplace_back(e.from ? std::string(grants::to_string(*e.from)) : "-", std::string(grants::to_string(e.to)));
  }
  return out;
}

}  // namespace grant_test
