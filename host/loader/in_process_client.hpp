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
// `api` is what the instance gets (host_api_for); null: host_api(), whose log lines name no handler.
Result<void*> create_instance(const gatehouse_provider_vtable* vtable, std::string_view configure_request,
                              std::string_view provider_label, const gatehouse_host_api* api = nullptr);

// The host services handed to a provider instance: logging into the host's log. host_api() names no handler;
// host_api_for(id) tags every line the instance logs with "handler" = id. Keep the returned pointer alive for
// as long as the instance (the ABI promises the api outlives it). Thread-safe: providers log from any thread.
const gatehouse_host_api* host_api();
std::shared_ptr<const gatehouse_host_api> host_api_for(std::string handler_id);

}  // namespace gatehouse::host
