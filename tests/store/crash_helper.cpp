// Starts the process's TestPostgres, prints "<root> <postmaster pid>" and dies by SIGKILL, skipping every
// destructor: the test checks that the fixture's watcher still shuts the cluster down and deletes it.
#include "postgres_fixture.hpp"

#include <signal.h>

#include <cstdio>

int main() {
  auto& postgres = gatehouse::test::TestPostgres::instance();
  std::printf("%s %ld\n", postgres.root().c_str(), postgres.cluster().postmaster_pid());
  std::fflush(stdout);
  raise(SIGKILL);
  return 1;
}
