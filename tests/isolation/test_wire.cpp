// The runner protocol's framing and handshake, without processes.
#include "isolation/wire.hpp"

#include <gatehouse/version.h>

#include <catch2/catch.hpp>

using namespace gatehouse::host;
using namespace gatehouse::host::isolation;

TEST_CASE("frame headers round-trip big-endian and refuse lengths outside the cap", "[isolation][wire]") {
  const auto bytes = encode_header(FrameKind::invoke, 0x0102030405060708ull, 42, 1000);
  // The length counts the 20 header bytes after it plus the payload: 1020 = 0x000003fc, big-endian.
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x00);
  CHECK(static_cast<unsigned char>(bytes[2]) == 0x03);
  CHECK(static_cast<unsigned char>(bytes[3]) == 0xfc);
  CHECK(static_cast<unsigned char>(bytes[7]) == static_cast<unsigned>(FrameKind::invoke));
  auto header = decode_header(bytes.data());
  REQUIRE(header.ok());
  CHECK(header->kind == FrameKind::invoke);
  CHECK(header->request_id == 0x0102030405060708ull);
  CHECK(header->instance_id == 42);
  CHECK(header->payload_size == 1000);

  const auto biggest = encode_header(FrameKind::reply_ok, 1, 1, kMaxFramePayload);
  CHECK(decode_header(biggest.data()).ok());
  const auto too_big = encode_header(FrameKind::reply_ok, 1, 1, kMaxFramePayload + 1);
  auto refused = decode_header(too_big.data());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "protocol_violation");
  CHECK_THAT(refused.error().message, Catch::Contains("over the limit of 67108864"));

  char short_frame[kFrameHeaderSize] = {0, 0, 0, 5};
  CHECK(decode_header(short_frame).error().code == "protocol_violation");
}

TEST_CASE("the handshake line names the framework and runner protocol - another protocol is refused naming both",
          "[isolation][wire]") {
  const std::string line = handshake_line();
  CHECK(line == std::string("gatehouse-provider-runner 1 ") + GATEHOUSE_FRAMEWORK_VERSION + " 1\n");
  auto ok = parse_handshake(line.substr(0, line.size() - 1), "/r");
  REQUIRE(ok.ok());
  CHECK(ok->protocol == kRunnerProtocolVersion);
  CHECK(ok->framework_version == GATEHOUSE_FRAMEWORK_VERSION);

  auto other = parse_handshake("gatehouse-provider-runner 1 9.9.9 99", "/opt/runner");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == "runner_protocol_mismatch");
  CHECK_THAT(other.error().message, Catch::Contains("'/opt/runner'") && Catch::Contains("runner protocol 99") &&
                                        Catch::Contains("speaks runner protocol 1") && Catch::Contains("9.9.9"));

  CHECK(parse_handshake("hello there", "/r").error().code == "runner_handshake_failed");
  CHECK(parse_handshake("gatehouse-provider-runner one 0.1.0 1", "/r").error().code == "runner_handshake_failed");
  CHECK(parse_handshake("gatehouse-provider-runner 2 0.1.0 1", "/r").error().code == "runner_protocol_mismatch");
}

TEST_CASE("errors and descriptions survive the trip as JSON", "[isolation][wire]") {
  Error e = make_error(gatehouse::host::ErrorCode::schema_invalid, "provider '/x.so' refused: bad", {{"/targets/A", "is wrong"}});
  Error back = decode_error(encode_error(e));
  CHECK(back.code == e.code);
  CHECK(back.message == e.message);
  CHECK(back.diagnostics == e.diagnostics);
  CHECK(decode_error("not json").code == "bad_response");

  Description d;
  d.identity = {"acme", "hello", "0.1.0", "0.1.0", 1, 0};
  d.schema = {{"$id", "urn:x"}};
  d.path = "/p/hello.so";
  auto round = decode_description(encode_description(d));
  REQUIRE(round.ok());
  CHECK(round->identity.reference() == "acme/hello@0.1.0");
  CHECK(round->identity.abi_major == 1);
  CHECK(round->schema == d.schema);
  CHECK(round->path == d.path);
  CHECK(decode_description("{}").error().code == "bad_response");
}
