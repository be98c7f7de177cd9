// The imaginary backend's directory: a small fixed organisation (users, groups, projects) plus any number
// of generated users for inventory scale tests, served page by page.
#pragma once

#include <gatehouse/sdk.hpp>

#include <cstdint>
#include <string_view>

namespace demo {

class Inventory {
 public:
  Inventory(std::uint64_t synthetic_users, std::uint64_t page_size)
      : synthetic_users_(synthetic_users), page_size_(page_size) {}

  // One page of fetch_users, fetch_groups or fetch_projects. The page token is the decimal offset of the
  // page's first item, so any page can be computed on its own: a million synthetic users cost one page of
  // memory, never all of them.
  gatehouse::LoadResult page(const gatehouse::LoadRequest& request) const;

  bool has_project(std::string_view id) const;

 private:
  std::uint64_t synthetic_users_;
  std::uint64_t page_size_;
};

}  // namespace demo
