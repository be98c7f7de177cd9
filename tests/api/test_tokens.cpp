// API tokens: digests, constant-time verification, bearer header parsing, the role table.
#include "auth/roles.hpp"
#include "auth/tokens.hpp"

#include <catch2/catch.hpp>

using namespace gatehouse::host::auth;

TEST_CASE("tokens are verified against their SHA-256 digests", "[api][auth]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  TokenVerifier verifier({{"ops", Role::admin, sha256_hex("t-ops"), ""},
                          {"alice", Role::requester, sha256_hex("t-alice"), "alice@example.com"},
                          {"broken", Role::admin, "not-hex", ""}});
  auto ops = verifier.verify("t-ops");
  REQUIRE(ops);
  CHECK(ops->name == "ops");
  CHECK(ops->subject == "ops");
  CHECK(verifier.verify("t-alice")->subject == "alice@example.com");
  CHECK_FALSE(verifier.verify("t-op"));
  CHECK_FALSE(verifier.verify(""));
  CHECK_FALSE(verifier.verify("not-hex"));

  auto generated = generate_token();
  REQUIRE(generated.ok());
  CHECK(generated->size() == 67);
  CHECK(generated->rfind("gh_", 0) == 0);
  CHECK(*generate_token() != *generated);
}

TEST_CASE("the Authorization header must carry a bearer token", "[api][auth]") {
  CHECK(TokenVerifier::bearer_token("Bearer abc") == "abc");
  CHECK(TokenVerifier::bearer_token("bearer  abc ") == "abc");
  CHECK_FALSE(TokenVerifier::bearer_token("Basic abc"));
  CHECK_FALSE(TokenVerifier::bearer_token("Bearer "));
  CHECK_FALSE(TokenVerifier::bearer_token("Bearer a b"));
  CHECK_FALSE(TokenVerifier::bearer_token(""));
}

TEST_CASE("what each role may do", "[api][auth]") {
  CHECK(allows(Role::admin, Permission::manage_control_plane));
  CHECK(allows(Role::auditor, Permission::read_audit));
  CHECK_FALSE(allows(Role::auditor, Permission::request_grant));
  CHECK_FALSE(allows(Role::auditor, Permission::manage_control_plane));
  CHECK(allows(Role::requester, Permission::request_grant));
  CHECK(allows(Role::requester, Permission::read_catalog));
  CHECK_FALSE(allows(Role::requester, Permission::read_control_plane));
  CHECK_FALSE(allows(Role::requester, Permission::read_all_grants));
  CHECK_FALSE(allows(Role::requester, Permission::revoke_any_grant));
  CHECK(parse_role("auditor") == Role::auditor);
  CHECK_FALSE(parse_role("root"));
}
