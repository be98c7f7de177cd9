// A grant engine in its own process, for the crash tests: it runs against the test's database with the
// test's handlers (same state directories) until told to stop by time, or until it is killed.
//
//   grant_engine_worker <connection> <engine id> <crash on: none|grant|revoke> <run ms> <handler>=<state dir>...
//
// "crash on grant/revoke" makes the process die by SIGKILL right after the provider answered that call,
// before the engine commits anything. The first handler gets priority 100, the next 50, then 25...
// GRANT_WORKER_LEASE_MS overrides the claim lease (World::fast_options: 2 s).
#include "grant_test_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s <connection> <engine id> <none|grant|revoke> <run ms> <handler>=<dir>...\n",
                 argv[0]);
    return 2;
  }
  try {
    const std::string connection = argv[1];
    const std::string engine_id = argv[2];
    const std::string crash_on = std::string(argv[3]) == "none" ? "" : argv[3];
    const auto run_for = std::chrono::milliseconds(std::stoll(argv[4]));

    grant_test::World world("unused", connection);
    std::vector<gatehouse::host::routing::Route> routes;
    int priority = 100;
    for (int i = 5; i < argc; ++i) {
      const std::string arg = argv[i];
      const auto eq = arg.find('=');
      if (eq == std::string::npos) return 2;
      const std::string handler = arg.substr(0, eq);
      world.add_handler(handler, true, arg.substr(eq + 1), crash_on);
      routes.push_back({grant_test::kGroup, handler, "Thing", priority, true});
      priority = std::max(1, priority / 2);
    }
    world.routes(routes);
    auto options = grant_test::World::fast_options(engine_id);
    if (const char* lease = std::getenv("GRANT_WORKER_LEASE_MS"))
      options.lease = std::chrono::milliseconds(std::stoll(lease));
    gatehouse::host::grants::GrantEngine engine(world.db(), world.plane(), options);
    engine.start();
    std::printf("started\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(run_for);
    engine.stop();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine worker: %s\n", e.what());
    return 1;
  }
}
