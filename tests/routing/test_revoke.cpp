// The revoke rule: only handlers that hold the access may confirm its removal — the granting handler (whatever
// its health or routes) and handlers the operator declared to manage the same backend. Never a handler of the
// same kind on another backend (issue 13: that one's "already revoked" left access live).
#include "routing_test_support.hpp"

using namespace routing_test;

namespace {

struct RevokeCase {
  const char* name;
  GrantingHandler granting;
  std::vector<RevokeHandler> handlers;
  std::vector<RevokeTarget> expected;
};

constexpr std::string_view kDemo = "gatehouse/demo";
constexpr std::string_view kPg = "gatehouse/postgres";

}  // namespace

TEST_CASE("revoke_targets: the granting handler, then same-backend handlers, nothing else") {
  const std::vector<RevokeCase> cases = {
      {"healthy granting handler alone", {"h-b", true, kDemo, "", true}, {{"h-b", kDemo, "", true}},
       {{"h-b", true}}},
      {"an unhealthy granting handler is still asked (health never decides whether a revoke is attempted)",
       {"h-b", true, kDemo, "", false}, {{"h-b", kDemo, "", false}}, {{"h-b", true}}},
      {"a healthy handler of the same provider without a declared backend never takes it (issue 13)",
       {"h-b", true, kDemo, "", false}, {{"h-a", kDemo, "", true}, {"h-b", kDemo, "", false}}, {{"h-b", true}}},
      {"a handler on another backend never takes it",
       {"h-b", true, kDemo, "east", false}, {{"h-a", kDemo, "west", true}, {"h-b", kDemo, "east", false}},
       {{"h-b", true}}},
      {"the same backend name on another provider is another backend",
       {"h-b", true, kDemo, "east", false}, {{"pg", kPg, "east", true}}, {{"h-b", true}}},
      {"healthy granting handler first, then same-backend handlers by id",
       {"h-b", true, kDemo, "east", true},
       {{"h-z", kDemo, "east", true}, {"h-c", kDemo, "east", false}, {"h-a", kDemo, "east", true}},
       {{"h-b", true}, {"h-a", false}, {"h-z", false}, {"h-c", false}}},
      {"unhealthy granting handler: healthy same-backend handlers first, the granting one before unhealthy peers",
       {"h-b", true, kDemo, "east", false},
       {{"h-c", kDemo, "east", false}, {"h-b", kDemo, "east", false}, {"h-d", kDemo, "east", true}},
       {{"h-d", false}, {"h-b", true}, {"h-c", false}}},
      {"a deleted granting handler: nobody (an admin force-closes or re-points)",
       {"h-b", false, kDemo, "east", false}, {{"h-c", kDemo, "east", true}}, {}},
      {"a deleted granting handler without a backend: nobody", {"h-b", false, kDemo, "", false},
       {{"h-a", kDemo, "", true}}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(revoke_targets(c.granting, c.handlers) == c.expected);
  }
}

TEST_CASE("same_backend needs the same provider and the same non-empty backend, and another handler") {
  const GrantingHandler granting{"h-b", true, kDemo, "east", true};
  CHECK(same_backend(granting, {"h-c", kDemo, "east", true}));
  CHECK_FALSE(same_backend(granting, {"h-b", kDemo, "east", true}));  // itself
  CHECK_FALSE(same_backend(granting, {"h-c", kDemo, "west", true}));
  CHECK_FALSE(same_backend(granting, {"h-c", kPg, "east", true}));
  CHECK_FALSE(same_backend(granting, {"h-c", kDemo, "", true}));
  CHECK_FALSE(same_backend({"h-b", true, kDemo, "", true}, {"h-c", kDemo, "", true}));  // none declared
  CHECK_FALSE(same_backend({"h-b", true, "", "east", true}, {"h-c", "", "east", true}));  // provider unknown
}
