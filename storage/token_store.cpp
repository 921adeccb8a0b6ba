#include "storage/token_store.hpp"

#include <string_view>

#include "storage/database_url.hpp"
#include "storage/postgres/postgres_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mcpd::storage {

const char* to_string(Failure failure) {
  switch (failure) {
    case Failure::not_found:
      return "not found";
    case Failure::conflict:
      return "conflict";
    case Failure::unavailable:
      return "unavailable";
    case Failure::invalid:
      return "invalid";
  }
  return "invalid";
}

Result<void> TokenStore::record_usage(const Token& token, Time now) {
  if (token.last_used_at && now - *token.last_used_at < k_usage_interval) return {};
  {
    std::lock_guard lock(m_usage_mutex);
    auto it = m_usage_written.find(token.id);
    if (it != m_usage_written.end() && now - it->second < k_usage_interval) return {};
    // Bounded memory: entries older than the interval carry no information.
    if (m_usage_written.size() >= 10000) {
      std::erase_if(m_usage_written,
                    [&](const auto& entry) { return now - entry.second >= k_usage_interval; });
    }
    m_usage_written[token.id] = now;
  }
  auto written = write_last_used(token.id, now);
  if (!written) {
    std::lock_guard lock(m_usage_mutex);
    m_usage_written.erase(token.id);  // try again on the next use
  }
  return written;
}

namespace {

using Opener = Result<std::unique_ptr<TokenStore>> (*)(const std::string& url);

struct Backend {
  std::string_view scheme;
  Opener open;
};

// ccache-style backend table: scheme -> factory.
constexpr Backend k_backends[] = {
    {"sqlite", open_sqlite_store},
    {"postgresql", open_postgres_store},
    {"postgres", open_postgres_store},
};

}  // namespace

std::vector<std::string> supported_schemes() {
  std::vector<std::string> schemes;
  for (const auto& backend : k_backends) schemes.emplace_back(backend.scheme);
  return schemes;
}

Result<std::unique_ptr<TokenStore>> open_store(const std::string& url) {
  const auto scheme = url_scheme(url);
  for (const auto& backend : k_backends) {
    if (backend.scheme == scheme) return backend.open(url);
  }
  std::string known;
  for (const auto& backend : k_backends)
    known += (known.empty() ? "" : ", ") + std::string{backend.scheme};
  return fail(Failure::invalid,
              "unsupported database URL '" + redact_url(url) + "' (schemes: " + known + ")");
}

}  // namespace mcpd::storage
