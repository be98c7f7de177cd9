// Offline provider verbs: they load the .so in this process (after a gatehouse-provider-runner has loaded and
// described it without harm, see isolation/provider_scan.hpp) and never talk to a daemon.
#pragma once

#include <iosfwd>
#include <string>

namespace gatehouse::cli {

enum class OutputFormat { table, json };

// `gatehouse provider inspect PATH.so`: identity, ABI, config fields (secrets marked), resource types and
// their relations, loaders, target kinds. JSON output is the schema document itself.
int provider_inspect(const std::string& path, OutputFormat format, std::ostream& out, std::ostream& err);

// `gatehouse provider validate-config PATH.so CONFIG`: every fault with its field path; secrets never printed.
int provider_validate_config(const std::string& path, const std::string& config_path, OutputFormat format,
                             std::ostream& out, std::ostream& err);

}  // namespace gatehouse::cli
