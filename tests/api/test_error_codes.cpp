// The one table of error codes (host/common/error_codes.txt): its generated enum, its HTTP statuses, the
// retry rule of provider calls, and the copy of it in docs/api.md.
#include "api/api_service.hpp"
#include "common/result.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

using namespace gatehouse::host;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("docs/api.md's error table is the one error_codes.txt generates") {
  const std::string docs = read_file(GATEHOUSE_SOURCE_DIR "/docs/api.md");
  const std::string generated = read_file(GATEHOUSE_ERROR_TABLE_MD);
  const std::string begin_marker = "<!-- error-table:begin";
  const std::string end_marker = "<!-- error-table:end -->";
  const auto begin = docs.find(begin_marker);
  REQUIRE(begin != std::string::npos);
  const auto table_start = docs.find('\n', begin) + 1;
  const auto end = docs.find(end_marker, table_start);
  REQUIRE(end != std::string::npos);
  INFO("docs/api.md's error table differs from host/common/error_codes.txt: build, then copy "
       "build/host/generated/error_table.md between the error-table markers of docs/api.md");
  CHECK(docs.substr(table_start, end - table_start) == generated);
}

TEST_CASE("every error code has one name, a status and a meaning") {
  std::set<std::string_view> names;
  for (const auto& info : kErrorCodeTable) {
    INFO(info.name);
    CHECK(names.insert(info.name).second);
    CHECK(error_code_from_name(info.name) == info.code);
    CHECK(info.http_status >= 200);
    CHECK(info.http_status <= 599);
    CHECK_FALSE(info.meaning.empty());
  }
  CHECK_FALSE(error_code_from_name("internal").has_value());  // one internal code: internal_error
  CHECK_FALSE(error_code_from_name("no_such_code").has_value());
}

TEST_CASE("an error answers with its code's status, and keeps the code for the audit outcome") {
  auto answer = [](ErrorCode code) { return api::error_response(make_error(code, "because")); };
  CHECK(answer(ErrorCode::invalid_argument).status == 400);
  CHECK(answer(ErrorCode::unauthenticated).status == 401);
  CHECK(answer(ErrorCode::forbidden).status == 403);
  CHECK(answer(ErrorCode::not_found).status == 404);
  CHECK(answer(ErrorCode::already_exists).status == 409);
  CHECK(answer(ErrorCode::database_unavailable).status == 503);
  CHECK(answer(ErrorCode::internal_error).status == 500);
  // A provider refusing its config is the caller's input, not a server failure (it answered 500 before).
  CHECK(answer(ErrorCode::create_failed).status == 400);
  const auto response = answer(ErrorCode::idempotency_conflict);
  REQUIRE(response.error.has_value());
  CHECK(*response.error == ErrorCode::idempotency_conflict);
  CHECK(response.body.find("\"code\":\"idempotency_conflict\"") != std::string::npos);
  CHECK(response.body.find("\"message\":\"because\"") != std::string::npos);
}

TEST_CASE("the retry rule of provider calls is the table's retryable column") {
  CHECK(is_retryable(ErrorCode::transport_failed));
  CHECK(is_retryable(ErrorCode::unavailable));
  CHECK(is_retryable(ErrorCode::deadline_exceeded));
  CHECK(is_retryable(ErrorCode::resource_exhausted));
  CHECK(is_retryable(ErrorCode::aborted));
  CHECK_FALSE(is_retryable(ErrorCode::invalid_argument));
  CHECK_FALSE(is_retryable(ErrorCode::bad_response));
  CHECK_FALSE(is_retryable(ErrorCode::permission_denied));
}

TEST_CASE("an error wrapping another keeps it as its cause, with the SQLSTATE") {
  Error db = make_error(ErrorCode::database_error, "the database refused a statement (SQLSTATE 23505): dup");
  db.sqlstate = "23505";
  const Error wrapped = wrap_error(db, ErrorCode::already_exists, "handler 'a' already exists");
  CHECK(wrapped.code == ErrorCode::already_exists);
  CHECK(wrapped.sqlstate == "23505");
  REQUIRE(wrapped.cause);
  CHECK(wrapped.cause->code == ErrorCode::database_error);
  CHECK(wrapped.cause->message == db.message);
}
