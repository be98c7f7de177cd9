// Status codes, target access and the defaults of the Provider base class.
#include <gatehouse/sdk.hpp>

#include <charconv>

namespace gatehouse {

const char* code_name(Code code) noexcept {
  switch (code) {
    case Code::ok: return "ok";
    case Code::invalid_argument: return "invalid_argument";
    case Code::not_found: return "not_found";
    case Code::already_exists: return "already_exists";
    case Code::permission_denied: return "permission_denied";
    case Code::failed_precondition: return "failed_precondition";
    case Code::unavailable: return "unavailable";
    case Code::deadline_exceeded: return "deadline_exceeded";
    case Code::resource_exhausted: return "resource_exhausted";
    case Code::aborted: return "aborted";
    case Code::unimplemented: return "unimplemented";
    case Code::internal: return "internal";
    case Code::already_revoked: return "already_revoked";
  }
  return "unknown";
}

bool is_retryable(Code code) noexcept {
  return code == Code::unavailable || code == Code::deadline_exceeded || code == Code::resource_exhausted ||
         code == Code::aborted;
}

const std::string& Target::at(const std::string& name) const {
  auto it = properties.find(name);
  if (it == properties.end()) {
    throw Error::invalid_argument("target property '" + name + "' is missing", "/target/" + name);
  }
  return it->second;
}

std::int64_t Target::integer(const std::string& name) const {
  const std::string& text = at(name);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw Error::invalid_argument("target property '" + name + "' must be an integer (got '" + text + "')",
                                  "/target/" + name);
  return value;
}

bool Target::boolean(const std::string& name) const {
  const std::string& text = at(name);
  if (text == "true") return true;
  if (text == "false") return false;
  throw Error::invalid_argument("target property '" + name + "' must be true or false (got '" + text + "')",
                                "/target/" + name);
}

LoadResult Provider::load(const LoadRequest& request) {
  throw Error(Code::unimplemented, "this provider has no loader named '" + request.loader + "'");
}

void Logger::write(gatehouse_log_level level, const std::string& message) const noexcept {
  if (host_ != nullptr && host_->log != nullptr) host_->log(host_->host_context, level, message.data(), message.size());
}

}  // namespace gatehouse
