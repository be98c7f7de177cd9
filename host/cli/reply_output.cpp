#include "cli/reply_output.hpp"

#include "cli/exit_codes.hpp"

namespace gatehouse::cli {

using nlohmann::json;

std::string cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string field(const json& obj, const char* name) {
  if (!obj.is_object() || !obj.contains(name)) return "-";
  return cell(obj[name]);
}

int report_reply_error(RemoteContext& ctx, const ApiReply& reply) {
  const json& e = reply.body.is_object() && reply.body.contains("error") ? reply.body["error"] : json();
  const std::string message = e.is_object() && e.contains("message") ? cell(e["message"]) : "";
  ctx.err << "error: " << (message.empty() ? "gatehoused answered HTTP " + std::to_string(reply.status) : message) << '\n';
  if (e.is_object() && e.contains("details") && e["details"].is_array())
    for (const auto& d : e["details"]) ctx.err << "  " << field(d, "path") << ": " << field(d, "reason") << '\n';
  if (reply.status == 401 || reply.status == 403) {
    if (reply.status == 401 && ctx.server.token.empty()) ctx.err << "hint: pass --token or set GATEHOUSE_TOKEN\n";
    return kExitAuth;
  }
  if (reply.status == 404) return kExitNotFound;
  if (reply.status >= 400 && reply.status < 500) return kExitRefused;
  return kExitFailure;
}

int report_transport_error(RemoteContext& ctx, const host::Error& error) {
  ctx.err << "error: " << error.message << '\n';
  return error.code == host::ErrorCode::usage ? kExitUsage : kExitUnreachable;
}

std::optional<int> fetch(RemoteContext& ctx, const std::string& method, const std::string& path,
                         const std::optional<json>& body, json& out) {
  auto reply = call_api(ctx.server, method, path, body);
  if (!reply) return report_transport_error(ctx, reply.error());
  if (reply->status >= 300) return report_reply_error(ctx, *reply);
  out = std::move(reply->body);
  return std::nullopt;
}

}  // namespace gatehouse::cli
