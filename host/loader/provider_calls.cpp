#include "loader/provider_calls.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace gatehouse::host {

ErrorCode error_code_of(pb::Status::Code code) {
  switch (code) {
    case pb::Status::INVALID_ARGUMENT: return ErrorCode::invalid_argument;
    case pb::Status::NOT_FOUND: return ErrorCode::not_found;
    case pb::Status::ALREADY_EXISTS: return ErrorCode::already_exists;
    case pb::Status::PERMISSION_DENIED: return ErrorCode::permission_denied;
    case pb::Status::FAILED_PRECONDITION: return ErrorCode::failed_precondition;
    case pb::Status::UNAVAILABLE: return ErrorCode::unavailable;
    case pb::Status::DEADLINE_EXCEEDED: return ErrorCode::deadline_exceeded;
    case pb::Status::RESOURCE_EXHAUSTED: return ErrorCode::resource_exhausted;
    case pb::Status::ABORTED: return ErrorCode::aborted;
    case pb::Status::UNIMPLEMENTED: return ErrorCode::unimplemented;
    case pb::Status::INTERNAL: return ErrorCode::internal_error;
    case pb::Status::ALREADY_REVOKED: return ErrorCode::already_revoked;
    default: return ErrorCode::unknown_status;
  }
}

std::string status_code_name(pb::Status::Code code) {
  if (code == pb::Status::OK) return "ok";
  const ErrorCode known = error_code_of(code);
  if (known == ErrorCode::unknown_status) return "unknown_status_" + std::to_string(static_cast<int>(code));
  return std::string(error_code_name(known));
}

bool is_retryable(const Error& error) { return is_retryable(error.code); }

Result<pb::Response> parse_response(std::string_view bytes, std::string_view provider) {
  pb::Response response;
  if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return make_error(ErrorCode::bad_response, std::string(provider) + " returned " + std::to_string(bytes.size()) +
                                          " bytes that are not a gatehouse.provider.v1.Response message");
  }
  return response;
}

namespace {
// The deadline as the wire carries it: milliseconds since the Unix epoch (0 for none).
std::uint64_t unix_ms_of(CallDeadline deadline) {
  using namespace std::chrono;
  if (deadline == CallDeadline::max()) return 0;
  const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
  const auto at = duration_cast<milliseconds>(system_clock::now().time_since_epoch()) + std::max(left, milliseconds(0));
  return static_cast<std::uint64_t>(at.count());
}
}  // namespace

Result<pb::Response> invoke(ProviderClient& client, const pb::Request& request, CallDeadline deadline,
                            std::string_view provider) {
  std::string bytes;
  if (!request.SerializeToString(&bytes)) return make_error(ErrorCode::internal_error, "could not serialize the request");
  if (const auto at = unix_ms_of(deadline); at != 0) {
    // Serialized messages concatenate as a merge (a later scalar field wins): appending a Request that holds only
    // the deadline sets it without copying the caller's request.
    pb::Request with_deadline;
    with_deadline.set_deadline_unix_ms(at);
    bytes += with_deadline.SerializeAsString();
  }
  auto reply = client.call(bytes, deadline);
  if (!reply) return reply.take_error();
  auto response = parse_response(*reply, provider);
  if (!response) return response;
  const auto code = response->status().code();
  if (code == pb::Status::OK || code == pb::Status::ALREADY_EXISTS || code == pb::Status::ALREADY_REVOKED) {
    return response;
  }
  Error error{error_code_of(code), response->status().message(), {}};
  if (error.message.empty()) error.message = std::string(provider) + " failed with " + status_code_name(code);
  for (const auto& d : response->status().diagnostics()) error.diagnostics.push_back({d.path(), d.reason()});
  return error;
}

namespace {
// Checks that a successful Response carries the result the call asked for.
template <class T, class Has, class Get>
Result<T> expect(Result<pb::Response> response, Has has, Get get, std::string_view provider, const char* what) {
  if (!response) return response.take_error();
  if (!((*response).*has)()) {
    // An idempotent success (already_exists / already_revoked) may come without a result body.
    if (response->status().code() != pb::Status::OK) return T();
    return make_error(ErrorCode::bad_response, std::string(provider) + " answered without a " + what + " result");
  }
  return T(((*response).*get)());
}
}  // namespace

Result<pb::CheckHealthResponse> check_health(ProviderClient& client, CallDeadline deadline, std::string_view provider) {
  pb::Request request;
  request.mutable_check_health();
  return expect<pb::CheckHealthResponse>(invoke(client, request, deadline, provider), &pb::Response::has_check_health,
                                         &pb::Response::check_health, provider, "CheckHealth");
}

Result<pb::GrantResponse> grant(ProviderClient& client, const pb::GrantRequest& in, CallDeadline deadline,
                                std::string_view provider) {
  pb::Request request;
  *request.mutable_grant() = in;
  return expect<pb::GrantResponse>(invoke(client, request, deadline, provider), &pb::Response::has_grant,
                                   &pb::Response::grant, provider, "Grant");
}

Result<pb::RevokeResponse> revoke(ProviderClient& client, const pb::RevokeRequest& in, CallDeadline deadline,
                                  std::string_view provider) {
  pb::Request request;
  *request.mutable_revoke() = in;
  return expect<pb::RevokeResponse>(invoke(client, request, deadline, provider), &pb::Response::has_revoke,
                                    &pb::Response::revoke, provider, "Revoke");
}

Result<pb::LoadResponse> load(ProviderClient& client, const pb::LoadRequest& in, CallDeadline deadline,
                              std::string_view provider) {
  pb::Request request;
  *request.mutable_load() = in;
  return expect<pb::LoadResponse>(invoke(client, request, deadline, provider), &pb::Response::has_load, &pb::Response::load,
                                  provider, "Load");
}

}  // namespace gatehouse::host
