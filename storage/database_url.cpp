#include "storage/database_url.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace mcpd::storage {

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
