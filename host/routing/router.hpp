// Everything host/routing offers, for callers that want one include.
#pragma once

#include "routing/candidate.hpp"
#include "routing/failover.hpp"
#include "routing/health_bitset.hpp"
#include "routing/kind_compatibility.hpp"
#include "routing/revoke.hpp"
#include "routing/routing_table.hpp"
