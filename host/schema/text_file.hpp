// Private to host/schema: whole-file reads that report the operating system's reason on failure.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace gatehouse::host::detail {

// The file's bytes; on failure nullopt and `reason` holds strerror's text ("No such file or directory").
std::optional<std::string> read_text_file(const std::filesystem::path& path, std::string& reason);

}  // namespace gatehouse::host::detail
