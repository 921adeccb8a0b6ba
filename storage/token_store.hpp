#pragma once
// Opening a TokenStore (the interface is core's: core/auth/token_store.hpp). open_store() picks
// the backend from the URL scheme (sqlite://, postgresql://); the concrete classes live in their
// .cpp files so this header never pulls in SQLiteCpp or libpqxx.

#include <memory>
#include <string>
#include <vector>

#include "core/auth/token_store.hpp"
#include "core/config/config.hpp"
#include "storage/result.hpp"

namespace mcpd::storage {

// The backends implement core's interface under these names.
using core::auth::k_max_jti_length;
using core::auth::k_max_revocation_reason_length;
using core::auth::k_usage_interval;
using core::auth::NewToken;
using core::auth::RevokedJti;
using core::auth::Time;
using core::auth::Token;
using core::auth::TokenFilter;
using core::auth::TokenStore;
using core::auth::TokenWithUser;
using core::auth::User;

// Opens (and migrates) the store named by url. invalid: unknown scheme or bad URL;
// unavailable: cannot connect/open.
Result<std::unique_ptr<TokenStore>> open_store(const std::string& url);

// The store the settings name (Settings::database), the one way every command opens it: the
// default database's directory is created (0700) first. invalid when no database is known.
Result<std::unique_ptr<TokenStore>> open_store(const core::Settings& settings);

// The schemes open_store() understands, from its backend table: the one list of them (the
// settings check database URLs against it, see core::SettingsOptions).
std::vector<std::string> supported_schemes();

}  // namespace mcpd::storage
