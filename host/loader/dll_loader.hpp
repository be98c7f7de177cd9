// Loads a provider shared object into this process with Boost.DLL and refuses it, as a value, when it is
// not a provider this host can run.
#pragma once

#include "loader/provider_client.hpp"

#include <filesystem>
#include <memory>

namespace gatehouse::host {

// Error codes (Error::code) of a refused provider, each with a sentence naming the file:
//   file_not_found        the path does not exist or is not a regular file
//   not_a_shared_object   the file is not an ELF shared object
//   load_failed           the dynamic loader refused it (e.g. a missing dependency library; dlerror says which)
//   missing_entry_symbol  no gatehouse_provider_v1 export
//   bad_vtable            the entry returned NULL or a vtable missing functions or identity strings
//   bad_struct_size       struct_size smaller than ABI 1.0's vtable
//   abi_major_mismatch    abi_major differs from the host's (both versions named)
//   abi_minor_too_new     abi_minor newer than the host's (both versions named)
//   describe_failed       Describe returned an error status or threw
//   bad_response          Describe returned bytes that are not a Response, or an identity that disagrees
//   schema_invalid        the schema document breaks schemas/provider.v1.schema.json (diagnostics: JSON pointers)
Result<std::shared_ptr<ProviderModule>> load_provider_in_process(const std::filesystem::path& path);

}  // namespace gatehouse::host
