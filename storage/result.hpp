#pragma once
// Storage's result type is the one the TokenStore interface returns (core/auth/store_result.hpp).

#include "core/auth/store_result.hpp"

namespace mcpd::storage {

using core::auth::fail;
using core::auth::Failure;
using core::auth::Result;
using core::auth::StoreError;
using core::auth::to_string;

}  // namespace mcpd::storage
