// resources/*, prompts/* and completion/complete.

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>

#include "core/descriptors/placeholders.hpp"
#include "core/protocol/dispatcher_internal.hpp"
#include "core/util/utf8.hpp"

namespace mcpd::core::detail {

namespace {

constexpr std::uintmax_t k_max_resource_bytes = 32u << 20;
constexpr std::size_t k_max_completions = 100;  // the spec's cap on completion values

json adapt_descriptor(const json& descriptor, const std::string& version) {
  json out = descriptor;
  if (!version_at_least(version, "2025-06-18")) out.erase("title");
  if (!version_at_least(version, "2025-11-25")) out.erase("icons");
  return out;
}

template <typename Items>
Result list_page(const Request& request, const Items& items, const char* list) {
  const Page page = paginate(request, list, items.size());
  const std::string version = request_version(request);
  json entries = json::array();
  for (std::size_t i = page.begin; i < page.end; ++i)
    entries.push_back(adapt_descriptor(items[i].descriptor, version));
  json result{{list, std::move(entries)}};
  add_next_cursor(result, page);
  return result;
}

// 2026-07-28 answers an unknown URI with -32602 (Invalid params); earlier revisions with -32002.
RpcError resource_not_found(const Request& request, const std::string& uri) {
  return RpcError{is_modern(request) ? rpc_code::k_invalid_params : rpc_code::k_resource_not_found,
                  "Resource not found", json{{"uri", uri}}};
}

// What a resource or template needs to be read, whichever of the two it is.
struct ResourceMatch {
  const ResourceSource& source;
  const json& descriptor;
  const std::filesystem::path& base_dir;
  json variables;  // template variables ({} for a plain resource)
};

std::optional<ResourceMatch> find_resource(const Catalog& catalog, const std::string& uri) {
  if (const ResourceDef* resource = catalog.find_resource(uri))
    return ResourceMatch{resource->source, resource->descriptor, resource->base_dir,
                         json::object()};
  for (const auto& templ : catalog.resource_templates)
    if (auto variables = templ.match(uri))
      return ResourceMatch{templ.source, templ.descriptor, templ.base_dir, std::move(*variables)};
  return std::nullopt;
}

std::optional<std::string> mime_type(const json& descriptor) {
  const auto it = descriptor.find("mimeType");
  if (it == descriptor.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool textual_mime_type(const std::string& mime) {
  const std::string type = mime.substr(0, mime.find(';'));
  auto ends_with = [&](std::string_view suffix) {
    return type.size() >= suffix.size() &&
           type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return type.rfind("text/", 0) == 0 || ends_with("+json") || ends_with("+xml") ||
         ends_with("+yaml") || type == "application/json" || type == "application/xml" ||
         type == "application/javascript" || type == "application/yaml" ||
         type == "application/x-yaml" || type == "application/toml" || type == "application/x-sh" ||
         type == "application/sql" || type == "application/graphql" ||
         type == "application/ld+json";
}

json content_entry(const std::string& uri, const std::optional<std::string>& mime) {
  json entry{{"uri", uri}};
  if (mime) entry["mimeType"] = *mime;
  return entry;
}

// A file source; template variables may name the file, but never leave its directory.
json read_file_source(const Request& request, const std::string& uri, const ResourceMatch& match) {
  std::string path = match.source.file->string();
  if (!match.variables.empty()) {
    for (const auto& [name, value] : match.variables.items()) {
      const std::string text = placeholder_text(value);
      if (text.empty() || text == "." || text == ".." ||
          text.find_first_of(std::string_view("/\0", 2)) != std::string::npos)
        throw resource_not_found(request, uri);
    }
    path = substitute(std::string_view(path), match.variables);
    // Values hold no '/', so the path keeps the template's components; one built from several
    // variables ("{a}{b}" from "." and ".") must not become "." or ".." either.
    const std::filesystem::path pattern = *match.source.file, filled = path;
    for (auto p = pattern.begin(), f = filled.begin(); p != pattern.end() && f != filled.end();
         ++p, ++f) {
      if (p->string().find('{') != std::string::npos && (*f == "." || *f == ".."))
        throw resource_not_found(request, uri);
    }
  }

  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw resource_not_found(request, uri);
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > k_max_resource_bytes) {
    spdlog::error("resource {}: {} is unreadable or larger than {} bytes", uri, path,
                  k_max_resource_bytes);
    throw RpcError{rpc_code::k_internal_error, "resource could not be read"};
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    spdlog::error("resource {}: reading {} failed", uri, path);
    throw RpcError{rpc_code::k_internal_error, "resource could not be read"};
  }

  const auto mime = mime_type(match.descriptor);
  // Without a mimeType, any UTF-8 text without NULs is offered as text.
  const bool textual = mime ? textual_mime_type(*mime) : bytes.find('\0') == std::string::npos;
  json entry = content_entry(uri, mime);
  if (textual && valid_utf8(bytes))
    entry["text"] = std::move(bytes);
  else
    entry["blob"] = base64_encode(bytes);
  return entry;
}

// Turns a handler's CallToolResult into resource contents.
json handler_contents(const std::string& uri, const std::optional<std::string>& mime,
                      const json& result) {
  json contents = json::array();
  for (const auto& block : result.value("content", json::array())) {
    const std::string type = block.value("type", "");
    if (type == "text") {
      json entry = content_entry(uri, mime);
      entry["text"] = block.value("text", "");
      contents.push_back(std::move(entry));
    } else if ((type == "image" || type == "audio") && block.contains("data")) {
      json entry = content_entry(uri, block.value("mimeType", mime.value_or("")));
      entry["blob"] = block["data"];
      contents.push_back(std::move(entry));
    } else if (type == "resource" && block.contains("resource")) {
      contents.push_back(block["resource"]);
    }
  }
  if (contents.empty() && result.contains("structuredContent")) {
    json entry = content_entry(uri, "application/json");
    entry["text"] = result["structuredContent"].dump();
    contents.push_back(std::move(entry));
  }
  return contents;
}

Result read_handler_source(const Request& request, const std::string& uri,
                           const ResourceMatch& match) {
  const auto identity = request.session.identity();
  const json no_arguments = json::object();
  const StateSubject subject{"resources/read", uri, no_arguments};
  const json answers = retry_answers(request, subject);
  const InFlight in_flight(request.session, request.id);
  SessionChannel channel(request, in_flight.token(), request_deadline(*match.source.handler),
                         answers);
  CallContext ctx = call_context(request, uri, *identity, in_flight.token(), channel, answers);
  const json result = request.runner.run(*match.source.handler, match.base_dir, match.variables,
                                         match.variables, ctx);
  if (in_flight.token().cancelled()) return std::nullopt;
  if (auto asking = channel.finish(request, subject)) return asking;

  if (!result.is_object() || result.value("isError", false)) {
    std::string reason = "resource handler failed";
    if (result.is_object() && !result.value("content", json::array()).empty())
      reason = result["content"][0].value("text", reason);
    spdlog::warn("resources/read {} failed: {}", uri, reason);
    throw RpcError{rpc_code::k_internal_error, "resource handler failed",
                   json{{"uri", uri}, {"reason", reason}}};
  }
  json contents{{"contents", handler_contents(uri, mime_type(match.descriptor), result)}};
  // Computed per read: a 2026-07-28 client must not reuse it.
  if (is_modern(request)) contents["ttlMs"] = 0;
  return contents;
}

// A prompt handler's CallToolResult as a GetPromptResult: structuredContent.messages when
// the handler gives them, else one user message per content block.
json prompt_result(const std::string& name, const json& result) {
  if (!result.is_object() || result.value("isError", false)) {
    std::string reason = "prompt handler failed";
    if (result.is_object() && !result.value("content", json::array()).empty())
      reason = result["content"][0].value("text", reason);
    spdlog::warn("prompts/get {} failed: {}", name, reason);
    throw RpcError{rpc_code::k_internal_error, "prompt handler failed",
                   json{{"name", name}, {"reason", reason}}};
  }
  const json structured = result.value("structuredContent", json::object());
  if (structured.is_object() && structured.contains("messages") &&
      structured["messages"].is_array()) {
    json out{{"messages", structured["messages"]}};
    if (structured.contains("description") && structured["description"].is_string())
      out["description"] = structured["description"];
    return out;
  }
  json messages = json::array();
  for (const auto& block : result.value("content", json::array()))
    messages.push_back({{"role", "user"}, {"content", block}});
  return json{{"messages", std::move(messages)}};
}

Result run_prompt_handler(const Request& request, const PromptDef& prompt, const json& values) {
  const auto identity = request.session.identity();
  json arguments = json::object();
  for (const auto& [key, value] : values.items())
    if (!value.is_null()) arguments[key] = value;
  const StateSubject subject{"prompts/get", prompt.name, arguments};
  const json answers = retry_answers(request, subject);
  const InFlight in_flight(request.session, request.id);
  SessionChannel channel(request, in_flight.token(), request_deadline(*prompt.handler), answers);
  CallContext ctx =
      call_context(request, prompt.name, *identity, in_flight.token(), channel, answers);
  const json result = request.runner.run(*prompt.handler, prompt.base_dir, arguments, values, ctx);
  if (in_flight.token().cancelled()) return std::nullopt;
  if (auto asking = channel.finish(request, subject)) return asking;
  return prompt_result(prompt.name, result);
}

}  // namespace

Result resources_list(const Request& request) {
  return list_page(request, request.catalog.resources, "resources");
}

Result resource_templates_list(const Request& request) {
  return list_page(request, request.catalog.resource_templates, "resourceTemplates");
}

Result resources_read(const Request& request) {
  const std::string& uri = require_string(request.params, "uri");
  const auto match = find_resource(request.catalog, uri);
  if (!match) throw resource_not_found(request, uri);

  if (match->source.handler) return read_handler_source(request, uri, *match);
  if (match->source.file)
    return json{{"contents", json::array({read_file_source(request, uri, *match)})}};
  json entry = content_entry(uri, mime_type(match->descriptor));
  entry["text"] = substitute(std::string_view(match->source.text.value_or("")), match->variables);
  return json{{"contents", json::array({std::move(entry)})}};
}

Result resources_subscribe(const Request& request, bool subscribe) {
  const std::string& uri = require_string(request.params, "uri");
  if (subscribe) {
    if (!find_resource(request.catalog, uri)) throw resource_not_found(request, uri);
    request.session.subscribe(uri);
  } else {
    request.session.unsubscribe(uri);
  }
  return json::object();
}

Result prompts_list(const Request& request) {
  return list_page(request, request.catalog.prompts, "prompts");
}

Result prompts_get(const Request& request) {
  const std::string& name = require_string(request.params, "name");
  const PromptDef* prompt = request.catalog.find_prompt(name);
  if (!prompt) throw invalid_params("unknown prompt: " + clip(name));
  const json arguments = optional_object(request.params, "arguments");

  // Only declared arguments fill placeholders: any other brace in a message stays literal.
  json values = json::object();
  for (const auto& declared : prompt->descriptor.value("arguments", json::array())) {
    const std::string argument = declared.value("name", "");
    const auto given = arguments.find(argument);
    if (given == arguments.end() || given->is_null()) {
      if (declared.value("required", false))
        throw invalid_params("missing required argument: " + argument);
      values[argument] = nullptr;
    } else if (!given->is_string()) {
      throw invalid_params("argument must be a string: " + argument);
    } else {
      values[argument] = *given;
    }
  }

  json result;
  if (prompt->handler) {
    auto computed = run_prompt_handler(request, *prompt, values);
    if (!computed) return std::nullopt;
    result = std::move(*computed);
  } else {
    result = json{{"messages", substitute(prompt->messages, values)}};
  }
  if (!result.contains("description") && prompt->descriptor.contains("description"))
    result["description"] = prompt->descriptor["description"];
  return result;
}

Result completion_complete(const Request& request) {
  const json ref = optional_object(request.params, "ref");
  const json argument = optional_object(request.params, "argument");
  const std::string& type = require_string(ref, "type");
  const std::string& argument_name = require_string(argument, "name");
  const std::string& prefix = require_string(argument, "value");

  json values = json::array();
  std::size_t total = 0;
  if (type == "ref/prompt") {
    const std::string& name = require_string(ref, "name");
    const PromptDef* prompt = request.catalog.find_prompt(name);
    if (!prompt) throw invalid_params("unknown prompt: " + clip(name));
    const auto it = prompt->completions.find(argument_name);
    if (it != prompt->completions.end()) {
      for (const auto& candidate : it->second) {
        if (candidate.compare(0, prefix.size(), prefix) != 0) continue;
        if (total++ < k_max_completions) values.push_back(candidate);
      }
    }
  } else if (type == "ref/resource") {
    require_string(ref, "uri");  // templates declare no completions (yet)
  } else {
    throw invalid_params("unknown reference type: " + clip(type));
  }
  return json{
      {"completion",
       {{"values", std::move(values)}, {"total", total}, {"hasMore", total > k_max_completions}}}};
}

}  // namespace mcpd::core::detail
