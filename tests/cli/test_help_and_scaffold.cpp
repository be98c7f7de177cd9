// Help texts an operator reads, and `gatehouse provider new` as an author starts with it: the real binaries.
#include "paths.hpp"
#include "run_process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using gatehouse::test::cli_path;
using gatehouse::test::read_text_file;
using gatehouse::test::run_process;
using gatehouse::test::TempDir;

namespace {

std::string gatehoused_path() { return std::string(GATEHOUSE_BINARY_DIR) + "/host/daemon/gatehoused"; }

// The subcommand names listed under "Subcommands:" in a CLI11 help text.
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream lines(help);
  std::string line;
  bool in_list = false;
  while (std::getline(lines, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.size() < 3 || line[0] != ' ' || line[1] != ' ' || line[2] == ' ') {
      if (line.empty() || line[0] != ' ') in_list = false;
      continue;
    }
    out.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

// Every command's --help, depth first, as {command line, help text}.
void collect_help(const std::string& binary, std::vector<std::string> path,
                  std::vector<std::pair<std::string, std::string>>& out) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), path.begin(), path.end());
  argv.push_back("--help");
  auto r = run_process(argv);
  std::string line;
  for (const auto& a : path) line += (line.empty() ? "" : " ") + a;
  INFO(line << ": " << r.err);
  CHECK(r.exit_code == 0);
  out.emplace_back(line, r.out);
  for (const auto& sub : subcommands_in(r.out)) {
    auto next = path;
    next.push_back(sub);
    collect_help(binary, next, out);
  }
}

}  // namespace

TEST_CASE("no help text prints CLI11's internals", "[cli][help]") {
  for (const auto& binary : {cli_path(), gatehoused_path()}) {
    std::vector<std::pair<std::string, std::string>> helps;
    collect_help(binary, {}, helps);
    CHECK(helps.size() > (binary == cli_path() ? 30u : 4u));  // the walk found the commands
    for (const auto& [command, text] : helps) {
      INFO(binary << " " << command << " --help:\n" << text);
      CHECK_THAT(text, !Catch::Contains("ENUM") && !Catch::Contains("->") && !Catch::Contains("value in {"));
    }
  }
  auto inspect = run_process({cli_path(), "provider", "inspect", "--help"});
  CHECK_THAT(inspect.out, Catch::Contains("-o,--output FORMAT") && Catch::Contains("table (for people, the default) or json"));
}

TEST_CASE("gatehoused token new --help describes token new, not the daemon", "[cli][help]") {
  auto help = run_process({gatehoused_path(), "token", "new", "--help"});
  INFO(help.out << help.err);
  REQUIRE(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Generate an API token") && Catch::Contains("--name") &&
                           Catch::Contains("--role") && Catch::Contains("api.tokens"));
  CHECK_THAT(help.out, !Catch::Contains("embedded PostgreSQL") && !Catch::Contains("check-config"));
}

TEST_CASE("provider new writes the publisher once, in CMakeLists.txt", "[cli][scaffold]") {
  TempDir dir("gatehouse-scaffold");
  const std::string root = dir.path() + "/rooms";
  auto made = run_process({cli_path(), "provider", "new", "my_rooms", "--publisher", "acme-labs", "--dir", root});
  INFO(made.out << made.err);
  REQUIRE(made.exit_code == 0);
  CHECK_THAT(made.out, Catch::Contains("acme-labs/my-rooms"));

  const std::string cmake = read_text_file(root + "/CMakeLists.txt");
  CHECK_THAT(cmake, Catch::Contains("gatehouse_add_provider(my_rooms SOURCES src/my_rooms.cpp PUBLISHER acme-labs)"));
  // Written once: the CMake files carry it in one call, the sources and tests take it from there.
  std::size_t count = 0;
  for (auto at = cmake.find("acme-labs"); at != std::string::npos; at = cmake.find("acme-labs", at + 1)) ++count;
  CHECK(count == 1);
  const std::string source = read_text_file(root + "/src/my_rooms.cpp");
  CHECK_THAT(source, Catch::Contains("GATEHOUSE_PROVIDER(MyRoomsProvider, GATEHOUSE_PROVIDER_PUBLISHER, \"my-rooms\""));
  CHECK_THAT(source, !Catch::Contains("acme-labs") && !Catch::Contains("\"example\""));
  CHECK_THAT(read_text_file(root + "/tests/my_rooms_test.cpp"), !Catch::Contains("acme-labs"));
  CHECK_THAT(read_text_file(root + "/README.md"),
             Catch::Contains("acme-labs/my-rooms@0.1.0") && Catch::Contains("provider-authors.md"));

  auto bad = run_process({cli_path(), "provider", "new", "other", "--publisher", "Acme_Labs", "--dir", dir.path() + "/o"});
  CHECK(bad.exit_code == 3);
  CHECK_THAT(bad.err, Catch::Contains("the publisher 'Acme_Labs' may only contain lowercase letters, digits and '-'"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/o"));
}

TEST_CASE("provider inspect shows target-kind and property descriptions and every limit, one way", "[cli][inspect]") {
  const std::string hello = std::string(GATEHOUSE_BINARY_DIR) + "/sdk/examples/hello/hello.so";
  auto shown = run_process({cli_path(), "provider", "inspect", hello});
  INFO(shown.out << shown.err);
  REQUIRE(shown.exit_code == 0);
  for (const char* expected : {"Booking — Seats booked in a room", "Books seats in a room, optionally with a moderator",
                               "Lowercase letters, digits and '-'", "matches ^[a-z][a-z0-9-]*$; at most 32 characters",
                               "1 to 50", "true or false", "DESCRIPTION"}) {
    CHECK_THAT(shown.out, Catch::Contains(expected));
  }
  // The demo provider's enum, as every other command writes enums.
  auto demo = run_process({cli_path(), "provider", "inspect", gatehouse::test::demo_provider_path()});
  CHECK_THAT(demo.out, Catch::Contains("one of viewer, editor"));
}
