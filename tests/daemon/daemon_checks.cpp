#include "daemon_checks.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

namespace gatehouse::test {

nlohmann::json json_output(const ProcessResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

nlohmann::json error_of(const RawResponse& r) {
  INFO("status " << r.status << " body " << r.body);
  REQUIRE(r.headers.count("content-type"));
  CHECK_THAT(r.headers.at("content-type"), Catch::StartsWith("application/json"));
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  REQUIRE(body.contains("error"));
  REQUIRE(body["error"].contains("code"));
  REQUIRE(body["error"].contains("message"));
  REQUIRE(body["error"]["details"].is_array());
  return body["error"];
}

void apply_document(const DaemonFixture& d, const std::string& name, const std::string& yaml) {
  const auto applied = d.admin({"apply", "-f", d.dir.write(name, yaml)});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
}

void require_healthy(const DaemonFixture& d, const std::string& handler) {
  const auto checked = d.admin({"handler", "check", handler});
  INFO(checked.out << checked.err);
  REQUIRE(checked.exit_code == 0);
  REQUIRE_THAT(checked.out, Catch::Contains("is healthy"));
}

nlohmann::json grant_of(const DaemonFixture& d, const std::string& id) {
  return json_output(d.admin({"grant", "show", id, "-o", "json"}));
}

std::string last_change_reason(const nlohmann::json& grant) {
  const auto& history = grant.at("history");
  for (auto e = history.rbegin(); e != history.rend(); ++e)
    if (!e->value("note", false)) return e->value("reason", "");
  FAIL("the grant has no status change in its history: " << grant.dump());
  return {};
}

bool eventually(const std::function<bool()>& what) {
  for (int i = 0; i < 600; ++i) {
    if (what()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return what();
}

}  // namespace gatehouse::test
