#include "loader/provider_calls.hpp"

namespace gatehouse::host {

std::string status_code_name(pb::Status::Code code) {
  switch (code) {
    case pb::Status::OK: return "ok";
    case pb::Status::INVALID_ARGUMENT: return "invalid_argument";
    case pb::Status::NOT_FOUND: return "not_found";
    case pb::Status::ALREADY_EXISTS: return "already_exists";
    case pb::Status::PERMISSION_DENIED: return "permission_denied";
    case pb::Status::FAILED_PRECONDITION: return "failed_precondition";
    case pb::Status::UNAVAILABLE: return "unavailable";
    case pb::Status::DEADLINE_EXCEEDED: return "deadline_exceeded";
    case pb::Status::RESOURCE_EXHAUSTED: return "resource_exhausted";
    case pb::Status::ABORTED: return "aborted";
    case pb::Status::UNIMPLEMENTED: return "unimplemented";
    case pb::Status::INTERNAL: return "internal";
    case pb::Status::ALREADY_REVOKED: return "already_revoked";
    default: return "unknown_status_" + std::to_string(static_cast<int>(code));
  }
}

bool is_retryable(const Error& error) {
  const auto& c = error.code;
  return c == "transport_failed" || c == "unavailable" || c == "deadline_exceeded" || c == "resource_exhausted" ||
         c == "aborted";
}

Result<pb::Response> parse_response(std::string_view bytes, std::string_view provider) {
  pb::Response response;
  if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return make_error("bad_response", std::string(provider) + " returned " + std::to_string(bytes.size()) +
                                          " bytes that are not a gatehouse.provider.v1.Response message");
  }
  return response;
}

Result<pb::Response> invoke(ProviderClient& client, const pb::Request& request, std::string_view provider) {
  std::string bytes;
  if (!request.SerializeToString(&bytes)) return make_error("internal", "could not serialize the request");
  auto reply = client.call(bytes);
  if (!reply) return reply.take_error();
  auto response = parse_response(*reply, provider);
  if (!response) return response;
  const auto code = response->status().code();
  if (code == pb::Status::OK || code == pb::Status::ALREADY_EXISTS || code == pb::Status::ALREADY_REVOKED) {
    return response;
  }
  Error error{status_code_name(code), response->status().message(), {}};
  if (error.message.empty()) error.message = std::string(provider) + " failed with " + error.code;
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
    return make_error("bad_response", std::string(provider) + " answered without a " + what + " result");
  }
  return T(((*response).*get)());
}
}  // namespace

Result<pb::CheckHealthResponse> check_health(ProviderClient& client, std::string_view provider) {
  pb::Request request;
  request.mutable_check_health();
  return expect<pb::CheckHealthResponse>(invoke(client, request, provider), &pb::Response::has_check_health,
                                         &pb::Response::check_health, provider, "CheckHealth");
}

Result<pb::GrantResponse> grant(ProviderClient& client, const pb::GrantRequest& in, std::string_view provider) {
  pb::Request request;
  *request.mutable_grant() = in;
  return expect<pb::GrantResponse>(invoke(client, request, provider), &pb::Response::has_grant,
                                   &pb::Response::grant, provider, "Grant");
}

Result<pb::RevokeResponse> revoke(ProviderClient& client, const pb::RevokeRequest& in, std::string_view provider) {
  pb::Request request;
  *request.mutable_revoke() = in;
  return expect<pb::RevokeResponse>(invoke(client, request, provider), &pb::Response::has_revoke,
                                    &pb::Response::revoke, provider, "Revoke");
}

Result<pb::LoadResponse> load(ProviderClient& client, const pb::LoadRequest& in, std::string_view provider) {
  pb::Request request;
  *request.mutable_load() = in;
  return expect<pb::LoadResponse>(invoke(client, request, provider), &pb::Response::has_load, &pb::Response::load,
                                  provider, "Load");
}

}  // namespace gatehouse::host
