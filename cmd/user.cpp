// mcpd user add|list|disable|enable: the accounts tokens act as. Disabling a user refuses all of
// their tokens (the validation chain checks the user) without revoking them.
#include <iostream>
#include <memory>

#include "cmd/admin.hpp"
#include "cmd/commands.hpp"
#include "core/config/error.hpp"

namespace mcpd::cmd {
namespace {

struct UserOptions {
  admin::StoreOptions store;
  std::string email;
  std::string name;
  bool json = false;
};

void print_user(const storage::User& user, bool json, const std::string& what) {
  if (json)
    std::cout << admin::user_json(user).dump() << '\n';
  else
    std::cout << "User " << user.email << ' ' << what << ".\n";
}

int run_add(const UserOptions& options, const core::Environment& env) {
  auto store = admin::open_store(options.store, env);
  print_user(admin::take(store->add_user(options.email, options.name)), options.json, "added");
  return k_exit_ok;
}

int run_list(const UserOptions& options, const core::Environment& env) {
  auto store = admin::open_store(options.store, env);
  const auto users = admin::take(store->list_users());
  if (options.json) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& user : users) out.push_back(admin::user_json(user));
    std::cout << out.dump() << '\n';
    return k_exit_ok;
  }
  if (users.empty()) {
    std::cout << "No users (add one with 'mcpd user add EMAIL').\n";
    return k_exit_ok;
  }
  std::vector<admin::Row> rows;
  for (const auto& user : users) {
    rows.push_back({user.email, user.name, user.is_active ? "active" : "disabled",
                    core::auth::to_iso8601(user.created_at)});
  }
  admin::print_table(std::cout, {"EMAIL", "NAME", "STATUS", "CREATED"}, rows);
  return k_exit_ok;
}

int run_set_active(const UserOptions& options, bool active, const core::Environment& env) {
  auto store = admin::open_store(options.store, env);
  print_user(admin::take(store->set_user_active(options.email, active)), options.json,
             active ? "enabled" : "disabled");
  return k_exit_ok;
}

}  // namespace

void setup_user(CLI::App& app, Action& action) {
  auto options = std::make_shared<UserOptions>();
  auto* user = app.add_subcommand("user", "Add, list, disable and enable users");
  user->require_subcommand(1);

  auto* add = user->add_subcommand("add", "Add a user");
  add->add_option("EMAIL", options->email, "E-mail address (case-insensitive)")->required();
  add->add_option("--name", options->name, "Display name")->type_name("NAME");
  add->add_flag("--json", options->json, "Print the user as JSON");
  admin::add_store_options(*add, options->store);
  add->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_add(*options, env); };
  });

  auto* list = user->add_subcommand("list", "List users");
  list->add_flag("--json", options->json, "Print a JSON array");
  admin::add_store_options(*list, options->store);
  list->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_list(*options, env); };
  });

  auto* disable = user->add_subcommand("disable", "Disable a user: all their tokens stop working");
  auto* enable = user->add_subcommand("enable", "Enable a disabled user");
  for (auto* sub : {disable, enable}) {
    sub->add_option("EMAIL", options->email, "E-mail address")->required();
    sub->add_flag("--json", options->json, "Print the user as JSON");
    admin::add_store_options(*sub, options->store);
  }
  disable->callback([options, &action] {
    action = [options](const core::Environment& env) {
      return run_set_active(*options, false, env);
    };
  });
  enable->callback([options, &action] {
    action = [options](const core::Environment& env) {
      return run_set_active(*options, true, env);
    };
  });
}

}  // namespace mcpd::cmd
