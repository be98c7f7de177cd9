// JSON pointers (RFC 6901) name the field of every fault reported to operators ("/target/role").
#pragma once

#include <string>
#include <string_view>

namespace gatehouse::host {

// One reference token escaped for a JSON pointer: "~" becomes "~0", "/" becomes "~1".
inline std::string json_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace gatehouse::host
