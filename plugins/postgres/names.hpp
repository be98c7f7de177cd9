// Role and database names as they arrive in requests: checked before they reach PostgreSQL, and the
// mapping from a gatehouse subject to the login role that receives access.
#pragma once

#include <regex>
#include <string>

namespace pgprovider {

// PostgreSQL keeps at most NAMEDATALEN - 1 = 63 bytes of a name and silently truncates longer ones, so a
// long name could quietly address a different role. Longer names are refused instead.
constexpr std::size_t kMaxNameBytes = 63;

// Throws Error::invalid_argument naming `path` unless `name` is 1 to 63 bytes without control characters.
// Everything else is allowed (quotes, semicolons, spaces, non-ASCII): names are always sent as parameters
// or quoted identifiers, never spliced into SQL. `what` is the noun used in the message ("role").
void check_name(const std::string& name, const std::string& what, const std::string& path);

// The login role that receives access for `subject`: `prefix` followed by the subject, verbatim (no case
// folding: "Alice@example.com" and "alice@example.com" are different roles, as in PostgreSQL).
// Throws invalid_argument naming "/subject" when the result is not a usable role name.
std::string login_for(const std::string& prefix, const std::string& subject);

// The `grantable` config field: which role names may be granted at all (ECMAScript syntax, searched
// anywhere in the name, so anchor it: "^app_").
class Grantable {
 public:
  // Throws invalid_argument naming "/grantable" when the pattern does not compile.
  explicit Grantable(const std::string& pattern);
  bool allows(const std::string& role) const;
  const std::string& pattern() const noexcept { return pattern_; }

 private:
  std::string pattern_;
  std::regex regex_;  // only read after construction: safe from concurrent calls
};

}  // namespace pgprovider
