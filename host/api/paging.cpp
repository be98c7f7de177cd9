#include "api/paging.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace gatehouse::host::api {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    if (rest == 2) out += kAlphabet[(n >> 6) & 63];
  }
  return out;  // unpadded
}

bool from_base64url(std::string_view text, std::string& out) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (int i = 0; i < 64; ++i) value[static_cast<unsigned char>(kAlphabet[i])] = i;
  if (text.size() % 4 == 1) return false;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : text) {
    if (value[c] < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(value[c]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

// FNV-1a: the same on every replica and build (std::hash is not), so a token made by one replica is
// understood by another.
std::string scope_hash(std::string_view scope) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : scope) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = digits[h & 15];
  return out;
}

Result<std::size_t> bounded(const std::string& name, const std::string& text) {
  const std::string range = "a number between 1 and " + std::to_string(kMaxPageSize);
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return make_error(ErrorCode::invalid_argument, "query parameter '" + name + "' must be " + range);
  const auto n = std::stoul(text);
  if (n < 1 || n > kMaxPageSize)
    return make_error(ErrorCode::invalid_argument, "query parameter '" + name + "' must be " + range + " (it is " + text + ")");
  return static_cast<std::size_t>(n);
}

}  // namespace

Result<std::size_t> page_size(const RequestTarget& target) {
  const auto size = target.query.find("page_size");
  const auto limit = target.query.find("limit");
  if (size != target.query.end() && limit != target.query.end())
    return make_error(ErrorCode::invalid_argument,
                      "query parameters 'page_size' and 'limit' mean the same; give one of them, not both");
  if (size != target.query.end()) return bounded("page_size", size->second);
  if (limit != target.query.end()) return bounded("limit", limit->second);
  return kDefaultPageSize;
}

std::string encode_page_token(std::string_view list, std::string_view scope, std::string_view position) {
  std::string plain;
  plain.append(list).append("|").append(scope_hash(scope)).append("|").append(position);
  return base64url(plain);
}

Result<std::string> page_position(const RequestTarget& target, std::string_view list, std::string_view scope) {
  const auto it = target.query.find("page_token");
  if (it == target.query.end()) return std::string();
  const Error bad = make_error(ErrorCode::invalid_argument, "query parameter 'page_token' is not a token of this list: pass the "
                                                   "next_page_token of the previous page, with the same filters");
  std::string plain;
  if (it->second.empty() || it->second.size() > 512 || !from_base64url(it->second, plain)) return bad;
  const std::string prefix = std::string(list) + "|" + scope_hash(scope) + "|";
  if (plain.size() <= prefix.size() || plain.compare(0, prefix.size(), prefix) != 0) return bad;
  return plain.substr(prefix.size());
}

}  // namespace gatehouse::host::api
