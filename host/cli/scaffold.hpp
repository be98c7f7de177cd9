// `gatehouse provider new NAME`: writes a standalone provider project that builds against the installed SDK
// (find_package(gatehouse-sdk)), tests itself with the SDK's test kit and packages itself as a .deb.
// Plain functions so tests can check the names and the files without running the CLI.
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>

namespace gatehouse::cli {

// Why NAME cannot name a provider project (a sentence), or nullopt when it can: a lowercase letter, then
// lowercase letters, digits, '-' or '_', at most 48 characters.
std::optional<std::string> provider_name_problem(const std::string& name);

// Why PUBLISHER cannot be a provider's publisher, or nullopt: lowercase letters, digits and '-', starting
// with a letter or digit (the meta-schema's rule), at most 48 characters.
std::optional<std::string> publisher_problem(const std::string& publisher);

// Where the author's guide is when the SDK package is installed: /usr/share/doc/gatehouse-sdk-dev/….
inline constexpr const char* kDefaultGuidePath = "/usr/share/doc/gatehouse-sdk-dev/provider-authors.md";

// The guide next to this CLI's install prefix (<prefix>/share/doc/gatehouse-sdk-dev/provider-authors.md) when
// it exists there, else kDefaultGuidePath.
std::string installed_guide_path();

// The project's files, relative path → content, for a valid NAME and PUBLISHER. `sdk_version` is the SDK the
// project asks find_package() for (major.minor.patch; this CLI's own version by default). The publisher is
// written once, in CMakeLists.txt (gatehouse_add_provider(... PUBLISHER ...)); the README names `guide`.
std::map<std::string, std::string> provider_project_files(const std::string& name, const std::string& sdk_version,
                                                          const std::string& publisher = "example",
                                                          const std::string& guide = kDefaultGuidePath);

// Writes the project into `dir` (default: ./NAME). Exit 3 with a sentence for a bad NAME or PUBLISHER or a
// directory that exists and is not empty (nothing is overwritten); 1 when a file cannot be written.
int provider_new(const std::string& name, const std::string& dir, const std::string& publisher, std::ostream& out,
                 std::ostream& err);

}  // namespace gatehouse::cli
