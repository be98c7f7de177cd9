#include "registry/references.hpp"

#include <cctype>

namespace gatehouse::host::registry {
namespace {

bool is_name_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_' || c == '.';
}

bool valid_part(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!is_name_char(c) && !std::isalnum(static_cast<unsigned char>(c)) && c != '+') return false;
  }
  return true;
}

std::string shown(std::string_view text) {
  // Hostile input is echoed bounded and printable.
  std::string out;
  for (char c : text.substr(0, 80)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return text.size() > 80 ? out + "..." : out;
}

}  // namespace

Result<ProviderRef> parse_provider_ref(std::string_view text) {
  const auto slash = text.find('/');
  const auto at = text.find('@', slash == std::string_view::npos ? 0 : slash);
  if (slash == std::string_view::npos || at == std::string_view::npos) {
    return make_error(ErrorCode::invalid_argument,
                      "'" + shown(text) + "' is not a provider reference; expected publisher/name@version",
                      {{"", "expected publisher/name@version"}});
  }
  ProviderRef ref{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1, at - slash - 1)),
                  std::string(text.substr(at + 1))};
  if (!valid_part(ref.publisher) || !valid_part(ref.name) || !valid_part(ref.version) ||
      ref.version.find('/') != std::string::npos) {
    return make_error(ErrorCode::invalid_argument,
                      "'" + shown(text) + "' is not a provider reference; expected publisher/name@version",
                      {{"", "expected publisher/name@version"}});
  }
  return ref;
}

Result<KindRef> parse_kind_ref(std::string_view text) {
  const auto last = text.rfind('/');
  const auto at = text.find('@');
  if (last == std::string_view::npos || at == std::string_view::npos || last < at) {
    return make_error(ErrorCode::invalid_argument,
                      "'" + shown(text) + "' is not a target kind reference; expected publisher/name@version/Kind");
  }
  auto provider = parse_provider_ref(text.substr(0, last));
  if (!provider) {
    return make_error(ErrorCode::invalid_argument,
                      "'" + shown(text) + "' is not a target kind reference; expected publisher/name@version/Kind");
  }
  std::string kind(text.substr(last + 1));
  bool ok = !kind.empty() && kind.size() <= 128 && (std::isalpha(static_cast<unsigned char>(kind[0])) || kind[0] == '_');
  for (char c : kind) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) {
    return make_error(ErrorCode::invalid_argument, "'" + shown(kind) + "' is not a target kind name (letters, digits, '_')");
  }
  return KindRef{std::move(*provider), std::move(kind)};
}

Result<void> check_object_id(std::string_view id, std::string_view field) {
  bool ok = !id.empty() && id.size() <= 63 && id[0] != '-';
  for (char c : id) {
    ok = ok && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-');
  }
  if (ok) return {};
  const std::string path = "/" + std::string(field);
  return make_error(ErrorCode::invalid_argument,
                    std::string(field) + " '" + shown(id) +
                        "' is not valid: use 1-63 lowercase letters, digits or '-', not starting with '-'",
                    {{path, "must match ^[a-z0-9][a-z0-9-]{0,62}$"}});
}

}  // namespace gatehouse::host::registry
