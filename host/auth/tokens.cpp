#include "auth/tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace gatehouse::host::auth {
namespace {

bool digest_of(std::string_view text, unsigned char out[32]) {
  unsigned int length = 0;
  return EVP_Digest(text.data(), text.size(), out, &length, EVP_sha256(), nullptr) == 1 && length == 32;
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0xf];
  }
  return out;
}

bool unhex(const std::string& text, unsigned char out[32]) {
  if (text.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[32];
  if (!digest_of(text, digest)) return {};
  return hex(digest, sizeof digest);
}

Result<std::string> generate_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return make_error(ErrorCode::internal_error, "the system random generator failed");
  return "gh_" + hex(bytes, sizeof bytes);
}

TokenVerifier::TokenVerifier(std::vector<TokenEntry> entries) {
  for (auto& entry : entries) {
    Stored stored{std::move(entry), {}};
    // A malformed digest can never match (the config schema refuses it earlier): keep it all zero.
    if (!unhex(stored.entry.sha256, stored.digest)) std::memset(stored.digest, 0, sizeof stored.digest);
    if (stored.entry.subject.empty()) stored.entry.subject = stored.entry.name;
    entries_.push_back(std::move(stored));
  }
}

std::optional<Principal> TokenVerifier::verify(std::string_view presented_token) const {
  if (presented_token.empty()) return std::nullopt;
  unsigned char digest[32];
  if (!digest_of(presented_token, digest)) return std::nullopt;
  const Stored* match = nullptr;
  for (const auto& stored : entries_) {
    // Every entry is compared, whatever matched before: the time taken says nothing about the list.
    const bool equal = CRYPTO_memcmp(stored.digest, digest, sizeof digest) == 0;
    if (equal && match == nullptr) match = &stored;
  }
  if (match == nullptr) return std::nullopt;
  return Principal{match->entry.name, match->entry.role, match->entry.subject};
}

std::optional<std::string_view> TokenVerifier::bearer_token(std::string_view header) {
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = header[i];
    const char want = scheme[i];
    if ((c | 0x20) != (want | 0x20)) return std::nullopt;  // the scheme is case-insensitive (RFC 7235)
  }
  std::string_view token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.find(' ') != std::string_view::npos) return std::nullopt;
  return token;
}

}  // namespace gatehouse::host::auth
