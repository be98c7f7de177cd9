// docs/api.md lists every endpoint the server routes, and nothing else: its Endpoints table is compared with
// the router's own table (api::route_table(), the one ApiService::handle dispatches on), method and path, and
// the least role that may call each. A route added without its doc line, or a doc line left after its route
// went, fails here with the line to write or remove.
#include "api/api_service.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using gatehouse::host::api::route_table;

// "/v1/providers/{publisher}/{name}@{version}" → "/v1/providers/{}/{}": any segment holding a placeholder is one
// placeholder (the doc may spell a segment's parts, the router names the whole segment).
std::string shape_of(const std::string& path) {
  std::string out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string segment = path.substr(start, end - start);
    out += "/" + (segment.find('{') != std::string::npos ? std::string("{}") : segment);
    start = end + 1;
  }
  return out;
}

struct DocLine {
  std::string method, path, role;
  int line = 0;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  const auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The rows of the "## Endpoints" table: | `METHOD /path` | role | … |. An optional tail `[/{kind}]` stands for
// two routes, with and without it.
std::vector<DocLine> documented_endpoints(const std::string& file) {
  std::ifstream in(file);
  REQUIRE(in.good());
  std::vector<DocLine> out;
  std::string line;
  bool in_section = false;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Endpoints";
    if (!in_section || line.rfind("| `", 0) != 0) continue;
    const auto close = line.find('`', 3);
    REQUIRE(close != std::string::npos);
    const std::string cell = line.substr(3, close - 3);  // "GET /v1/grants/{id}"
    const auto space = cell.find(' ');
    REQUIRE(space != std::string::npos);
    const std::string method = cell.substr(0, space);
    std::string path = cell.substr(space + 1);
    const auto after = line.find('|', close);
    const auto role_end = line.find('|', after + 1);
    std::string role = trim(line.substr(after + 1, role_end - after - 1));
    role = role.substr(0, role.find(' '));  // "requester (own)" → "requester"
    if (auto optional = path.find('['); optional != std::string::npos) {
      const std::string tail = path.substr(optional + 1, path.find(']') - optional - 1);
      path = path.substr(0, optional);
      out.push_back({method, path + tail, role, number});
    }
    out.push_back({method, path, role, number});
  }
  return out;
}

}  // namespace

TEST_CASE("docs/api.md lists exactly the endpoints the router serves, with the least role of each", "[api][docs]") {
  const std::string file = std::string(GATEHOUSE_SOURCE_DIR) + "/docs/api.md";
  const auto documented = documented_endpoints(file);
  const auto routes = route_table();
  REQUIRE(routes.size() > 30);  // the table is the real one

  std::map<std::string, DocLine> by_key;  // "GET /v1/grants/{}"
  for (const auto& d : documented) by_key[d.method + " " + shape_of(d.path)] = d;
  std::set<std::string> routed;
  for (const auto& r : routes) {
    const std::string key = r.method + " " + shape_of(r.path);
    routed.insert(key);
    INFO("route " << r.method << " " << r.path << " (" << r.least_role << ")");
    auto doc = by_key.find(key);
    if (doc == by_key.end()) {
      FAIL_CHECK("docs/api.md has no line for " << r.method << " " << r.path << ": add | `" << r.method << " " << r.path
                                                << "` | " << r.least_role << " | … | to its Endpoints table");
      continue;
    }
    INFO("docs/api.md line " << doc->second.line);
    CHECK(doc->second.role == r.least_role);
  }
  for (const auto& d : documented) {
    if (!routed.count(d.method + " " + shape_of(d.path)))
      FAIL_CHECK("docs/api.md line " << d.line << " documents " << d.method << " " << d.path
                                     << ", which the router does not serve");
  }
}

TEST_CASE("the doc comparison matches paths across placeholder names, never across literal segments", "[api][docs]") {
  // The comparison itself: shapes match across placeholder names, and differ on literal segments.
  CHECK(shape_of("/v1/providers/{publisher}/{name}@{version}") == shape_of("/v1/providers/{publisher}/{name}"));
  CHECK(shape_of("/v1/handlers/{id}/check") != shape_of("/v1/handlers/{id}"));
  CHECK(shape_of("/v1/target-groups/{id}/options") != shape_of("/v1/target-groups/{id}/routes"));
  CHECK(shape_of("/healthz") == "/healthz");
}
