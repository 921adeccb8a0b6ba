#include "storage/postgres_module_loader.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string_view>
#include <system_error>

#include "storage/postgres/module.hpp"

namespace mcpd::storage {

namespace {

namespace fs = std::filesystem;
namespace pg_module = postgres_module;

// Baked in by storage/CMakeLists.txt.
constexpr std::string_view k_relative_dir = MCPD_POSTGRES_MODULE_RELATIVE_DIR;  // from bindir
constexpr std::string_view k_installed_path = MCPD_POSTGRES_MODULE_INSTALLED;   // absolute
constexpr std::string_view k_build_dir = MCPD_BUILD_DIR;
constexpr std::string_view k_build_path = MCPD_POSTGRES_MODULE_BUILD;

bool inside(const fs::path& file, std::string_view directory) {
  const std::string text = file.string();
  return text.size() > directory.size() && text.starts_with(directory) &&
         text[directory.size()] == '/';
}

std::string last_dl_error() {
  const char* error = dlerror();
  return error ? error : "unknown error";
}

struct Factory {
  pg_module::FactoryFunction open = nullptr;
};

Result<Factory> load_factory() {
  static std::mutex mutex;
  static Factory loaded;
  std::lock_guard lock(mutex);
  if (loaded.open) return loaded;

  const std::string path = postgres_module_path().string();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return fail(Failure::unavailable, "PostgreSQL support is not installed: cannot load " + path +
                                          ": " + last_dl_error());
  // A handle that turns out not to be our module is closed again.
  const auto refuse = [&](const std::string& message) {
    auto error = fail(Failure::unavailable, message);
    dlclose(handle);
    return error;
  };
  auto* build_id =
      reinterpret_cast<pg_module::BuildIdFunction>(dlsym(handle, pg_module::k_build_id_symbol));
  if (!build_id) return refuse(path + " is not an mcpd PostgreSQL module: " + last_dl_error());
  // C++ objects cross the boundary: only a module of this very build may be used.
  if (const std::string_view theirs = build_id(); theirs != k_build_id)
    return refuse("PostgreSQL support does not match this mcpd: " + path + " is from build '" +
                  std::string{theirs} + "', this mcpd is build '" + k_build_id +
                  "' (reinstall mcpd)");
  auto* factory =
      reinterpret_cast<pg_module::FactoryFunction>(dlsym(handle, pg_module::k_factory_symbol));
  if (!factory) return refuse(path + " is not an mcpd PostgreSQL module: " + last_dl_error());
  // Never dlclose()d from here on: the stores it makes run its code.
  loaded.open = factory;
  return loaded;
}

}  // namespace

fs::path postgres_module_path() {
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (error) return fs::path{k_installed_path};
  const fs::path installed =
      (executable.parent_path() / k_relative_dir / pg_module::k_file_name).lexically_normal();
  if (!fs::exists(installed, error) && inside(executable, k_build_dir))
    return fs::path{k_build_path};
  return installed;
}

Result<std::unique_ptr<TokenStore>> open_postgres_module_store(const std::string& url) {
  auto factory = load_factory();
  if (!factory) return factory.error();
  std::optional<pg_module::OpenResult> opened;
  factory->open(url, opened);
  if (!opened) return fail(Failure::unavailable, "the PostgreSQL module returned nothing");
  return std::move(*opened);
}

}  // namespace mcpd::storage
