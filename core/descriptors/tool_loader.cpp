// Tools: MCP's tool fields plus one handler.

#include <regex>

#include "core/descriptors/loader_internal.hpp"

namespace mcpd::core::loader {

namespace {

void check_tool_name(FileChecker& c, const std::string& name, const std::string& at) {
  static const std::regex strict("[A-Za-z0-9_-]{1,64}");
  static const std::regex spec("[A-Za-z0-9_.-]{1,128}");
  if (std::regex_match(name, strict)) return;
  if (std::regex_match(name, spec)) {
    c.warning(at, "tool-name",
              "tool name '" + name +
                  "' is allowed by the MCP specification but not by every "
                  "client; prefer ^[A-Za-z0-9_-]{1,64}$");
    return;
  }
  c.error(at, "tool-name",
          "invalid tool name '" + name + "': use 1 to 64 letters, digits, '_' or '-'");
}

// MCP's ToolAnnotations: hints only, but clients act on them.
void check_annotations(FileChecker& c, const json& tool, const std::string& ptr) {
  const json* annotations = c.member(tool, ptr, "annotations", Kind::object, "annotations");
  if (!annotations) return;
  std::string at = pointer_append(ptr, "annotations");
  c.check_keys(*annotations, at,
               {"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"},
               "annotations");
  for (const char* hint : {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"})
    c.member(*annotations, at, hint, Kind::boolean, "annotations");
  if (const json* title = c.member(*annotations, at, "title", Kind::string, "annotations"))
    check_text(c, title->get<std::string>(), pointer_append(at, "title"), TextRole::title);
}

void check_destructive_hint(FileChecker& c, const json& tool, const std::string& ptr,
                            const std::string& name) {
  static const std::regex destructive("(delete|drop|remove|destroy)[_-].*", std::regex::icase);
  if (!std::regex_match(name, destructive)) return;
  const json* annotations = tool.contains("annotations") ? &tool["annotations"] : nullptr;
  if (annotations && annotations->is_object() && annotations->contains("destructiveHint")) return;
  c.warning(pointer_append(ptr, "name"), "destructive-hint",
            "tool '" + name +
                "' sounds destructive but has no annotations.destructiveHint; "
                "say so, so that clients can ask before calling it");
}

void check_icons(FileChecker& c, const json& owner, const std::string& ptr, std::string_view rule) {
  const json* icons = c.member(owner, ptr, "icons", Kind::array, rule);
  if (!icons) return;
  std::string at = pointer_append(ptr, "icons");
  for (std::size_t i = 0; i < icons->size(); ++i) {
    const json& icon = (*icons)[i];
    std::string icon_at = pointer_append(at, i);
    if (!icon.is_object()) {
      c.error(icon_at, rule, "an icon must be an object with \"src\"");
      continue;
    }
    c.check_keys(icon, icon_at, {"src", "mimeType", "sizes", "theme"}, "icon");
    c.member(icon, icon_at, "src", Kind::nonempty_string, rule, true);
    c.member(icon, icon_at, "mimeType", Kind::string, rule);
    c.member(icon, icon_at, "sizes", Kind::array, rule);
    if (const json* theme = c.member(icon, icon_at, "theme", Kind::string, rule))
      if (*theme != "light" && *theme != "dark")
        c.error(pointer_append(icon_at, "theme"), rule, "'theme' must be \"light\" or \"dark\"");
  }
}

// inputSchema / outputSchema: an object schema that compiles. Returns the compiled schema.
std::shared_ptr<const Schema> load_schema(FileChecker& c, const json& tool, const std::string& ptr,
                                          std::string_view key, std::string_view rule,
                                          bool required) {
  const json* document = c.member(tool, ptr, key, Kind::object, rule, required);
  if (!document) return nullptr;
  std::string at = pointer_append(ptr, key);
  std::string name(key);
  auto type = document->find("type");
  if (type == document->end()) {
    c.error(at, rule, name + " must say \"type\": \"object\"");
    return nullptr;
  }
  if (*type != "object") {
    c.error(pointer_append(at, "type"), rule,
            name + " must be an object schema (\"type\": \"object\"), got " + type->dump());
    return nullptr;
  }
  // "required" names that "properties" does not declare can never be satisfied usefully.
  auto properties = document->find("properties");
  auto required_names = document->find("required");
  if (required_names != document->end() && required_names->is_array()) {
    for (std::size_t i = 0; i < required_names->size(); ++i) {
      const json& required_name = (*required_names)[i];
      if (!required_name.is_string()) continue;  // the schema check reports it
      bool declared = properties != document->end() && properties->is_object() &&
                      properties->contains(required_name.get<std::string>());
      if (!declared)
        c.error(pointer_append(pointer_append(at, "required"), i), "required-unknown",
                "required " + std::string(key == "inputSchema" ? "argument" : "field") + " '" +
                    required_name.get<std::string>() + "' is not declared in properties");
    }
  }
  check_schema_texts(c, *document, at);
  SchemaError error;
  auto schema = Schema::compile(*document, error);
  if (!schema) {
    c.error(at + error.pointer, rule, name + " is not a valid JSON Schema: " + error.message);
    return nullptr;
  }
  return schema;
}

}  // namespace

std::optional<ToolDef> load_tool(FileChecker& c, const json& tool, const std::string& ptr) {
  if (!tool.is_object()) {
    c.error(ptr, "tool", "a tool must be an object, got " + json_kind_name(tool));
    return std::nullopt;
  }
  c.check_keys(tool, ptr,
               {"name", "title", "description", "inputSchema", "outputSchema", "annotations",
                "icons", "_meta", "handler"},
               "tool");
  ToolDef def;
  def.base_dir = c.base_dir();
  def.where = c.where(ptr);

  if (const json* name = c.member(tool, ptr, "name", Kind::nonempty_string, "tool-name", true)) {
    def.name = name->get<std::string>();
    check_tool_name(c, def.name, pointer_append(ptr, "name"));
    check_text(c, def.name, pointer_append(ptr, "name"), TextRole::name);
    check_destructive_hint(c, tool, ptr, def.name);
  }
  if (const json* title = c.member(tool, ptr, "title", Kind::string, "tool"))
    check_text(c, title->get<std::string>(), pointer_append(ptr, "title"), TextRole::title);
  if (const json* description =
          c.member(tool, ptr, "description", Kind::nonempty_string, "description", true)) {
    const std::string& text = description->get_ref<const std::string&>();
    std::string at = pointer_append(ptr, "description");
    std::size_t length = code_points(text);
    if (length > c.options().max_description)
      c.error(at, "description",
              "description is " + std::to_string(length) + " characters long; the limit is " +
                  std::to_string(c.options().max_description));
    check_text(c, text, at, TextRole::description);
  }
  def.input_schema = load_schema(c, tool, ptr, "inputSchema", "input-schema", true);
  def.output_schema = load_schema(c, tool, ptr, "outputSchema", "output-schema", false);
  check_annotations(c, tool, ptr);
  check_icons(c, tool, ptr, "tool");
  c.member(tool, ptr, "_meta", Kind::object, "tool");

  Declared declared{{}, "tool '" + def.name + "'", def.input_schema != nullptr};
  if (def.input_schema && def.input_schema->document().contains("properties")) {
    const json& properties = def.input_schema->document()["properties"];
    for (auto it = properties.begin(); it != properties.end(); ++it) {
      def.parameters.push_back(it.key());
      declared.names.insert(it.key());
      if (it->is_object() && it->contains("default")) def.defaults[it.key()] = it->at("default");
    }
  }
  std::optional<HandlerSpec> handler;
  if (auto it = tool.find("handler"); it == tool.end())
    c.error(ptr, "handler", "tool '" + def.name + "' has no handler");
  else
    handler = load_handler(c, *it, pointer_append(ptr, "handler"), declared);

  if (def.name.empty() || !def.input_schema || !handler) return std::nullopt;
  def.handler = std::move(*handler);
  def.descriptor = tool;
  def.descriptor.erase("handler");
  return def;
}

}  // namespace mcpd::core::loader
