// The runner's side of the protocol (wire.hpp): reads frames from the inherited socket with Boost.Asio and
// serves them from a pool of threads, answering each with its request id.
#pragma once

#include "common/result.hpp"
#include "loader/provider_client.hpp"

#include <memory>

namespace gatehouse::host::isolation {

// Serves `module` (or, when it was refused, its refusal as the answer to every request) on `fd` until the host
// closes its end; then lets running calls finish, destroys the instances and returns the process exit code.
// `threads` calls run at once at most.
int serve(int fd, Result<std::shared_ptr<ProviderModule>> module, unsigned threads);

}  // namespace gatehouse::host::isolation
