#include "storage/database_url.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace mcpd::storage {
namespace {

std::optional<std::string> non_empty(std::optional<std::string> value) {
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string{value};
}

std::string sqlite_url_for(const std::string& directory) {
  return "sqlite://" + directory + "/mcpd.db";
}

}  // namespace

Result<ResolvedDatabase> resolve_database_url(const DatabaseUrlSources& sources) {
  const std::pair<const std::optional<std::string>&, const char*> explicit_sources[] = {
      {sources.flag, "--database"},
      {sources.mcpd_database_url, "MCPD_DATABASE_URL"},
      {sources.database_url, "DATABASE_URL"},
      {sources.config, "config \"database\""},
  };
  for (const auto& [value, name] : explicit_sources) {
    if (auto url = non_empty(value)) return ResolvedDatabase{*url, name, {}};
  }
  if (auto state = non_empty(sources.state_directory)) {
    std::string first = state->substr(0, state->find(':'));
    if (!first.empty()) return ResolvedDatabase{sqlite_url_for(first), "default", {}};
  }
  if (auto xdg = non_empty(sources.xdg_data_home); xdg && xdg->front() == '/') {
    std::string directory = *xdg + "/mcpd";
    return ResolvedDatabase{sqlite_url_for(directory), "default", directory};
  }
  if (auto home = non_empty(sources.home)) {
    std::string directory = *home + "/.local/share/mcpd";
    return ResolvedDatabase{sqlite_url_for(directory), "default", directory};
  }
  return fail(Failure::invalid,
              "no database configured and no home directory for the default "
              "(set --database or MCPD_DATABASE_URL)");
}

DatabaseUrlSources database_url_sources_from_environment(std::optional<std::string> flag,
                                                         std::optional<std::string> config) {
  DatabaseUrlSources sources;
  sources.flag = std::move(flag);
  sources.config = std::move(config);
  sources.mcpd_database_url = env("MCPD_DATABASE_URL");
  sources.database_url = env("DATABASE_URL");
  sources.state_directory = env("STATE_DIRECTORY");
  sources.xdg_data_home = env("XDG_DATA_HOME");
  sources.home = env("HOME");
  return sources;
}

Result<void> create_private_directory(const std::string& directory) {
  if (directory.empty()) return {};
  std::string path;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = directory.find('/', pos + 1);
    path = directory.substr(0, pos);
    if (path.empty()) continue;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      return fail(Failure::unavailable,
                  "cannot create directory '" + path + "': " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(Failure::unavailable, "'" + directory + "' is not a directory");
  return {};
}

std::string url_scheme(const std::string& url) {
  const auto colon = url.find(':');
  if (colon == std::string::npos) return {};
  std::string scheme = url.substr(0, colon);
  for (char& c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return scheme;
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  // URL form: scheme://user:password@host/...
  if (const auto start = out.find("://"); start != std::string::npos) {
    const auto authority = start + 3;
    const auto end = out.find_first_of("/?", authority);
    const auto at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at > authority) {
      const auto colon = out.find(':', authority);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // Query or conninfo form: password=...
  for (std::size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    const auto value = pos + std::strlen("password=");
    const auto end = out.find_first_of("& ", value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

Result<std::string> sqlite_path(const std::string& url) {
  if (url_scheme(url) != "sqlite") return fail(Failure::invalid, "not a sqlite URL: " + url);
  std::string_view rest{url};
  rest.remove_prefix(std::strlen("sqlite:"));
  if (rest.substr(0, 2) == "//") rest.remove_prefix(2);
  if (rest.empty())
    return fail(Failure::invalid,
                "sqlite URL '" + url + "' names no file (sqlite:///path/mcpd.db)");
  return std::string{rest};
}

}  // namespace mcpd::storage
