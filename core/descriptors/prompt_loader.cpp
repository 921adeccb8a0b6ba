// Prompts: arguments (with static completions) and message templates.

#include <regex>

#include "core/descriptors/loader_internal.hpp"
#include "core/descriptors/placeholders.hpp"

namespace mcpd::core::loader {

namespace {

struct Argument {
  std::string name;
  std::string pointer;  // of its "name"
};

std::vector<Argument> load_arguments(FileChecker& c, const json& prompt, const std::string& ptr,
                                     PromptDef& def, bool& ok) {
  static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
  std::vector<Argument> arguments;
  const json* list = c.member(prompt, ptr, "arguments", Kind::array, "prompt");
  if (!list) {
    ok = !prompt.contains("arguments");
    return arguments;
  }
  std::string at = pointer_append(ptr, "arguments");
  json shown = json::array();
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& argument = (*list)[i];
    std::string arg_at = pointer_append(at, i);
    if (!argument.is_object()) {
      c.error(arg_at, "prompt",
              "a prompt argument must be an object, got " + json_kind_name(argument));
      ok = false;
      continue;
    }
    c.check_keys(argument, arg_at, {"name", "title", "description", "required", "completions"},
                 "prompt argument");
    if (const json* title = c.member(argument, arg_at, "title", Kind::string, "prompt"))
      check_text(c, title->get<std::string>(), pointer_append(arg_at, "title"), TextRole::title);
    if (const json* description = c.member(argument, arg_at, "description", Kind::string, "prompt"))
      check_text(c, description->get<std::string>(), pointer_append(arg_at, "description"),
                 TextRole::description);
    c.member(argument, arg_at, "required", Kind::boolean, "prompt");
    const json* name = c.member(argument, arg_at, "name", Kind::nonempty_string, "prompt", true);
    if (!name) {
      ok = false;
      continue;
    }
    std::string name_at = pointer_append(arg_at, "name");
    Argument parsed{name->get<std::string>(), name_at};
    if (!std::regex_match(parsed.name, identifier)) {
      c.error(name_at, "prompt",
              "prompt argument '" + parsed.name +
                  "' must be an identifier (letters, digits, "
                  "'_') so that messages can use it as {" +
                  parsed.name + "}");
      ok = false;
    }
    for (const auto& earlier : arguments)
      if (earlier.name == parsed.name) {
        c.error(name_at, "prompt", "prompt argument '" + parsed.name + "' is declared twice");
        ok = false;
      }
    if (const json* completions =
            c.member(argument, arg_at, "completions", Kind::array, "prompt")) {
      std::vector<std::string> values;
      for (std::size_t j = 0; j < completions->size(); ++j) {
        const json& value = (*completions)[j];
        if (value.is_string())
          values.push_back(value.get<std::string>());
        else
          c.error(pointer_append(pointer_append(arg_at, "completions"), j), "prompt",
                  "completions must be strings, got " + json_kind_name(value));
      }
      def.completions[parsed.name] = std::move(values);
    }
    json visible = argument;
    visible.erase("completions");
    shown.push_back(std::move(visible));
    arguments.push_back(std::move(parsed));
  }
  def.descriptor["arguments"] = std::move(shown);
  return arguments;
}

void load_messages(FileChecker& c, const json& prompt, const std::string& ptr,
                   const Declared& declared, PromptDef& def) {
  const json* messages = c.member(prompt, ptr, "messages", Kind::array, "prompt", true);
  if (!messages) return;
  std::string at = pointer_append(ptr, "messages");
  if (messages->empty()) c.error(at, "prompt", "a prompt needs at least one message");
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const json& message = (*messages)[i];
    std::string message_at = pointer_append(at, i);
    if (!message.is_object()) {
      c.error(message_at, "prompt", "a message must be an object with \"role\" and \"content\"");
      continue;
    }
    c.check_keys(message, message_at, {"role", "content"}, "prompt message");
    if (const json* role = c.member(message, message_at, "role", Kind::string, "prompt", true))
      if (*role != "user" && *role != "assistant")
        c.error(
            pointer_append(message_at, "role"), "prompt",
            "'role' must be \"user\" or \"assistant\", got \"" + role->get<std::string>() + "\"");
    auto content = message.find("content");
    if (content == message.end()) {
      c.error(message_at, "prompt", "missing required 'content'");
      continue;
    }
    std::string content_at = pointer_append(message_at, "content");
    check_content_block(c, *content, content_at);
    if (content->is_object() && content->contains("text") && content->at("text").is_string())
      check_text(c, content->at("text").get<std::string>(), pointer_append(content_at, "text"),
                 TextRole::message);
    check_placeholders(c, *content, content_at, declared);
  }
  def.messages = *messages;
}

}  // namespace

std::optional<PromptDef> load_prompt(FileChecker& c, const json& prompt, const std::string& ptr) {
  if (!prompt.is_object()) {
    c.error(ptr, "prompt", "a prompt must be an object, got " + json_kind_name(prompt));
    return std::nullopt;
  }
  c.check_keys(
      prompt, ptr,
      {"name", "title", "description", "arguments", "messages", "handler", "icons", "_meta"},
      "prompt");
  std::size_t errors = c.error_count();
  PromptDef def;
  def.where = c.where(ptr);
  if (const json* name = c.member(prompt, ptr, "name", Kind::nonempty_string, "prompt", true)) {
    def.name = name->get<std::string>();
    check_text(c, def.name, pointer_append(ptr, "name"), TextRole::name);
  }
  if (const json* title = c.member(prompt, ptr, "title", Kind::string, "prompt"))
    check_text(c, title->get<std::string>(), pointer_append(ptr, "title"), TextRole::title);
  if (const json* description = c.member(prompt, ptr, "description", Kind::string, "prompt"))
    check_text(c, description->get<std::string>(), pointer_append(ptr, "description"),
               TextRole::description);
  c.member(prompt, ptr, "icons", Kind::array, "prompt");
  c.member(prompt, ptr, "_meta", Kind::object, "prompt");

  def.descriptor = prompt;
  def.descriptor.erase("messages");
  def.descriptor.erase("handler");
  def.base_dir = c.base_dir();
  bool arguments_ok = true;
  std::vector<Argument> arguments = load_arguments(c, prompt, ptr, def, arguments_ok);
  Declared declared{{}, "prompt '" + def.name + "'", arguments_ok};
  for (const auto& argument : arguments) declared.names.insert(argument.name);
  const auto handler = prompt.find("handler");
  if (handler != prompt.end()) {
    if (prompt.contains("messages"))
      c.error(ptr, "prompt", "a prompt has either \"messages\" or a \"handler\", not both");
    def.handler = load_handler(c, *handler, pointer_append(ptr, "handler"), declared);
  } else {
    load_messages(c, prompt, ptr, declared, def);
  }

  // Unused arguments are worth a warning even when a message has other problems (a handler
  // gets every argument on its stdin, so it need not name them).
  if (arguments_ok && !def.handler && def.messages.is_array()) {
    std::set<std::string> used;
    for (auto& name : find_placeholders(def.messages)) used.insert(name);
    for (const auto& argument : arguments)
      if (!used.count(argument.name))
        c.warning(argument.pointer, "unused-argument",
                  "prompt argument '" + argument.name + "' is not used in any message");
  }
  if (def.name.empty() || c.error_count() != errors) return std::nullopt;
  return def;
}

}  // namespace mcpd::core::loader
