// What the grant tests share with their helper process (engine_worker): a real database from the test
// cluster, real providers (tests/fixtures scripted_provider.so, plugins/demo demo.so) loaded in process,
// handlers with their own state directories, and a StaticControlPlane with real RoutingTables over them.
#pragma once

#include "grants/grant_engine.hpp"
#include "grants/static_control_plane.hpp"
#include "loader/provider_client.hpp"
#include "store/database.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace grant_test {

using namespace std::chrono_literals;
namespace grants = gatehouse::host::grants;
namespace store = gatehouse::host::store;
namespace routing = gatehouse::host::routing;

std::string scripted_provider_path();
std::string demo_provider_path();
std::string engine_worker_path();

// The scripted provider module, loaded once per process.
std::shared_ptr<gatehouse::host::ProviderModule> scripted_module();
std::shared_ptr<gatehouse::host::ProviderModule> demo_module();

// Wraps a client: when `crash_on` ("grant" or "revoke") matches a call, the process dies by SIGKILL right
// after the provider answered (before the engine can commit anything).
std::shared_ptr<gatehouse::host::ProviderClient> crashing_client(std::shared_ptr<gatehouse::host::ProviderClient> inner,
                                                                 std::string crash_on);

// Polls `done` every 20 ms until it holds or `timeout` passes; returns its last answer.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// A single value from the database (first column of the first row, "" for NULL or no row).
std::string scalar(store::Database& db, const std::string& sql);
long long count(store::Database& db, const std::string& sql);

// The standard group of the grant tests: "things", kind Thing of the scripted provider, max 1 h.
inline constexpr const char* kGroup = "things";

// One test world. Handlers are scripted providers named by the caller, each with its own state directory.
class World {
 public:
  // A fresh database (migrated) with the target group row, or `connection` to an existing one.
  explicit World(const std::string& name_hint, const std::string& connection = "");
  ~World();

  store::Database& db() { return *db_; }
  const std::string& connection() const { return connection_; }
  grants::StaticControlPlane& plane() { return plane_; }

  // Adds a scripted handler; its state directory is created under this world's temp dir unless given.
  void add_handler(const std::string& id, bool healthy = true, const std::string& state_dir = "",
                   const std::string& crash_on = "");
  // Adds a demo-provider handler (kind ProjectRole) in its own group "projects".
  void add_demo_handler(const std::string& id, const std::string& token);
  void routes(const std::vector<routing::Route>& routes);
  std::string dir(const std::string& handler) const;

  // Script files of a handler ("mode", "grant_mode", "revoke_mode"); an empty text removes the file.
  void script(const std::string& handler, const std::string& file, const std::string& text);
  std::vector<std::string> calls(const std::string& handler) const;  // lines of calls.log
  long long calls_of(const std::string& handler, const std::string& line) const;
  std::set<std::string> grant_files(const std::string& handler) const;

  grants::GrantRequestSpec spec(const std::string& subject, std::chrono::seconds duration,
                                const std::string& level = "low") const;

  // Engine options for fast tests: short polls, timeouts and backoff.
  static grants::GrantEngineOptions fast_options(const std::string& engine_id);

 private:
  std::string root_;
  std::string connection_;
  std::unique_ptr<store::Database> db_;
  grants::StaticControlPlane plane_;
  std::map<std::string, std::string> dirs_;
};

// Statuses of a grant's transitions (notes excluded), e.g. {"-", "pending"}, {"pending", "active"}.
std::vector<std::pair<std::string, std::string>> transitions(grants::GrantEngine& engine, const std::string& id);

}  // namespace grant_test
