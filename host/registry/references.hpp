// The names operators type: provider references ("publisher/name@version"), target kind references
// ("publisher/name@version/Kind") and object ids. Parsed once here so every face gives the same errors.
#pragma once

#include "common/result.hpp"

#include <string>
#include <string_view>

namespace gatehouse::host::registry {

struct ProviderRef {
  std::string publisher;
  std::string name;
  std::string version;
  std::string text() const { return publisher + "/" + name + "@" + version; }
  bool operator==(const ProviderRef&) const = default;
};

struct KindRef {
  ProviderRef provider;
  std::string kind;
  std::string text() const { return provider.text() + "/" + kind; }
};

// "gatehouse/demo@1.0.0". Error "invalid_argument" with the expected shape in the sentence.
Result<ProviderRef> parse_provider_ref(std::string_view text);
// "gatehouse/demo@1.0.0/ProjectRole".
Result<KindRef> parse_kind_ref(std::string_view text);

// Handler and target group ids: lowercase letters, digits and '-', 1–63 characters, starting with a letter
// or digit (they appear in URLs, logs and SQL). Error "invalid_argument" naming `field`.
Result<void> check_object_id(std::string_view id, std::string_view field);

}  // namespace gatehouse::host::registry
