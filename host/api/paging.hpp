// Paging of list endpoints (GET /v1/grants, GET /v1/audit): keyset pages with an opaque `next_page_token`.
//
// A token is base64url text of "<list>|<scope>|<position>": the list it belongs to ("grants", "audit"), a hash
// of the filters it was made under and the position of the last item returned (the keyset, e.g. a grant's
// requested_at and id). It is opaque to clients and not secret: it only says where to continue, and every
// filter, visibility rule included, is applied again to each page. A token used with other filters or another
// list, or damaged, is refused (400 invalid_argument naming page_token) instead of silently restarting.
//
// THREADS: pure functions; safe from any thread.
#pragma once

#include "api/request_parsing.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace gatehouse::host::api {

inline constexpr std::size_t kDefaultPageSize = 100;
inline constexpr std::size_t kMaxPageSize = 1000;

// `page_size` (1–kMaxPageSize; `limit` is accepted as its older name, not both), default kDefaultPageSize.
Result<std::size_t> page_size(const RequestTarget& target);

// The token for continuing after `position` in `list` under the filters summarised by `scope`.
std::string encode_page_token(std::string_view list, std::string_view scope, std::string_view position);

// The position a `page_token` query parameter carries; "" when the request has none.
Result<std::string> page_position(const RequestTarget& target, std::string_view list, std::string_view scope);

}  // namespace gatehouse::host::api
