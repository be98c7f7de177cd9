// Typed calls on top of the bytes-in/bytes-out ProviderClient: build the Request, parse the Response,
// turn a provider's Status into an Error value.
#pragma once

#include "common/result.hpp"
#include "loader/provider_client.hpp"

#include <gatehouse/provider/v1/provider.pb.h>

#include <string_view>

namespace gatehouse::host {

namespace pb = ::gatehouse::provider::v1;

// The Error code of a provider's failure status (INTERNAL → internal_error, an unknown number → unknown_status).
ErrorCode error_code_of(pb::Status::Code code);
// snake_case name of a status code ("unavailable", "ok", "unknown_status_42"), for sentences.
std::string status_code_name(pb::Status::Code code);

// Whether a failed provider call may succeed elsewhere or later: the code's `retryable` column in
// error_codes.txt (transport_failed and the statuses unavailable, deadline_exceeded, resource_exhausted, aborted).
bool is_retryable(const Error& error);

// Parses serialized Response bytes. Error "bad_response" when they are not a Response.
Result<pb::Response> parse_response(std::string_view bytes, std::string_view provider);

// Sends one request with its deadline (also sent to the provider as Request.deadline_unix_ms). Returns the
// whole Response when its status is ok, already_exists or already_revoked (idempotent successes; inspect
// response.status() to tell them apart); otherwise the Status as an Error whose code is the status name and
// whose message is the provider's sentence. Whether the call returns by the deadline is the client's
// (ProviderClient::enforces_deadline) or the caller's (ProviderCaller) affair.
Result<pb::Response> invoke(ProviderClient& client, const pb::Request& request, CallDeadline deadline,
                            std::string_view provider = "provider");

Result<pb::CheckHealthResponse> check_health(ProviderClient& client, CallDeadline deadline,
                                             std::string_view provider = "provider");
Result<pb::GrantResponse> grant(ProviderClient& client, const pb::GrantRequest& request, CallDeadline deadline,
                                std::string_view provider = "provider");
Result<pb::RevokeResponse> revoke(ProviderClient& client, const pb::RevokeRequest& request, CallDeadline deadline,
                                  std::string_view provider = "provider");
Result<pb::LoadResponse> load(ProviderClient& client, const pb::LoadRequest& request, CallDeadline deadline,
                              std::string_view provider = "provider");

}  // namespace gatehouse::host
