// mcpd token create|list|revoke|revoke-jti: the seed's create_mcp_token management command,
// plus list, revoke, and the revoked-JWT list. The plaintext token is printed once, at creation;
// storage keeps only its hash.
#include "core/auth/token.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include "cmd/admin.hpp"
#include "cmd/commands.hpp"
#include "core/auth/token_service.hpp"
#include "core/config/error.hpp"

namespace mcpd::cmd {
namespace {

struct TokenOptions {
  admin::StoreOptions store;
  std::string user;
  std::string name;
  std::string tools;
  std::optional<int> expires_days;
  bool all = false;
  bool json = false;
  std::int64_t id = 0;
  std::string jti;
  std::string expires_at;  // revoke-jti: ISO-8601 UTC, a date, or Unix seconds
  std::string reason;
};

// "2025-11-21T19:51:00Z", "2025-11-21" (midnight UTC) or Unix seconds.
storage::Time parse_time(const std::string& text, const std::string& what) {
  const auto bad = [&] {
    return Error(what + ": expected an ISO-8601 UTC time (2025-11-21T19:51:00Z), a date or " +
                 "Unix seconds, got '" + text + "'");
  };
  if (!text.empty() && text.size() <= 12 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return storage::Time{std::chrono::seconds{std::stoll(text)}};
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != static_cast<int>(text.size())) {
    tm = {};
    consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &consumed) != 3 ||
        consumed != static_cast<int>(text.size()))
      throw bad();
  }
  const std::tm given = tm;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t seconds = ::timegm(&tm);
  // timegm normalises out-of-range fields (Feb 30 -> Mar 2): refuse those.
  if (tm.tm_mday != given.tm_mday || tm.tm_hour != given.tm_hour || tm.tm_sec != given.tm_sec ||
      tm.tm_min != given.tm_min)
    throw bad();
  return storage::Time{std::chrono::seconds{seconds}};
}

std::string tools_text(const std::vector<std::string>& tools) {
  if (tools.empty()) return "all";
  std::string text;
  for (const auto& tool : tools) text += (text.empty() ? "" : ",") + tool;
  return text;
}

std::string status_of(const storage::Token& token, storage::Time now) {
  if (!token.is_active) return "revoked";
  if (token.expired(now)) return "expired";
  return "active";
}

int run_create(const TokenOptions& options, const core::Environment& env) {
  core::auth::TokenRequest request;
  request.user_email = options.user;
  request.name = options.name;
  request.allowed_tools = core::auth::split_tools(options.tools);
  request.expires_days = options.expires_days;
  const core::Settings settings = admin::load_settings(options.store, env);
  const core::auth::TokenHasher hasher{settings.token_pepper};
  auto store = cmd::open_store(settings);
  const auto issued =
      admin::take(core::auth::issue_token(*store, hasher, request, core::auth::now_seconds()));
  const auto& token = issued.token;
  if (options.json) {
    const nlohmann::ordered_json out = {{"id", token.id},
                                        {"name", token.name},
                                        {"user", token.user_email},
                                        {"token", issued.plaintext},
                                        {"allowed_tools", token.allowed_tools},
                                        {"expires_at", admin::time_or_null(token.expires_at)},
                                        {"created_at", core::auth::to_iso8601(token.created_at)}};
    std::cout << out.dump() << '\n';
    return k_exit_ok;
  }
  std::cout << "MCP token created\n"
            << "  ID:      " << token.id << '\n'
            << "  Name:    " << token.name << '\n'
            << "  User:    " << token.user_email << '\n'
            << "  Tools:   " << tools_text(token.allowed_tools) << '\n'
            << "  Expires: " << admin::time_or(token.expires_at, "never") << '\n'
            << "  Token (shown once - store it now, it will not be shown again):\n"
            << "  " << issued.plaintext << '\n';
  return k_exit_ok;
}

int run_list(const TokenOptions& options, const core::Environment& env) {
  auto store = admin::open_store(options.store, env);
  storage::TokenFilter filter;
  filter.include_inactive = options.all;
  filter.now = core::auth::now_seconds();
  if (!options.user.empty()) {
    admin::take(store->get_user(options.user));  // "user 'x' not found" rather than nothing
    filter.user_email = options.user;
  }
  const auto tokens = admin::take(store->list_tokens(filter));
  if (options.json) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& token : tokens) out.push_back(admin::token_json(token));
    std::cout << out.dump() << '\n';
    return k_exit_ok;
  }
  if (tokens.empty()) {
    std::cout << (options.all ? "No tokens.\n"
                              : "No active tokens (--all shows revoked and expired ones).\n");
    return k_exit_ok;
  }
  std::vector<admin::Row> rows;
  for (const auto& token : tokens) {
    rows.push_back({std::to_string(token.id), token.name, token.user_email, token.masked(),
                    status_of(token, filter.now), tools_text(token.allowed_tools),
                    admin::time_or(token.expires_at, "never"),
                    admin::time_or(token.last_used_at, "never"),
                    core::auth::to_iso8601(token.created_at)});
  }
  admin::print_table(
      std::cout,
      {"ID", "NAME", "USER", "TOKEN", "STATUS", "TOOLS", "EXPIRES", "LAST USED", "CREATED"}, rows);
  return k_exit_ok;
}

int run_revoke(const TokenOptions& options, const core::Environment& env) {
  auto store = admin::open_store(options.store, env);
  const auto token = admin::take(store->revoke_token(options.id));
  if (options.json) {
    std::cout << admin::token_json(token).dump() << '\n';
  } else {
    std::cout << "Token " << token.id << " (" << token.name << ", " << token.user_email
              << ") revoked.\n";
  }
  return k_exit_ok;
}

// Refuses a JWT by its jti on every replica sharing the database (within a few seconds).
int run_revoke_jti(const TokenOptions& options, const core::Environment& env) {
  std::optional<storage::Time> expires_at;
  if (!options.expires_at.empty()) expires_at = parse_time(options.expires_at, "--expires-at");
  auto store = admin::open_store(options.store, env);
  const auto revoked = admin::take(
      store->revoke_jti(options.jti, expires_at, options.reason, core::auth::now_seconds()));
  if (options.json) {
    const nlohmann::ordered_json out = {{"jti", revoked.jti},
                                        {"expires_at", admin::time_or_null(revoked.expires_at)},
                                        {"reason", revoked.reason},
                                        {"revoked_at", core::auth::to_iso8601(revoked.revoked_at)}};
    std::cout << out.dump() << '\n';
  } else {
    std::cout << "JWT id " << revoked.jti << " revoked (until "
              << admin::time_or(revoked.expires_at, "removed by hand") << ").\n";
  }
  return k_exit_ok;
}

}  // namespace

void setup_token(CLI::App& app, Action& action) {
  auto options = std::make_shared<TokenOptions>();
  auto* token = app.add_subcommand("token", "Create, list and revoke API tokens; revoke JWTs");
  token->require_subcommand(1);

  auto* create = token->add_subcommand("create", "Create a token and print it once");
  create->add_option("--user", options->user, "E-mail of the user the token acts as")
      ->type_name("EMAIL")
      ->required();
  create->add_option("--name", options->name, "Label, e.g. \"Claude Desktop\"")
      ->type_name("NAME")
      ->required();
  create->add_option("--tools", options->tools, "Comma-separated tool allow-list (default: all)")
      ->type_name("a,b,c");
  create
      ->add_option("--expires-days", options->expires_days,
                   "Days until expiry, 1-36500 (default: never)")
      ->type_name("N")
      ->check(CLI::Range(1, 36500));
  create->add_flag("--json", options->json, "Print one JSON object");
  admin::add_store_options(*create, options->store);
  create->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_create(*options, env); };
  });

  auto* list = token->add_subcommand("list", "List tokens (masked)");
  list->add_option("--user", options->user, "Only this user's tokens")->type_name("EMAIL");
  list->add_flag("--all", options->all, "Include revoked and expired tokens");
  list->add_flag("--json", options->json, "Print a JSON array");
  admin::add_store_options(*list, options->store);
  list->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_list(*options, env); };
  });

  auto* revoke = token->add_subcommand("revoke", "Revoke a token by ID");
  revoke->add_option("ID", options->id, "Token ID, as shown by 'mcpd token list'")->required();
  revoke->add_flag("--json", options->json, "Print the revoked token as JSON");
  admin::add_store_options(*revoke, options->store);
  revoke->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_revoke(*options, env); };
  });

  auto* revoke_jti =
      token->add_subcommand("revoke-jti", "Refuse JWTs with this jti (token id) from now on");
  revoke_jti->add_option("JTI", options->jti, "The JWT's jti claim")->required();
  revoke_jti
      ->add_option("--expires-at", options->expires_at,
                   "When the JWT expires (its exp); the entry is pruned after (default: kept)")
      ->type_name("ISO");
  revoke_jti->add_option("--reason", options->reason, "Why, for the record")->type_name("TEXT");
  revoke_jti->add_flag("--json", options->json, "Print the revocation as JSON");
  admin::add_store_options(*revoke_jti, options->store);
  revoke_jti->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_revoke_jti(*options, env); };
  });
}

}  // namespace mcpd::cmd
