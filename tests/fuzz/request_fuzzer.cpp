// libFuzzer target: everything an HTTP client controls before it reaches the control plane — the request
// target and the JSON body, through every body parser. It must never crash, hang or leak; refusals are fine.
#include "api/request_parsing.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse::host::api;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first line is used as a request target, the rest as a body: one input exercises both.
  const auto newline = input.find('\n');
  const auto target = input.substr(0, newline == std::string_view::npos ? input.size() : newline);
  (void)parse_target(target);
  if (auto t = parse_target(target); t.ok()) (void)query_limit(*t, 100, 1000);
  const auto body = newline == std::string_view::npos ? input : input.substr(newline + 1);
  auto parsed = parse_json_object(body);
  if (!parsed.ok()) return 0;
  (void)parse_grant_request(*parsed);
  (void)parse_handler(*parsed);
  (void)parse_target_group(*parsed);
  (void)parse_route(*parsed);
  (void)parse_priority(*parsed);
  (void)parse_revoke(*parsed);
  if (parsed->contains("not_before") && (*parsed)["not_before"].is_string())
    (void)parse_rfc3339((*parsed)["not_before"].get<std::string>());
  return 0;
}
