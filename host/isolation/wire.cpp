#include "isolation/wire.hpp"

#include <gatehouse/version.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace gatehouse::host::isolation {
namespace {

void put_u32(char* out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xffu);
    v >>= 8;
  }
}

void put_u64(char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xffu);
    v >>= 8;
  }
}

std::uint32_t get_u32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::uint64_t get_u64(const char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

constexpr std::size_t kHeaderAfterLength = kFrameHeaderSize - 4;

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

std::optional<unsigned> to_unsigned(std::string_view word) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (error != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return value;
}

// Keeps a runner's garbage readable in one sentence.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 80) out += "...";
  return out;
}

}  // namespace

std::string_view frame_kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::describe: return "describe";
    case FrameKind::create: return "create";
    case FrameKind::invoke: return "invoke";
    case FrameKind::destroy: return "destroy";
    case FrameKind::reply_ok: return "reply_ok";
    case FrameKind::reply_error: return "reply_error";
  }
  return "unknown";
}

EncodedHeader encode_header(FrameKind kind, std::uint64_t request_id, std::uint64_t instance_id,
                            std::size_t payload_size) {
  EncodedHeader out{};
  put_u32(out.data(), static_cast<std::uint32_t>(kHeaderAfterLength + payload_size));
  put_u32(out.data() + 4, static_cast<std::uint32_t>(kind));
  put_u64(out.data() + 8, request_id);
  put_u64(out.data() + 16, instance_id);
  return out;
}

Result<FrameHeader> decode_header(const char* bytes) {
  const std::uint32_t length = get_u32(bytes);
  if (length < kHeaderAfterLength) {
    return make_error(ErrorCode::protocol_violation, "a frame declared " + std::to_string(length) +
                                                " bytes, fewer than its own header");
  }
  const std::size_t payload = length - kHeaderAfterLength;
  if (payload > kMaxFramePayload) {
    return make_error(ErrorCode::protocol_violation, "a frame declared a payload of " + std::to_string(payload) +
                                                " bytes, over the limit of " + std::to_string(kMaxFramePayload));
  }
  FrameHeader header;
  header.kind = static_cast<FrameKind>(get_u32(bytes + 4));
  header.request_id = get_u64(bytes + 8);
  header.instance_id = get_u64(bytes + 16);
  header.payload_size = payload;
  return header;
}

std::string handshake_line() {
  return std::string(kRunnerMagic) + " " + std::to_string(kHandshakeFormat) + " " + GATEHOUSE_FRAMEWORK_VERSION + " " +
         std::to_string(kRunnerProtocolVersion) + "\n";
}

Result<Handshake> parse_handshake(std::string_view line, std::string_view runner) {
  const auto words = split_spaces(line);
  const std::string who = "provider runner '" + std::string(runner) + "'";
  if (words.size() != 4 || words[0] != kRunnerMagic) {
    return make_error(ErrorCode::runner_handshake_failed, who + " did not start with a gatehouse-provider-runner handshake line "
                                                 "(it wrote \"" + printable(line) + "\")");
  }
  auto format = to_unsigned(words[1]);
  auto protocol = to_unsigned(words[3]);
  if (!format || !protocol) {
    return make_error(ErrorCode::runner_handshake_failed, who + " wrote a malformed handshake line \"" + printable(line) + "\"");
  }
  if (*format != kHandshakeFormat) {
    return make_error(ErrorCode::runner_protocol_mismatch, who + " uses handshake format " + std::to_string(*format) +
                                                      " but this host reads handshake format " +
                                                      std::to_string(kHandshakeFormat));
  }
  if (*protocol != kRunnerProtocolVersion) {
    return make_error(ErrorCode::runner_protocol_mismatch,
                      who + " (gatehouse " + std::string(words[2]) + ") speaks runner protocol " +
                          std::to_string(*protocol) + " but this host (gatehouse " + GATEHOUSE_FRAMEWORK_VERSION +
                          ") speaks runner protocol " + std::to_string(kRunnerProtocolVersion) +
                          "; install the runner of the same gatehouse build");
  }
  return Handshake{*format, std::string(words[2]), *protocol};
}

std::string encode_description(const Description& d) {
  const auto& id = d.identity;
  return nlohmann::json{{"publisher", id.publisher},
                        {"name", id.name},
                        {"version", id.version},
                        {"framework_version", id.framework_version},
                        {"abi_major", id.abi_major},
                        {"abi_minor", id.abi_minor},
                        {"path", d.path},
                        {"schema", d.schema}}
      .dump();
}

Result<Description> decode_description(std::string_view payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return make_error(ErrorCode::bad_response, "the runner's description is not a JSON object");
  try {
    Description d;
    d.identity.publisher = j.at("publisher").get<std::string>();
    d.identity.name = j.at("name").get<std::string>();
    d.identity.version = j.at("version").get<std::string>();
    d.identity.framework_version = j.at("framework_version").get<std::string>();
    d.identity.abi_major = j.at("abi_major").get<unsigned>();
    d.identity.abi_minor = j.at("abi_minor").get<unsigned>();
    d.path = j.at("path").get<std::string>();
    d.schema = j.at("schema");
    return d;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::bad_response, std::string("the runner's description is incomplete: ") + e.what());
  }
}

std::string encode_error(const Error& error) {
  nlohmann::json diagnostics = nlohmann::json::array();
  for (const auto& d : error.diagnostics) diagnostics.push_back({{"path", d.path}, {"reason", d.reason}});
  return nlohmann::json{{"code", error.code}, {"message", error.message}, {"diagnostics", diagnostics}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Error decode_error(std::string_view payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  Error error{ErrorCode::bad_response, "the runner answered with an error it could not describe", {}};
  if (!j.is_object()) return error;
  // A runner is built from this same table; a name it does not have means another build: bad_response.
  if (j.contains("code") && j["code"].is_string())
    error.code = error_code_from_name(j["code"].get<std::string>()).value_or(ErrorCode::bad_response);
  if (j.contains("message") && j["message"].is_string()) error.message = j["message"].get<std::string>();
  if (j.contains("diagnostics") && j["diagnostics"].is_array()) {
    for (const auto& d : j["diagnostics"]) {
      if (d.is_object()) error.diagnostics.push_back({d.value("path", ""), d.value("reason", "")});
    }
  }
  return error;
}

SendOutcome send_frame_bytes(int fd, const EncodedHeader& header, std::string_view payload,
                             const std::function<int()>& poll_timeout_ms) {
  const std::size_t total = header.size() + payload.size();
  std::size_t sent = 0;
  while (sent < total) {
    iovec parts[2];
    int count = 0;
    if (sent < header.size()) {
      parts[count++] = {const_cast<char*>(header.data()) + sent, header.size() - sent};
      if (!payload.empty()) parts[count++] = {const_cast<char*>(payload.data()), payload.size()};
    } else {
      const std::size_t done = sent - header.size();
      parts[count++] = {const_cast<char*>(payload.data()) + done, payload.size() - done};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, poll_timeout_ms()) == 0) return SendOutcome::timed_out;
    } else {
      return SendOutcome::peer_gone;
    }
  }
  return SendOutcome::sent;
}

}  // namespace gatehouse::host::isolation
