// Reads a handler config document written as YAML or JSON (JSON is YAML; both give a JSON object).
#pragma once

#include "common/result.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

namespace gatehouse::host {

// Errors: "config_unreadable" (cannot open), "config_parse_error" (with line/column in the message),
// "config_not_an_object" (the document is a scalar or a list).
Result<nlohmann::json> read_config_file(const std::filesystem::path& path);
Result<nlohmann::json> parse_config_text(std::string_view text, std::string_view source_name);

}  // namespace gatehouse::host
