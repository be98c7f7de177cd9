#include "cli/api_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gatehouse::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using host::make_error;

namespace {

struct Endpoint {
  std::string host;
  std::string port;
};

host::Result<Endpoint> parse_server(const std::string& server) {
  std::string rest = server;
  const std::string scheme = "http://";
  if (rest.rfind("https://", 0) == 0)
    return make_error(host::ErrorCode::usage, "server '" + server + "': https is not supported by this CLI; put a TLS proxy in front "
                               "of gatehoused or use http:// on a trusted network");
  if (rest.rfind(scheme, 0) == 0) rest = rest.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos)
    return make_error(host::ErrorCode::usage, "server '" + server + "' must look like http://HOST:PORT");
  Endpoint e;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return make_error(host::ErrorCode::usage, "server '" + server + "' has an unterminated [address]");
    e.host = rest.substr(1, close - 1);
    e.port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "8470";
  } else {
    const auto colon = rest.rfind(':');
    e.host = rest.substr(0, colon);
    e.port = colon == std::string::npos ? "8470" : rest.substr(colon + 1);
  }
  if (e.host.empty() || e.port.empty() || e.port.find_first_not_of("0123456789") != std::string::npos)
    return make_error(host::ErrorCode::usage, "server '" + server + "' must look like http://HOST:PORT");
  return e;
}

}  // namespace

std::string url_encode(const std::string& text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

host::Result<ApiReply> call_api(const ServerOptions& options, const std::string& method, const std::string& path,
                                const std::optional<nlohmann::json>& body,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  auto endpoint = parse_server(options.server);
  if (!endpoint) return endpoint.take_error();
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    beast::error_code ec;
    const auto results = resolver.resolve(endpoint->host, endpoint->port, ec);
    if (ec)
      return make_error(host::ErrorCode::unreachable, "cannot reach gatehoused at " + options.server + ": " + ec.message());
    stream.expires_after(options.timeout);
    stream.connect(results, ec);
    if (ec)
      return make_error(host::ErrorCode::unreachable, "cannot reach gatehoused at " + options.server + ": " + ec.message() +
                                           " (is it running? set --server or GATEHOUSE_SERVER)");
    http::request<http::string_body> request(http::string_to_verb(method), path, 11);
    request.set(http::field::host, endpoint->host + ":" + endpoint->port);
    request.set(http::field::user_agent, "gatehouse-cli");
    request.set(http::field::accept, "application/json");
    if (!options.token.empty()) request.set(http::field::authorization, "Bearer " + options.token);
    for (const auto& [name, value] : headers) request.set(name, value);
    if (body) {
      request.set(http::field::content_type, "application/json");
      request.body() = body->dump();
    }
    request.prepare_payload();
    http::write(stream, request, ec);
    if (ec)
      return make_error(host::ErrorCode::connection_lost,
                        "lost the connection to gatehoused at " + options.server + ": " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    http::read(stream, buffer, parser, ec);
    if (ec == beast::error::timeout)
      return make_error(host::ErrorCode::timeout, "gatehoused at " + options.server + " did not answer within " +
                                       std::to_string(options.timeout.count()) + " s");
    if (ec)
      return make_error(host::ErrorCode::connection_lost,
                        "lost the connection to gatehoused at " + options.server + ": " + ec.message());
    ApiReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    reply.raw = std::move(parser.get().body());
    reply.body = nlohmann::json::parse(reply.raw, nullptr, false);
    if (reply.body.is_discarded()) reply.body = nullptr;
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return reply;
  } catch (const std::exception& e) {
    return make_error(host::ErrorCode::unreachable, "talking to gatehoused at " + options.server + " failed: " + e.what());
  }
}

}  // namespace gatehouse::cli
