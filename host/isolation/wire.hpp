// The runner protocol: how the host and gatehouse-provider-runner talk over the inherited socket.
//
//   1. The runner writes ONE handshake line before anything else (go-plugin style):
//        gatehouse-provider-runner <handshake-format> <framework-version> <runner-protocol>\n
//      e.g. "gatehouse-provider-runner 1 0.1.0 1". The host refuses a runner protocol it does not speak.
//   2. Then frames both ways: a 4-byte big-endian length of what follows, a fixed 20-byte header
//      (kind u32, request id u64, instance id u64; all big-endian) and the payload. Payloads are capped at
//      kMaxFramePayload; a bigger length is a protocol violation and ends the connection.
//
// Requests (host → runner) and their payloads:
//   describe   empty                                → reply_ok: Description JSON (identity + schema)
//   create     gatehouse.provider.v1.ConfigureRequest → reply_ok: empty; the instance id is the host's
//   invoke     gatehouse.provider.v1.Request        → reply_ok: gatehouse.provider.v1.Response bytes
//   destroy    empty                                → reply_ok: empty
// Every request may instead get reply_error whose payload is an Error as JSON (code, message, diagnostics);
// a refused provider answers describe with the same code and sentence as an in-process load would give.
// Replies carry the request id of their request; the runner may answer out of order (calls run concurrently).
//
// The protobuf messages of proto/gatehouse/provider/v1 travel unchanged inside invoke frames; this header is
// the only thing isolation adds, so it is a fixed binary layout rather than another .proto.
#pragma once

#include "common/result.hpp"
#include "loader/provider_client.hpp"

#include <array>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gatehouse::host::isolation {

inline constexpr std::string_view kRunnerMagic = "gatehouse-provider-runner";
inline constexpr unsigned kHandshakeFormat = 1;
// Bump when frames or their payloads change meaning; the host refuses a runner speaking another number.
inline constexpr unsigned kRunnerProtocolVersion = 1;
inline constexpr std::size_t kMaxFramePayload = std::size_t{64} << 20;  // 64 MiB
inline constexpr std::size_t kFrameHeaderSize = 24;                     // length prefix + kind + 2 ids
inline constexpr std::size_t kMaxHandshakeLine = 256;

enum class FrameKind : std::uint32_t {
  describe = 1,
  create = 2,
  invoke = 3,
  destroy = 4,
  reply_ok = 0x80,
  reply_error = 0x81,
};

std::string_view frame_kind_name(FrameKind kind);

struct FrameHeader {
  FrameKind kind = FrameKind::describe;
  std::uint64_t request_id = 0;
  std::uint64_t instance_id = 0;
  std::size_t payload_size = 0;
};

using EncodedHeader = std::array<char, kFrameHeaderSize>;

// Header bytes for a frame whose payload has `payload_size` bytes (the caller checked the cap).
EncodedHeader encode_header(FrameKind kind, std::uint64_t request_id, std::uint64_t instance_id,
                            std::size_t payload_size);

enum class SendOutcome { sent, timed_out, peer_gone };

// Writes header + payload to a (possibly non-blocking) socket with sendmsg, resuming after partial writes
// and EINTR, and waiting for room with poll: up to `poll_timeout_ms()` per wait (-1 waits forever; it is
// asked again before each wait so a caller can count down to a deadline). timed_out when a wait ran out,
// peer_gone when the other side closed. Callers serialise writers themselves.
SendOutcome send_frame_bytes(int fd, const EncodedHeader& header, std::string_view payload,
                             const std::function<int()>& poll_timeout_ms);

// Decodes kFrameHeaderSize bytes. Error "protocol_violation" for a length below the header or above the cap.
Result<FrameHeader> decode_header(const char* bytes);

// ---- handshake ----
struct Handshake {
  unsigned format = 0;
  std::string framework_version;
  unsigned protocol = 0;
};

// This build's handshake line, newline included.
std::string handshake_line();

// Parses a line (without its newline). Errors: "runner_handshake_failed" (not a runner line) and
// "runner_protocol_mismatch" (a runner protocol this host does not speak; the sentence names both).
// `runner` names the executable in the sentences.
Result<Handshake> parse_handshake(std::string_view line, std::string_view runner);

// ---- payloads ----
// What describe returns: the identity and the validated schema of the provider the runner loaded.
struct Description {
  ProviderIdentity identity;
  nlohmann::json schema;
  std::string path;  // absolute path as the runner opened it
};

std::string encode_description(const Description& description);
Result<Description> decode_description(std::string_view payload);

std::string encode_error(const Error& error);
Error decode_error(std::string_view payload);

}  // namespace gatehouse::host::isolation
