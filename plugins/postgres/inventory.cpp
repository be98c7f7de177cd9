#include "inventory.hpp"

#include "catalog.hpp"

#include <pqxx/result>

namespace pgprovider {
namespace {

using gatehouse::Error;
using gatehouse::LoadResult;
using gatehouse::Resource;

std::string hex_encode(const std::string& text) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

// The name a page token stands for ("" for the first page). Tokens are ours, so anything else is a
// caller bug worth naming.
std::string name_after(const std::string& token) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string name;
  bool valid = token.size() % 2 == 0 && token.size() <= 2 * kMaxNameBytes;
  for (std::size_t i = 0; valid && i < token.size(); i += 2) {
    const int high = nibble(token[i]), low = nibble(token[i + 1]);
    valid = high >= 0 && low >= 0;
    name += static_cast<char>(high * 16 + low);
  }
  if (!valid) throw Error::invalid_argument("invalid page token: expected one from a previous page", "/page_token");
  return name;
}

// Runs a keyset query ($1 = the name after which the page starts, $2 = page size + 1) and turns each row
// into a resource. The extra row only tells whether another page follows.
template <class Make>
LoadResult paginate(pqxx::transaction_base& txn, const std::string& query, const std::string& token,
                    std::size_t page_size, Make make) {
  const pqxx::result rows = txn.exec_params(query, name_after(token), static_cast<long long>(page_size) + 1);
  LoadResult page;
  const std::size_t count = std::min(page_size, static_cast<std::size_t>(rows.size()));
  page.resources.reserve(count);
  for (std::size_t i = 0; i < count; ++i) page.resources.push_back(make(rows[static_cast<pqxx::result::size_type>(i)]));
  if (rows.size() > page_size) page.next_page_token = hex_encode(page.resources.back().id);
  return page;
}

}  // namespace

LoadResult database_page(pqxx::transaction_base& txn, const std::string& page_token, std::size_t page_size) {
  return paginate(txn,
                  "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname > $1 "
                  "ORDER BY datname LIMIT $2",
                  page_token, page_size, [](const pqxx::row& row) {
                    const auto name = row[0].as<std::string>();
                    return Resource{"Database", name, name, nlohmann::json::object()};
                  });
}

LoadResult role_page(pqxx::transaction_base& txn, const Grantable& grantable, const PowerPolicy& policy,
                     const std::string& page_token, std::size_t page_size) {
  const std::string query = std::string(R"(
SELECT r.rolname, r.rolcanlogin,
       (SELECT coalesce(json_agg(d.datname ORDER BY d.datname), '[]')
        FROM pg_database d
        WHERE d.datallowconn AND NOT d.datistemplate AND has_database_privilege(r.oid, d.oid, 'CONNECT'))::text,
       EXISTS (WITH RECURSIVE up(oid) AS (
                 SELECT r.oid UNION SELECT m.roleid FROM pg_auth_members m JOIN up ON m.member = up.oid)
               SELECT 1 FROM up JOIN pg_roles p ON p.oid = up.oid WHERE )") +
                            policy.condition() + R"()
FROM pg_roles r
WHERE r.rolname > $1
ORDER BY r.rolname
LIMIT $2)";
  return paginate(txn, query, page_token, page_size, [&](const pqxx::row& row) {
    const auto name = row[0].as<std::string>();
    const bool login = row[1].as<bool>();
    nlohmann::json data = {{"databases", nlohmann::json::parse(row[2].as<std::string>())}};
    if (!login) data["grantable"] = grantable.allows(name) && !row[3].as<bool>();
    return Resource{login ? "Login" : "Role", name, name, std::move(data)};
  });
}

}  // namespace pgprovider
