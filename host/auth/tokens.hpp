// API bearer tokens. The daemon config holds only SHA-256 digests; a presented token is hashed and compared
// with every configured digest in constant time (CRYPTO_memcmp, no early exit), so neither the comparison
// nor the order of the list tells an attacker how close a guess was. Tokens are never logged or returned.
#pragma once

#include "auth/roles.hpp"
#include "common/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::host::auth {

struct TokenEntry {
  std::string name;     // who this token is: the actor in the audit log
  Role role = Role::auditor;
  std::string sha256;   // lowercase hex digest of the token
  std::string subject;  // requesters act for this subject (default: the name)
};

// The caller an API request was authenticated as.
struct Principal {
  std::string name;
  Role role = Role::auditor;
  std::string subject;
};

// Lowercase hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

// A new random token (32 bytes from the OS CSPRNG, "gh_" + 64 hex characters).
Result<std::string> generate_token();

// Immutable after construction: verify() may be called from any number of threads at once.
class TokenVerifier {
 public:
  explicit TokenVerifier(std::vector<TokenEntry> entries);

  // The principal whose digest matches, or nullopt. Cost does not depend on where (or whether) it matches.
  std::optional<Principal> verify(std::string_view presented_token) const;

  // "Bearer <token>" → the token; nullopt for any other shape.
  static std::optional<std::string_view> bearer_token(std::string_view authorization_header);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Stored {
    TokenEntry entry;
    unsigned char digest[32];
  };
  std::vector<Stored> entries_;
};

}  // namespace gatehouse::host::auth
