// The one rule for when provider calls make a handler count as failing between health checks (issue 14 item 6):
// what the grant engine reports after each call (ControlPlaneView::report_handler_failure / _success) goes
// through here, and the registry marks the handler unhealthy when it says so. The next successful health check
// brings the handler back, as for any unhealthy handler.
//
//   transport_failed                 unhealthy at once: the runner died or the transport broke, and calls
//                                    cannot reach the provider until it is restarted and checked
//   deadline_exceeded, bad_response  unhealthy after `consecutive` of them in a row on one handler (Envoy's
//                                    consecutive-failure outlier rule): one slow call is noise, three are a
//                                    handler that does not answer
//   anything else                    not counted: the provider answered, and its own status says what went
//                                    wrong (an unavailable backend is the health check's to judge)
// A successful call or a healthy check clears a handler's count.
//
// A value type: not thread-safe; the registry holds it under a mutex of its own.
#pragma once

#include "common/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::host::registry {

class FailurePolicy {
 public:
  explicit FailurePolicy(int consecutive = 3) : consecutive_(consecutive < 1 ? 1 : consecutive) {}

  // The reason to record when this failure makes the handler unhealthy now; nullopt otherwise.
  std::optional<std::string> on_failure(std::string_view handler, const Error& error);
  // A call that succeeded, or a health check that found the handler healthy.
  void on_success(std::string_view handler);

  int failures_in_a_row(std::string_view handler) const;

 private:
  int consecutive_;
  std::map<std::string, int, std::less<>> in_a_row_;
};

}  // namespace gatehouse::host::registry
