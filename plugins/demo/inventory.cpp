#include "inventory.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

namespace demo {
namespace {

using gatehouse::Error;
using gatehouse::LoadResult;
using gatehouse::Resource;

struct User {
  const char* id;
  const char* name;
};
struct Group {
  const char* id;
  const char* name;
  std::vector<const char*> members;  // User ids
};
struct Project {
  const char* id;
  const char* name;
  const char* owner_group;  // a Group id
};

const std::array<User, 4> kUsers{{
    {"alice", "Alice Archer"},
    {"bob", "Bob Baker"},
    {"carol", "Carol Chen"},
    {"dave", "Dave Diaz"},
}};

const std::array<Group, 2> kGroups{{
    {"engineering", "Engineering", {"alice", "bob", "carol"}},
    {"ops", "Operations", {"carol", "dave"}},
}};

const std::array<Project, 2> kProjects{{
    {"apollo", "Apollo", "engineering"},
    {"zephyr", "Zephyr", "ops"},
}};

Resource user(std::string id, std::string name) {
  nlohmann::json data = {{"email", id + "@example.com"}};
  return Resource{"User", std::move(id), std::move(name), std::move(data)};
}

// Synthetic user n (1-based) is generated from n alone: "user-000042".
Resource synthetic_user(std::uint64_t n) {
  char id[32];
  std::snprintf(id, sizeof id, "user-%06llu", static_cast<unsigned long long>(n));
  return user(id, "Synthetic user " + std::to_string(n));
}

// The offset a page token stands for. Tokens are ours, so anything else is a caller bug worth naming.
std::uint64_t offset_of(const std::string& token, std::uint64_t total) {
  if (token.empty()) return 0;
  std::uint64_t offset = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), offset);
  if (error != std::errc() || end != token.data() + token.size() || offset > total) {
    throw Error::invalid_argument("invalid page token: expected a decimal offset from a previous page", "/page_token");
  }
  return offset;
}

// Items [offset, offset + page_size) of a list of `total` items, built one by one by `make(index)`.
template <class Make>
LoadResult paginate(const std::string& token, std::uint64_t total, std::uint64_t page_size, Make make) {
  const std::uint64_t begin = offset_of(token, total);
  const std::uint64_t end = begin + std::min(page_size, total - begin);
  LoadResult result;
  result.resources.reserve(end - begin);
  for (std::uint64_t i = begin; i < end; ++i) result.resources.push_back(make(i));
  if (end < total) result.next_page_token = std::to_string(end);
  return result;
}

}  // namespace

LoadResult Inventory::page(const gatehouse::LoadRequest& request) const {
  if (request.loader == "fetch_users") {
    return paginate(request.page_token, kUsers.size() + synthetic_users_, page_size_, [](std::uint64_t i) {
      return i < kUsers.size() ? user(kUsers[i].id, kUsers[i].name) : synthetic_user(i - kUsers.size() + 1);
    });
  }
  if (request.loader == "fetch_groups") {
    return paginate(request.page_token, kGroups.size(), page_size_, [](std::uint64_t i) {
      const Group& g = kGroups[i];
      return Resource{"Group", g.id, g.name, {{"members", g.members}}};
    });
  }
  if (request.loader == "fetch_projects") {
    return paginate(request.page_token, kProjects.size(), page_size_, [](std::uint64_t i) {
      const Project& p = kProjects[i];
      return Resource{"Project", p.id, p.name, {{"owner_group", p.owner_group}}};
    });
  }
  throw Error(gatehouse::Code::not_found, "the demo provider has no loader named '" + request.loader + "'");
}

bool Inventory::has_project(std::string_view id) const {
  return std::any_of(kProjects.begin(), kProjects.end(), [&](const Project& p) { return id == p.id; });
}

}  // namespace demo
