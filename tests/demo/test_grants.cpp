// Grants and revokes: real, idempotent, durable and confined to the state directory.
#include "demo_fixture.hpp"

using namespace demo_test;

namespace {

// Every file under `root` (recursively), as paths relative to it.
std::vector<std::string> tree(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) out.push_back(fs::relative(entry.path(), root));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("demo grant writes the grant record and a grant event") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto request = grant_request("g-1", "alice@example.com", project_role("apollo", "editor"));

  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);
  CHECK_FALSE(granted.result.already_exists);
  CHECK(nlohmann::json::parse(granted.result.state) ==
        nlohmann::json{{"file", "grants/g-1.json"}, {"project", "apollo"}, {"role", "editor"}});

  const auto record = nlohmann::json::parse(read_text(dir.path() / "grants" / "g-1.json"));
  CHECK(record["grant_id"] == "g-1");
  CHECK(record["subject"] == "alice@example.com");
  CHECK(record["project"] == "apollo");
  CHECK(record["role"] == "editor");
  for (const char* time : {"starts_at", "ends_at", "granted_at"}) {
    CHECK_THAT(record[time].get<std::string>(), Catch::EndsWith("Z"));
  }

  const auto log = events(dir.path());
  REQUIRE(log.size() == 1);
  CHECK(log[0]["event"] == "grant");
  CHECK(log[0]["grant_id"] == "g-1");
  CHECK(log[0]["subject"] == "alice@example.com");
  CHECK(log[0]["project"] == "apollo");
  CHECK(log[0]["role"] == "editor");
  CHECK(log[0].contains("at"));

  // Nothing half-written is left behind, and the token is in no file.
  CHECK(grant_files(dir.path()) == std::vector<std::string>{"g-1.json"});
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    if (entry.is_regular_file()) CHECK_THAT(read_text(entry.path()), !Catch::Contains(kToken));
  }
}

TEST_CASE("demo repeated grant reports already_exists with the same state") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto request = grant_request("g-2", "bob@example.com", project_role("zephyr", "viewer"));

  const auto first = instance.grant(request);
  REQUIRE(first.code == Code::ok);
  const auto second = instance.grant(request);
  CHECK(second.ok());
  CHECK(second.code == Code::already_exists);
  CHECK(second.result.already_exists);
  CHECK(second.result.state == first.result.state);
  CHECK(events(dir.path()).size() == 1);
}

TEST_CASE("demo grant id reused for a different grant is refused") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  REQUIRE(instance.grant(grant_request("g-3", "carol@example.com", project_role("apollo", "viewer"))).code == Code::ok);
  const auto before = read_text(dir.path() / "grants" / "g-3.json");

  for (const auto& other : {grant_request("g-3", "carol@example.com", project_role("apollo", "admin")),
                            grant_request("g-3", "carol@example.com", project_role("zephyr", "viewer")),
                            grant_request("g-3", "dave@example.com", project_role("apollo", "viewer"))}) {
    const auto reused = instance.grant(other);
    CHECK(reused.code == Code::invalid_argument);
    CHECK_THAT(reused.message, Catch::Contains("reused"));
    CHECK(has_path(reused.diagnostics, "/grant_id"));
  }
  CHECK(read_text(dir.path() / "grants" / "g-3.json") == before);
  CHECK(events(dir.path()).size() == 1);
}

TEST_CASE("demo refuses hostile grant ids and writes nothing outside its state directory") {
  TempDir root;
  const fs::path state_dir = root.path() / "a" / "b" / "state";
  fs::create_directories(state_dir);
  auto instance = demo_provider().create(config_for(state_dir));
  const auto before = tree(root.path());

  const std::vector<std::string> hostile{"../../etc/passwd", "../escape", "/tmp/absolute",        "a/b",
                                         "",                 "has space", std::string(129, 'x'), "new\nline",
                                         std::string("nul\0byte", 8)};
  for (const std::string& id : hostile) {
    INFO("grant id: " << id);
    const auto granted = instance.grant(grant_request(id, "alice@example.com", project_role("apollo", "viewer")));
    CHECK(granted.code == Code::invalid_argument);
    CHECK(has_path(granted.diagnostics, "/grant_id"));
    const auto revoked = instance.revoke(revoke_request(grant_request(id, "alice@example.com", {}), ""));
    CHECK(revoked.code == Code::invalid_argument);
  }
  CHECK(tree(root.path()) == before);

  // The longest and oddest valid ids stay inside grants/.
  for (const std::string& id : std::vector<std::string>{std::string(128, 'x'), "..", "a:b.c_d-e"}) {
    CHECK(instance.grant(grant_request(id, "alice@example.com", project_role("apollo", "viewer"))).code == Code::ok);
    CHECK(fs::exists(state_dir / "grants" / (id + ".json")));
  }
}

TEST_CASE("demo revoke removes the record and a second revoke reports already_revoked") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto request = grant_request("g-4", "dave@example.com", project_role("zephyr", "admin"));
  const auto granted = instance.grant(request);
  REQUIRE(granted.code == Code::ok);

  const auto revoked = instance.revoke(revoke_request(request, granted.result.state));
  CHECK(revoked.code == Code::ok);
  CHECK_FALSE(revoked.result.already_revoked);
  CHECK_FALSE(fs::exists(dir.path() / "grants" / "g-4.json"));
  const auto log = events(dir.path());
  REQUIRE(log.size() == 2);
  CHECK(log[1]["event"] == "revoke");
  CHECK(log[1]["grant_id"] == "g-4");
  CHECK(log[1]["subject"] == "dave@example.com");
  CHECK(log[1]["project"] == "zephyr");
  CHECK(log[1]["role"] == "admin");

  const auto again = instance.revoke(revoke_request(request, granted.result.state));
  CHECK(again.ok());
  CHECK(again.code == Code::already_revoked);
  CHECK(again.result.already_revoked);
  CHECK(events(dir.path()).size() == 2);

  // The id is free again once revoked.
  CHECK(instance.grant(request).code == Code::ok);
}

TEST_CASE("demo grant validates subject and target, naming the field") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  struct Case {
    gatehouse::GrantRequest request;
    std::string path;
  };
  const std::vector<Case> cases{
      {grant_request("v-1", "alice@example.com", project_role("hermes", "viewer")), "/target/project"},
      {grant_request("v-2", "alice@example.com", project_role("apollo", "owner")), "/target/role"},
      {grant_request("v-3", "alice@example.com", {"ProjectRole", {{"project", "apollo"}}}), "/target/role"},
      {grant_request("v-4", "alice@example.com", {"ProjectRole", {{"role", "viewer"}}}), "/target/project"},
      {grant_request("v-5", "", project_role("apollo", "viewer")), "/subject"},
      {grant_request("v-6", "alice@example.com", {"Database", {{"project", "apollo"}, {"role", "viewer"}}}),
       "/target/kind"},
  };
  for (const auto& c : cases) {
    INFO("expected fault at " << c.path);
    const auto granted = instance.grant(c.request);
    CHECK(granted.code == Code::invalid_argument);
    CHECK(has_path(granted.diagnostics, c.path));
  }
  CHECK(grant_files(dir.path()).empty());
  CHECK_FALSE(fs::exists(dir.path() / "events.log"));
}

TEST_CASE("demo grant into an unusable state directory is unavailable and names it") {
  TempDir root;
  const fs::path missing = root.path() / "not-created";
  auto instance = demo_provider().create(config_for(missing));
  const auto granted = instance.grant(grant_request("u-1", "alice@example.com", project_role("apollo", "viewer")));
  CHECK(granted.code == Code::unavailable);
  CHECK(gatehouse::is_retryable(granted.code));
  CHECK_THAT(granted.message, Catch::Contains(missing.string()) && Catch::Contains("No such file or directory"));
  CHECK_FALSE(fs::exists(missing));  // the provider does not invent the operator's directory

  // Once the operator creates it, the same instance works.
  fs::create_directory(missing);
  CHECK(instance.grant(grant_request("u-1", "alice@example.com", project_role("apollo", "viewer"))).code == Code::ok);
  CHECK(fs::exists(missing / "grants" / "u-1.json"));
}

TEST_CASE("demo does not overwrite a damaged record but still revokes it") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto request = grant_request("d-1", "alice@example.com", project_role("apollo", "viewer"));
  std::ofstream(dir.path() / "grants" / "d-1.json") << "{ half a rec";

  const auto granted = instance.grant(request);
  CHECK(granted.code == Code::failed_precondition);
  CHECK_THAT(granted.message, Catch::Contains("grants/d-1.json") && Catch::Contains("damaged"));
  CHECK(read_text(dir.path() / "grants" / "d-1.json") == "{ half a rec");

  const auto revoked = instance.revoke(revoke_request(request, ""));
  CHECK(revoked.code == Code::ok);
  CHECK_FALSE(fs::exists(dir.path() / "grants" / "d-1.json"));
  const auto log = events(dir.path());
  REQUIRE(log.size() == 1);
  CHECK(log[0]["event"] == "revoke");
  CHECK(log[0]["grant_id"] == "d-1");
}
