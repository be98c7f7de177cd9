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

// `gatehouse provider validate-config PATH.so CONFIG [--resolve]`: what gatehoused would refuse in a handler
// config — every fault of the provider's config schema and every secret given in clear (exit 3) — with the
// field paths gatehoused uses (/config/token); secret values are never printed. env:/file: references are
// listed as not resolved (gatehoused resolves them in its own environment) unless `resolve` asks to resolve
// them here, where an unset variable or unreadable file is a fault.
int provider_validate_config(const std::string& path, const std::string& config_path, bool resolve,
                             OutputFormat format, std::ostream& out, std::ostream& err);

}  // namespace gatehouse::cli
