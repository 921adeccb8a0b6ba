#include "core/auth/token_service.hpp"

#include <algorithm>
#include <cctype>

namespace mcpd::core::auth {

std::vector<std::string> split_tools(const std::string& list) {
  std::vector<std::string> tools;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string tool = list.substr(start, end - start);
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    tool.erase(tool.begin(), std::find_if(tool.begin(), tool.end(), not_space));
    tool.erase(std::find_if(tool.rbegin(), tool.rend(), not_space).base(), tool.end());
    if (!tool.empty() && std::find(tools.begin(), tools.end(), tool) == tools.end())
      tools.push_back(std::move(tool));
    start = end + 1;
  }
  return tools;
}

Result<IssuedToken> issue_token(TokenStore& store, const TokenHasher& hasher,
                                const TokenRequest& request, Time now) {
  if (request.expires_days && (*request.expires_days < 1 || *request.expires_days > 36500))
    return fail(Failure::invalid, "--expires-days must be between 1 and 36500");
  auto user = store.get_user(request.user_email);
  if (!user) return user.error();
  if (!user->is_active) return fail(Failure::invalid, "user '" + user->email + "' is disabled");

  IssuedToken issued;
  issued.plaintext = generate_token();
  NewToken token;
  token.user_id = user->id;
  token.name = request.name;
  token.hash = hasher.hash(issued.plaintext);
  token.last8 = last8_of(issued.plaintext);
  token.allowed_tools = request.allowed_tools;
  if (request.expires_days) token.expires_at = now + std::chrono::days{*request.expires_days};
  auto created = store.create_token(token);
  if (!created) return created.error();
  issued.token = std::move(*created);
  return issued;
}

}  // namespace mcpd::core::auth
