#include "registry/failure_policy.hpp"

namespace gatehouse::host::registry {

std::optional<std::string> FailurePolicy::on_failure(std::string_view handler, const Error& error) {
  if (error.code == ErrorCode::transport_failed) {
    on_success(handler);  // counted afresh once it is back
    return "provider call failed: " + error.message;
  }
  if (error.code != ErrorCode::deadline_exceeded && error.code != ErrorCode::bad_response) return std::nullopt;
  auto it = in_a_row_.find(handler);
  if (it == in_a_row_.end()) it = in_a_row_.emplace(std::string(handler), 0).first;
  if (++it->second < consecutive_) return std::nullopt;
  const int n = it->second;
  in_a_row_.erase(it);
  return std::to_string(n) + " provider calls in a row failed; the last: " + std::string(error.code_name()) + ": " +
         error.message;
}

void FailurePolicy::on_success(std::string_view handler) {
  if (auto it = in_a_row_.find(handler); it != in_a_row_.end()) in_a_row_.erase(it);
}

int FailurePolicy::failures_in_a_row(std::string_view handler) const {
  auto it = in_a_row_.find(handler);
  return it == in_a_row_.end() ? 0 : it->second;
}

}  // namespace gatehouse::host::registry
