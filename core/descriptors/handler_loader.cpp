// Handlers (static, exec, http) and MCP content blocks, as written in descriptor files.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <regex>

#include "core/descriptors/loader_internal.hpp"
#include "core/descriptors/placeholders.hpp"

namespace mcpd::core::loader {

namespace {

constexpr std::int64_t k_max_timeout_ms = 24LL * 3600 * 1000;
constexpr std::int64_t k_max_output_cap = std::int64_t{1} << 30;

bool is_identifier(std::string_view name) {
  static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(name.begin(), name.end(), identifier);
}

// RFC 9110 token characters, for header names.
bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A positive integer no larger than `max`; reports under "handler" otherwise.
std::optional<std::int64_t> bounded_integer(FileChecker& c, const json& spec,
                                            const std::string& pointer, std::string_view key,
                                            std::int64_t max) {
  const json* value = c.member(spec, pointer, key, Kind::positive_integer, "handler");
  if (!value) return std::nullopt;
  if (value->is_number_unsigned() ? value->get<std::uint64_t>() > static_cast<std::uint64_t>(max)
                                  : value->get<std::int64_t>() > max) {
    c.error(pointer_append(pointer, key), "handler",
            "'" + std::string(key) + "' must be at most " + std::to_string(max));
    return std::nullopt;
  }
  return value->get<std::int64_t>();
}

// An object whose values are all strings (http query and headers).
bool string_map(FileChecker& c, const json& spec, const std::string& pointer, std::string_view key,
                json& out, bool header_names) {
  const json* map = c.member(spec, pointer, key, Kind::object, "handler");
  if (!map) return !spec.contains(key);
  bool ok = true;
  std::string at = pointer_append(pointer, key);
  for (auto it = map->begin(); it != map->end(); ++it) {
    std::string item = pointer_append(at, it.key());
    if (!it->is_string()) {
      c.error(item, "handler",
              "'" + std::string(key) + "' values must be strings, got " + json_kind_name(*it));
      ok = false;
    } else if (header_names &&
               it->get_ref<const std::string&>().find_first_of("\r\n") != std::string::npos) {
      c.error(item, "handler", "header values must not contain line breaks");
      ok = false;
    }
    if (header_names && !is_token(it.key())) {
      c.error(item, "handler", "'" + it.key() + "' is not a valid header name", Anchor::key);
      ok = false;
    }
  }
  out = *map;
  return ok;
}

// Headers mcpd sets itself: the upstream's credentials, the caller's identity and
// correlation id, and HTTP framing. A descriptor must not replace them.
void check_reserved_headers(FileChecker& c, const json& headers, const std::string& at) {
  static constexpr std::array<std::string_view, 7> k_reserved = {
      "authorization", "host",       "content-length",  "transfer-encoding",
      "connection",    "x-mcp-user", "x-correlation-id"};
  for (auto it = headers.begin(); it != headers.end(); ++it) {
    std::string lower = it.key();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (std::find(k_reserved.begin(), k_reserved.end(), lower) == k_reserved.end()) continue;
    c.error(pointer_append(at, it.key()), "http-header",
            "header '" + it.key() +
                "' is set by mcpd (credentials come from the upstream's config; identity, "
                "correlation id and framing from the call)",
            Anchor::key);
  }
}

// Why passing mcpd's own variable `name` on to a child deserves a second look, if it does:
// mcpd's secrets, and variables that change how the child's program is loaded.
std::optional<std::string> risky_env_name(const std::string& name) {
  for (const char* secret : {"JWT_SECRET", "MCPD_TOKEN", "MCPD_TOKEN_PEPPER", "MCPD_STATE_KEY",
                             "MCPD_DATABASE_URL", "DJANGO_API_KEY"})
    if (name == secret)
      return "'" + name + "' is one of mcpd's own secrets; the child would receive it";
  if (name.rfind("LD_", 0) == 0 || name == "PYTHONPATH" || name == "NODE_OPTIONS" ||
      name == "PERL5LIB" || name == "RUBYOPT")
    return "'" + name + "' changes which code the child loads; pass it only on purpose";
  return std::nullopt;
}

// "command": argv strings; a program path (with '/') must exist and be executable, relative to
// the descriptor's directory. A bare name is looked up on PATH at run time.
void load_command(FileChecker& c, const json& spec, const std::string& ptr,
                  const Declared& declared, std::vector<std::string>& command_out) {
  if (const json* command = c.member(spec, ptr, "command", Kind::array, "handler", true)) {
    std::string at = pointer_append(ptr, "command");
    if (command->empty()) c.error(at, "handler", "'command' must name a program");
    bool all_strings = true;
    for (std::size_t i = 0; i < command->size(); ++i) {
      const json& arg = (*command)[i];
      if (!arg.is_string()) {
        c.error(pointer_append(at, i), "handler",
                "command arguments must be strings, got " + json_kind_name(arg));
        all_strings = false;
        continue;
      }
      command_out.push_back(arg.get<std::string>());
    }
    check_placeholders(c, *command, at, declared);
    if (!all_strings) command_out.clear();
  }
  if (!command_out.empty()) {
    std::string& program = command_out.front();
    std::string at = pointer_append(pointer_append(ptr, "command"), std::size_t{0});
    if (program.empty()) {
      c.error(at, "handler", "the program (command[0]) must not be empty");
    } else if (!find_placeholders(program).empty()) {
      c.error(at, "handler",
              "the program (command[0]) must be fixed; placeholders belong in its arguments");
    } else if (program.find('/') != std::string::npos) {
      // A path: relative to the descriptor file. A bare name is looked up on PATH at run time.
      std::filesystem::path resolved = c.resolve(program);
      std::error_code ec;
      if (!std::filesystem::is_regular_file(resolved, ec))
        c.error(at, "missing-file", "program '" + resolved.string() + "' does not exist");
      else if (::access(resolved.c_str(), X_OK) != 0)
        c.error(at, "missing-file", "program '" + resolved.string() + "' is not executable");
      program = resolved.string();
    }
  }
}

std::optional<HandlerSpec> load_exec(FileChecker& c, const json& spec, const std::string& ptr,
                                     const Declared& declared) {
  c.check_keys(spec, ptr, {"command", "cwd", "env", "timeout_ms", "max_output_bytes", "output"},
               "exec handler");
  std::size_t errors = c.error_count();
  ExecHandlerSpec exec;
  exec.cwd = c.base_dir();

  load_command(c, spec, ptr, declared, exec.command);
  if (const json* cwd = c.member(spec, ptr, "cwd", Kind::nonempty_string, "handler")) {
    exec.cwd = c.resolve(cwd->get<std::string>());
    std::error_code ec;
    if (!find_placeholders(cwd->get_ref<const std::string&>()).empty())
      c.error(pointer_append(ptr, "cwd"), "handler",
              "'cwd' is fixed: placeholders are not substituted there (pass values as arguments)");
    else if (!std::filesystem::is_directory(exec.cwd, ec))
      c.error(pointer_append(ptr, "cwd"), "missing-file",
              "working directory '" + exec.cwd.string() + "' does not exist");
  }
  if (const json* env = c.member(spec, ptr, "env", Kind::array, "handler")) {
    for (std::size_t i = 0; i < env->size(); ++i) {
      const json& name = (*env)[i];
      if (name.is_string() && is_identifier(name.get<std::string>())) {
        exec.env.push_back(name.get<std::string>());
        if (auto why = risky_env_name(exec.env.back()))
          c.warning(pointer_append(pointer_append(ptr, "env"), i), "exec-env", *why);
      } else {
        c.error(pointer_append(pointer_append(ptr, "env"), i), "handler",
                "'env' lists names of variables to pass on, e.g. \"LANG\"; " +
                    (name.is_string() ? "'" + name.get<std::string>() + "' is not a variable name"
                                      : "got " + json_kind_name(name)));
      }
    }
  }
  if (auto ms = bounded_integer(c, spec, ptr, "timeout_ms", k_max_timeout_ms))
    exec.timeout = std::chrono::milliseconds(*ms);
  if (auto cap = bounded_integer(c, spec, ptr, "max_output_bytes", k_max_output_cap))
    exec.max_output_bytes = static_cast<std::size_t>(*cap);
  if (const json* output = c.member(spec, ptr, "output", Kind::string, "handler")) {
    const std::string& o = output->get_ref<const std::string&>();
    if (o == "text")
      exec.output = ExecHandlerSpec::Output::text;
    else if (o == "json")
      exec.output = ExecHandlerSpec::Output::json;
    else if (o == "mcp")
      exec.output = ExecHandlerSpec::Output::mcp;
    else
      c.error(pointer_append(ptr, "output"), "handler",
              "'output' must be \"text\", \"json\" or \"mcp\", got \"" + o + "\"");
  }
  if (c.error_count() != errors || exec.command.empty()) return std::nullopt;
  return exec;
}

std::optional<HandlerSpec> load_http(FileChecker& c, const json& spec, const std::string& ptr,
                                     const Declared& declared) {
  c.check_keys(spec, ptr,
               {"upstream", "method", "path", "query", "headers", "body", "retry", "timeout_ms"},
               "http handler");
  std::size_t errors = c.error_count();
  HttpHandlerSpec http;
  if (const json* upstream =
          c.member(spec, ptr, "upstream", Kind::nonempty_string, "handler", true)) {
    http.upstream = upstream->get<std::string>();
    const LoadOptions& options = c.options();
    if (options.check_upstreams && !options.upstreams.count(http.upstream))
      c.error(
          pointer_append(ptr, "upstream"), "unknown-upstream",
          "unknown upstream '" + http.upstream + "' " +
              (options.upstreams.empty() ? std::string("(no upstreams are configured)")
                                         : "(configured: " + quoted_list(options.upstreams) + ")"));
  }
  if (const json* method = c.member(spec, ptr, "method", Kind::string, "handler")) {
    static constexpr std::array<std::string_view, 7> k_methods = {
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    http.method = method->get<std::string>();
    if (std::find(k_methods.begin(), k_methods.end(), http.method) == k_methods.end())
      c.error(pointer_append(ptr, "method"), "handler",
              "'method' must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, got \"" +
                  http.method + "\"");
  }
  if (const json* path = c.member(spec, ptr, "path", Kind::string, "handler", true)) {
    http.path = path->get<std::string>();
    if (http.path.empty() || http.path.front() != '/')
      c.error(pointer_append(ptr, "path"), "handler", "'path' must start with '/'");
  }
  string_map(c, spec, ptr, "query", http.query, false);
  if (string_map(c, spec, ptr, "headers", http.headers, true))
    check_reserved_headers(c, http.headers, pointer_append(ptr, "headers"));
  if (auto it = spec.find("body"); it != spec.end()) http.body = *it;
  if (const json* retry = c.member(spec, ptr, "retry", Kind::boolean, "handler"))
    http.retry = retry->get<bool>();
  if (auto ms = bounded_integer(c, spec, ptr, "timeout_ms", k_max_timeout_ms))
    http.timeout = std::chrono::milliseconds(*ms);
  for (const char* key : {"path", "query", "headers", "body"})
    if (auto it = spec.find(key); it != spec.end())
      check_placeholders(c, *it, pointer_append(ptr, key), declared);
  if (c.error_count() != errors) return std::nullopt;
  return http;
}

std::optional<HandlerSpec> load_static(FileChecker& c, const json& spec, const std::string& ptr,
                                       const Declared& declared) {
  c.check_keys(spec, ptr, {"content", "structuredContent", "isError"}, "static handler");
  std::size_t errors = c.error_count();
  StaticHandlerSpec result;
  if (const json* content = c.member(spec, ptr, "content", Kind::array, "handler", true)) {
    std::string at = pointer_append(ptr, "content");
    for (std::size_t i = 0; i < content->size(); ++i)
      check_content_block(c, (*content)[i], pointer_append(at, i));
    result.content = *content;
  }
  if (const json* structured = c.member(spec, ptr, "structuredContent", Kind::object, "handler"))
    result.structured_content = *structured;
  if (const json* is_error = c.member(spec, ptr, "isError", Kind::boolean, "handler"))
    result.is_error = is_error->get<bool>();
  for (const char* key : {"content", "structuredContent"})
    if (auto it = spec.find(key); it != spec.end())
      check_placeholders(c, *it, pointer_append(ptr, key), declared);
  if (c.error_count() != errors) return std::nullopt;
  return result;
}

}  // namespace

std::optional<HandlerSpec> load_handler(FileChecker& c, const json& handler,
                                        const std::string& pointer, const Declared& declared) {
  if (!handler.is_object()) {
    c.error(pointer, "handler",
            "'handler' must be an object with one of \"static\", \"exec\" or \"http\"");
    return std::nullopt;
  }
  c.check_keys(handler, pointer, {"static", "exec", "http"}, "handler");
  std::vector<std::string> kinds;
  for (const char* kind : {"static", "exec", "http"})
    if (handler.contains(kind)) kinds.push_back(kind);
  if (kinds.size() != 1) {
    c.error(pointer, "handler",
            kinds.empty() ? "handler needs one of \"static\", \"exec\" or \"http\""
                          : "handler must have exactly one kind, found \"" + kinds[0] +
                                "\" and \"" + kinds[1] + "\"");
    return std::nullopt;
  }
  std::string at = pointer_append(pointer, kinds[0]);
  const json& spec = handler.at(kinds[0]);
  if (!spec.is_object()) {
    c.error(at, "handler", "'" + kinds[0] + "' must be an object, got " + json_kind_name(spec));
    return std::nullopt;
  }
  if (kinds[0] == "exec") return load_exec(c, spec, at, declared);
  if (kinds[0] == "http") return load_http(c, spec, at, declared);
  return load_static(c, spec, at, declared);
}

void check_annotations_of(FileChecker& c, const json& owner, const std::string& ptr,
                          std::string_view rule) {
  const json* annotations = c.member(owner, ptr, "annotations", Kind::object, rule);
  if (!annotations) return;
  std::string at = pointer_append(ptr, "annotations");
  c.check_keys(*annotations, at, {"audience", "priority", "lastModified"}, "annotations");
  if (const json* audience = c.member(*annotations, at, "audience", Kind::array, rule)) {
    for (std::size_t i = 0; i < audience->size(); ++i) {
      const json& role = (*audience)[i];
      if (role != "user" && role != "assistant")
        c.error(pointer_append(pointer_append(at, "audience"), i), rule,
                "audience entries must be \"user\" or \"assistant\"");
    }
  }
  if (const json* priority = c.member(*annotations, at, "priority", Kind::number, rule)) {
    double p = priority->get<double>();
    if (p < 0 || p > 1)
      c.error(pointer_append(at, "priority"), rule, "'priority' must be between 0 and 1");
  }
  c.member(*annotations, at, "lastModified", Kind::string, rule);
}

bool check_content_block(FileChecker& c, const json& block, const std::string& ptr) {
  if (!block.is_object()) {
    c.error(ptr, "content", "a content block must be an object, got " + json_kind_name(block));
    return false;
  }
  std::size_t errors = c.error_count();
  const json* type = c.member(block, ptr, "type", Kind::string, "content", true);
  if (!type) return false;
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "text") {
    c.check_keys(block, ptr, {"type", "text", "annotations", "_meta"}, "text content");
    c.member(block, ptr, "text", Kind::string, "content", true);
  } else if (t == "image" || t == "audio") {
    c.check_keys(block, ptr, {"type", "data", "mimeType", "annotations", "_meta"}, t + " content");
    c.member(block, ptr, "data", Kind::string, "content", true);
    c.member(block, ptr, "mimeType", Kind::nonempty_string, "content", true);
  } else if (t == "resource") {
    c.check_keys(block, ptr, {"type", "resource", "annotations", "_meta"}, "resource content");
    if (const json* resource = c.member(block, ptr, "resource", Kind::object, "content", true)) {
      std::string at = pointer_append(ptr, "resource");
      c.check_keys(*resource, at, {"uri", "mimeType", "text", "blob", "_meta"},
                   "embedded resource");
      c.member(*resource, at, "uri", Kind::nonempty_string, "content", true);
      c.member(*resource, at, "mimeType", Kind::string, "content");
      bool text = c.member(*resource, at, "text", Kind::string, "content") != nullptr;
      bool blob = c.member(*resource, at, "blob", Kind::string, "content") != nullptr;
      if (text == blob && !resource->contains("text") && !resource->contains("blob"))
        c.error(at, "content", "an embedded resource needs \"text\" or \"blob\"");
      else if (text && blob)
        c.error(at, "content", "an embedded resource has either \"text\" or \"blob\", not both");
    }
  } else if (t == "resource_link") {
    c.check_keys(block, ptr,
                 {"type", "uri", "name", "title", "description", "mimeType", "size", "annotations",
                  "icons", "_meta"},
                 "resource link");
    c.member(block, ptr, "uri", Kind::nonempty_string, "content", true);
    c.member(block, ptr, "name", Kind::nonempty_string, "content", true);
    for (const char* key : {"title", "description", "mimeType"})
      c.member(block, ptr, key, Kind::string, "content");
    c.member(block, ptr, "icons", Kind::array, "content");
    if (auto size = block.find("size"); size != block.end() && !size->is_number_unsigned() &&
                                        !(size->is_number_integer() && *size >= 0))
      c.error(pointer_append(ptr, "size"), "content", "'size' must be a non-negative integer");
  } else {
    c.error(pointer_append(ptr, "type"), "content",
            "unknown content type \"" + t +
                "\"; expected text, image, audio, resource or resource_link");
    return false;
  }
  check_annotations_of(c, block, ptr, "content");
  c.member(block, ptr, "_meta", Kind::object, "content");
  return c.error_count() == errors;
}

}  // namespace mcpd::core::loader
