// Checks the daemon tests share: a CLI call's JSON output, the error object of an API answer, a grant as
// `grant show` has it, and waiting for something the daemon does in the background. They use Catch's
// REQUIRE, so call them from the test's own thread only.
#pragma once

#include "daemon_fixture.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace gatehouse::test {

// The stdout of a CLI call run with `-o json`; fails the test (printing both streams) unless it exited 0.
nlohmann::json json_output(const ProcessResult& r);

// The `error` object of an API answer: a JSON body with code, message and a details array.
nlohmann::json error_of(const RawResponse& r);

// Writes `yaml` to the fixture's directory as `name` and applies it as the admin; fails the test unless it
// applied (exit 0).
void apply_document(const DaemonFixture& d, const std::string& name, const std::string& yaml);

// `gatehouse handler check ID`; fails the test unless the handler is healthy now.
void require_healthy(const DaemonFixture& d, const std::string& handler);

// `gatehouse grant show ID -o json` as the admin.
nlohmann::json grant_of(const DaemonFixture& d, const std::string& id);

// The reason of the last status change in a grant's `history` (notes, such as what the provider said, skipped).
std::string last_change_reason(const nlohmann::json& grant);

// Polls `what` every 100 ms until it holds; false after 60 s. A deadline for a stuck test on a slow machine,
// never an upper bound on the product: the test waits for the event, not for a time.
bool eventually(const std::function<bool()>& what);

}  // namespace gatehouse::test
