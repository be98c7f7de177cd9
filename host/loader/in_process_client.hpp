// The in-process ProviderClient: calls a loaded library's vtable directly.
#pragma once

#include "loader/provider_client.hpp"

#include <gatehouse/abi.h>

#include <memory>

namespace gatehouse::host {

// Calls vtable->invoke on `instance` (NULL for Describe). `keep_alive` owns whatever keeps the vtable's
// code mapped (the loaded library) for as long as this object exists. Destroys the instance on destruction.
std::unique_ptr<ProviderClient> make_in_process_client(std::shared_ptr<const void> keep_alive,
                                                       const gatehouse_provider_vtable* vtable, void* instance,
                                                       std::string provider_label);

// One call through the C ABI without an instance (Describe). Errors: "transport_failed" when the provider
// wrote no response or let an exception escape.
Result<std::string> invoke_vtable(const gatehouse_provider_vtable* vtable, void* instance, std::string_view request,
                                  std::string_view provider_label);

// Calls vtable->create with serialized ConfigureRequest bytes. Error "create_failed" carries the provider's
// Status message and diagnostics.
Result<void*> create_instance(const gatehouse_provider_vtable* vtable, std::string_view configure_request,
                              std::string_view provider_label);

// The host services handed to every provider instance (logging into the host's log).
const gatehouse_host_api* host_api();

}  // namespace gatehouse::host
