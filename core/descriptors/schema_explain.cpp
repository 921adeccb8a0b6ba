// Turning valijson's validation results into one message a person (or a model) can act on:
// the deepest error wins, and its wording is rebuilt from the schema itself ("must be at most
// 100" rather than "Expected number less than or equal to 100.000000").

#include <algorithm>
#include <cctype>

#include "core/descriptors/schema_internal.hpp"

namespace mcpd::core::schema_detail {

namespace {

enum class Cls {
  type,
  maximum,
  exclusive_maximum,
  minimum,
  exclusive_minimum,
  max_length,
  min_length,
  max_items,
  min_items,
  max_properties,
  min_properties,
  enumeration,
  constant,
  multiple_of,
  unique_items,
  negation,
  any_of,
  one_of_none,
  one_of_many,
  contains,
  too_many_items,
  required,
  additional,
  dependency,
  property_summary,
  item_summary,
  summary,
  final_text,
  other
};

struct Rule {
  std::string_view prefix;
  Cls cls;
};

// valijson 1.0's descriptions, most specific prefixes first.
constexpr Rule k_rules[] = {
    {"Value type not permitted by 'type' constraint", Cls::type},
    {"Expected number less than or equal to ", Cls::maximum},
    {"Expected number less than ", Cls::exclusive_maximum},
    {"Expected number greater than or equal to ", Cls::minimum},
    {"Expected number greater than ", Cls::exclusive_minimum},
    {"String should be no more than ", Cls::max_length},
    {"String should be no fewer than ", Cls::min_length},
    {"Array should contain no more than ", Cls::max_items},
    {"Array should contain no fewer than ", Cls::min_items},
    {"Object should have no more than ", Cls::max_properties},
    {"Object should have no fewer than ", Cls::min_properties},
    {"Failed to match against any enum values", Cls::enumeration},
    {"Failed to match expected value set by 'const'", Cls::constant},
    {"Value should be a multiple of ", Cls::multiple_of},
    {"Value could not be converted", Cls::multiple_of},
    {"Elements at indexes #", Cls::unique_items},
    {"Target should not validate against schema specified in 'not'", Cls::negation},
    {"Failed to validate against any schemas allowed by anyOf", Cls::any_of},
    {"Failed to validate against any child schemas allowed by oneOf", Cls::one_of_none},
    {"Failed to validate against exactly one child schema", Cls::one_of_many},
    {"Failed to any values against subschema in 'contains'", Cls::contains},
    {"Array contains more items than allowed", Cls::too_many_items},
    {"Cannot validate item #", Cls::too_many_items},
    {"Missing required property '", Cls::required},
    {"Object contains a property that could not be validated", Cls::additional},
    {"Missing dependency '", Cls::dependency},
    {"Failed to validate against schema associated with property name '", Cls::property_summary},
    {"Failed to validate item #", Cls::item_summary},
    {"Failed to validate against", Cls::summary},
};

Cls classify(std::string_view description) {
  if (description.substr(0, k_final_marker.size()) == k_final_marker) return Cls::final_text;
  for (const auto& rule : k_rules)
    if (description.substr(0, rule.prefix.size()) == rule.prefix) return rule.cls;
  return Cls::other;
}

bool is_summary(Cls cls) {
  return cls == Cls::property_summary || cls == Cls::item_summary || cls == Cls::summary;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The text between the first quote after `from` and the last quote: a property name.
std::string quoted_name(std::string_view description, std::size_t from) {
  std::size_t open = description.find('\'', from);
  std::size_t close = description.rfind('\'');
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return {};
  return std::string(description.substr(open + 1, close - open - 1));
}

// The first "#N" in `text`, for item indexes.
std::optional<std::size_t> hash_number(std::string_view text, std::size_t from = 0) {
  std::size_t hash = text.find('#', from);
  if (hash == std::string_view::npos) return std::nullopt;
  std::size_t end = hash + 1;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  if (!all_digits(text.substr(hash + 1, end - hash - 1))) return std::nullopt;
  return std::stoul(std::string(text.substr(hash + 1, end - hash - 1)));
}

Path parse_context(const std::vector<std::string>& context, const json& instance) {
  Path path;
  const json* current = &instance;
  for (std::size_t i = 0; i < context.size(); ++i) {
    std::string_view step = context[i];
    if (i == 0 && step == "<root>") continue;
    if (step.size() >= 2 && step.front() == '[' && step.back() == ']')
      step = step.substr(1, step.size() - 2);
    Token token;
    if (current && current->is_array() && all_digits(step)) {
      token.is_index = true;
      token.index = std::stoul(std::string(step));
      current = token.index < current->size() ? &(*current)[token.index] : nullptr;
    } else {
      token.key = std::string(step);
      auto it = current && current->is_object() ? current->find(token.key) : json::const_iterator();
      current = current && current->is_object() && it != current->end() ? &*it : nullptr;
    }
    path.push_back(std::move(token));
  }
  return path;
}

const json* value_at(const json& instance, const Path& path) {
  const json* current = &instance;
  for (const auto& token : path) {
    if (token.is_index) {
      if (!current->is_array() || token.index >= current->size()) return nullptr;
      current = &(*current)[token.index];
    } else {
      if (!current->is_object()) return nullptr;
      auto it = current->find(token.key);
      if (it == current->end()) return nullptr;
      current = &*it;
    }
  }
  return current;
}

// A keyword of `node`, or of one of the schemas in its "allOf" (how $ref siblings and
// merged 2020-12 keywords end up).
const json* find_keyword(const json& root, const json* node, std::string_view keyword) {
  if (!node || !node->is_object()) return nullptr;
  auto it = node->find(keyword);
  if (it != node->end()) return &*it;
  auto all = node->find("allOf");
  if (all == node->end() || !all->is_array()) return nullptr;
  for (const auto& branch : *all) {
    const json* resolved = resolve_refs(root, &branch);
    if (!resolved || !resolved->is_object()) continue;
    auto found = resolved->find(keyword);
    if (found != resolved->end()) return &*found;
  }
  return nullptr;
}

bool pattern_matches(const std::string& pattern, const std::string& text) {
  try {
    return std::regex_search(text, make_pattern_regex(pattern));
  } catch (const std::regex_error&) {
    return false;
  }
}

// The subschema for one step (a property or an item) from `node`, without applicators.
const json* step_into(const json& root, const json* node, const Token& token) {
  if (token.is_index) {
    const json* items = find_keyword(root, node, "items");
    if (items && items->is_array())
      return token.index < items->size() ? &(*items)[token.index]
                                         : find_keyword(root, node, "additionalItems");
    return items;
  }
  const json* properties = find_keyword(root, node, "properties");
  if (properties && properties->is_object() && properties->contains(token.key))
    return &properties->at(token.key);
  const json* patterns = find_keyword(root, node, "patternProperties");
  if (patterns && patterns->is_object())
    for (auto it = patterns->begin(); it != patterns->end(); ++it)
      if (pattern_matches(it.key(), token.key)) return &*it;
  return find_keyword(root, node, "additionalProperties");
}

// The schema that applies at `path`, walking properties and items the way validation does,
// and into the first anyOf/oneOf alternative that has the step. Null when lost.
const json* subschema_at(const json& root, const Path& path) {
  const json* node = resolve_refs(root, &root);
  for (const auto& token : path) {
    if (!node || !node->is_object()) return nullptr;
    const json* next = step_into(root, node, token);
    for (const char* keyword : {"anyOf", "oneOf"}) {
      const json* alternatives = find_keyword(root, node, keyword);
      if (next || !alternatives || !alternatives->is_array()) continue;
      for (const auto& alternative : *alternatives) {
        const json* resolved = resolve_refs(root, &alternative);
        if (resolved && resolved->is_object() && (next = step_into(root, resolved, token))) break;
      }
    }
    node = next ? resolve_refs(root, next) : nullptr;
  }
  return node;
}

std::string truncate(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string show(const json& value) {
  return truncate(value.dump(-1, ' ', false, json::error_handler_t::replace), 60);
}

// "100" from "Expected number less than or equal to 100.000000".
std::string number_from(std::string_view description, std::size_t prefix) {
  std::string_view rest = description.substr(std::min(prefix, description.size()));
  std::size_t end = 0;
  while (end < rest.size() &&
         (std::isdigit(static_cast<unsigned char>(rest[end])) || rest[end] == '.' ||
          rest[end] == '-' || rest[end] == 'e' || rest[end] == '+'))
    ++end;
  std::string number(rest.substr(0, end));
  if (number.find('.') != std::string::npos && number.find('e') == std::string::npos) {
    while (!number.empty() && number.back() == '0') number.pop_back();
    if (!number.empty() && number.back() == '.') number.pop_back();
  }
  return number;
}

std::string limit_text(const json& root, const json* node, std::string_view keyword,
                       std::string_view description, Cls cls) {
  const json* value = find_keyword(root, node, keyword);
  if (value && value->is_number()) return value->dump();
  for (const auto& rule : k_rules)
    if (rule.cls == cls) return number_from(description, rule.prefix.size());
  return {};
}

std::vector<std::string> type_names(const json* types) {
  std::vector<std::string> names;
  if (!types) return names;
  if (types->is_string()) names.push_back(types->get<std::string>());
  if (types->is_array())
    for (const auto& t : *types)
      if (t.is_string()) names.push_back(t.get<std::string>());
  return names;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

bool type_allows(const std::vector<std::string>& allowed, const std::string& actual) {
  for (const auto& t : allowed)
    if (t == actual || (t == "number" && actual == "integer")) return true;
  return false;
}

std::string one_of_values(const json& values) {
  std::vector<std::string> shown;
  for (const auto& v : values) {
    if (shown.size() == 10) {
      shown.push_back("...");
      break;
    }
    shown.push_back(show(v));
  }
  return "must be one of " + join(shown, ", ");
}

// Words an anyOf/oneOf failure: by type when the value has none of the alternatives' types,
// by value when every alternative is a constant, otherwise generically.
std::string alternatives_detail(const json& root, const json* node, std::string_view keyword,
                                const json* value) {
  const json* alternatives = find_keyword(root, node, keyword);
  std::vector<std::string> types;
  json constants = json::array();
  bool all_typed = alternatives && alternatives->is_array();
  bool all_constant = all_typed;
  if (alternatives && alternatives->is_array()) {
    for (const auto& alternative : *alternatives) {
      const json* resolved = resolve_refs(root, &alternative);
      const json* t = find_keyword(root, resolved, "type");
      if (t)
        for (auto& name : type_names(t))
          if (std::find(types.begin(), types.end(), name) == types.end()) types.push_back(name);
      all_typed = all_typed && t;
      const json* c = find_keyword(root, resolved, "const");
      const json* e = find_keyword(root, resolved, "enum");
      if (c)
        constants.push_back(*c);
      else if (e && e->is_array())
        for (const auto& v : *e) constants.push_back(v);
      all_constant = all_constant && (c || (e && e->is_array()));
    }
  }
  std::string actual = value ? type_name(*value) : std::string();
  if (all_typed && !types.empty() && value && !type_allows(types, actual))
    return "expected " + join(types, " or ") + ", got " + actual;
  if (all_constant && !constants.empty()) return one_of_values(constants);
  return "does not match any of the allowed forms";
}

// For an object whose schema has "propertyNames": the first name that breaks its pattern,
// length or allowed values.
std::optional<std::string> property_name_problem(const json& root, const json* node,
                                                 const json* value) {
  const json* names = resolve_refs(root, find_keyword(root, node, "propertyNames"));
  if (!names || !names->is_object() || !value || !value->is_object()) return std::nullopt;
  const json* pattern = find_keyword(root, names, k_pattern_keyword);
  const json* max_length = find_keyword(root, names, "maxLength");
  const json* allowed = find_keyword(root, names, "enum");
  for (auto it = value->begin(); it != value->end(); ++it) {
    const std::string& name = it.key();
    std::string prefix = "property name '" + truncate(name, 40) + "' ";
    if (pattern && pattern->is_string() && !pattern_matches(pattern->get<std::string>(), name))
      return prefix + "must match the pattern '" + pattern->get<std::string>() + "'";
    if (max_length && max_length->is_number_unsigned()) {
      std::size_t length = 0;
      for (char c : name) length += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      if (length > max_length->get<std::size_t>())
        return prefix + "must be at most " + max_length->dump() + " characters long";
    }
    if (allowed && allowed->is_array() &&
        std::find(allowed->begin(), allowed->end(), json(name)) == allowed->end())
      return prefix + "is not allowed";
  }
  return std::nullopt;
}

struct Item {
  Cls cls;
  Path path;
  std::string description;
  const std::vector<std::string>* context;
  bool dropped = false;
};

// Words the chosen error (value kind), with details from the schema at its path.
std::string detail_for(const Item& item, const json& root, const json& instance) {
  const json* node = subschema_at(root, item.path);
  const json* value = value_at(instance, item.path);
  const std::string& d = item.description;
  switch (item.cls) {
    case Cls::type: {
      auto expected = type_names(find_keyword(root, node, "type"));
      std::string actual = value ? type_name(*value) : "another type";
      if (expected.empty()) return "has the wrong type (" + actual + ")";
      return "expected " + join(expected, " or ") + ", got " + actual;
    }
    case Cls::maximum:
      return "must be at most " + limit_text(root, node, "maximum", d, item.cls);
    case Cls::exclusive_maximum:
      return "must be less than " + limit_text(root, node, "exclusiveMaximum", d, item.cls);
    case Cls::minimum:
      return "must be at least " + limit_text(root, node, "minimum", d, item.cls);
    case Cls::exclusive_minimum:
      return "must be greater than " + limit_text(root, node, "exclusiveMinimum", d, item.cls);
    case Cls::max_length:
      return "must be at most " + limit_text(root, node, "maxLength", d, item.cls) +
             " characters long";
    case Cls::min_length: {
      std::string n = limit_text(root, node, "minLength", d, item.cls);
      return n == "1" ? "must not be empty" : "must be at least " + n + " characters long";
    }
    case Cls::max_items:
      return "must have at most " + limit_text(root, node, "maxItems", d, item.cls) + " items";
    case Cls::min_items: {
      std::string n = limit_text(root, node, "minItems", d, item.cls);
      return n == "1" ? "must not be empty" : "must have at least " + n + " items";
    }
    case Cls::max_properties:
      return "must have at most " + limit_text(root, node, "maxProperties", d, item.cls) +
             " properties";
    case Cls::min_properties:
      return "must have at least " + limit_text(root, node, "minProperties", d, item.cls) +
             " properties";
    case Cls::enumeration: {
      const json* values = find_keyword(root, node, "enum");
      if (values && values->is_array()) return one_of_values(*values);
      return "is not one of the allowed values";
    }
    case Cls::constant: {
      const json* expected = find_keyword(root, node, "const");
      return expected ? "must be " + show(*expected) : "is not the allowed value";
    }
    case Cls::multiple_of: {
      const json* divisor = find_keyword(root, node, "multipleOf");
      return divisor ? "must be a multiple of " + divisor->dump() : "is not an allowed multiple";
    }
    case Cls::unique_items: {
      auto first = hash_number(d);
      auto second = hash_number(d, d.find("and"));
      if (first && second)
        return "must not contain duplicates (items " + std::to_string(*first) + " and " +
               std::to_string(*second) + " are equal)";
      return "must not contain duplicates";
    }
    case Cls::negation:
      return "is not allowed";
    case Cls::any_of:
    case Cls::one_of_none:
      return alternatives_detail(root, node, item.cls == Cls::any_of ? "anyOf" : "oneOf", value);
    case Cls::one_of_many:
      return "matches more than one of the allowed forms";
    case Cls::contains:
      return "must contain at least one matching item";
    case Cls::too_many_items: {
      const json* items = find_keyword(root, node, "items");
      if (items && items->is_array())
        return "must have at most " + std::to_string(items->size()) + " items";
      return "has too many items";
    }
    case Cls::property_summary:
      // valijson says nothing about failed "propertyNames": find the offending name here.
      if (auto bad = property_name_problem(root, node, value)) return *bad;
      return "is not allowed";
    case Cls::item_summary:
      return "is not allowed";
    case Cls::summary:
      return "is not valid";
    case Cls::final_text:
      return d.substr(k_final_marker.size());
    default: {
      std::string text = d;
      while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.pop_back();
      if (!text.empty())
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
      return text;
    }
  }
}

// For "Missing dependency 'b'": the present property whose "dependencies" entry needs `name`.
std::string dependency_trigger(const json& root, const json* node, const json* object,
                               const std::string& name) {
  const json* dependencies = find_keyword(root, node, "dependencies");
  if (!dependencies || !dependencies->is_object() || !object || !object->is_object()) return {};
  for (auto it = dependencies->begin(); it != dependencies->end(); ++it) {
    if (!it->is_array() || !object->contains(it.key())) continue;
    for (const auto& needed : *it)
      if (needed == name) return it.key();
  }
  return {};
}

}  // namespace

Finding explain(const valijson::ValidationResults& results, const json& instance,
                const json& schema) {
  std::vector<Item> items;
  for (const auto& error : results) {
    Item item{classify(error.description), parse_context(error.context, instance),
              error.description, &error.context};
    // An anyOf/oneOf failure is reported after its alternatives' errors; those at the same
    // place describe one alternative each and would mislead, so the summary speaks for them.
    if (item.cls == Cls::any_of || item.cls == Cls::one_of_none) {
      for (auto& earlier : items)
        if (*earlier.context == error.context) earlier.dropped = true;
    }
    items.push_back(std::move(item));
  }
  // Errors about a member of the object or array at their context go one level deeper.
  for (auto& item : items) {
    const std::string& d = item.description;
    if (item.cls == Cls::required || item.cls == Cls::property_summary ||
        item.cls == Cls::dependency) {
      item.path.push_back(Token{quoted_name(d, 0), false, 0});
    } else if (item.cls == Cls::additional) {
      item.path.push_back(Token{quoted_name(d, d.find(": '")), false, 0});
    } else if (item.cls == Cls::item_summary &&
               d.find("corresponding item schema") == std::string::npos) {
      if (auto index = hash_number(d)) item.path.push_back(Token{{}, true, *index});
    }
  }

  const Item* best = nullptr;
  for (bool summaries : {false, true}) {
    for (const auto& item : items) {
      if (item.dropped || is_summary(item.cls) != summaries) continue;
      if (!best || item.path.size() > best->path.size()) best = &item;
    }
    if (best) break;
  }

  Finding finding;
  if (!best) {
    finding.detail = "is not allowed";
    return finding;
  }
  finding.path = best->path;
  if (best->cls == Cls::required || best->cls == Cls::dependency) {
    finding.kind = Finding::Kind::missing;
    if (best->cls == Cls::dependency) {
      Path parent(best->path.begin(), best->path.end() - 1);
      std::string trigger = dependency_trigger(schema, subschema_at(schema, parent),
                                               value_at(instance, parent), best->path.back().key);
      if (!trigger.empty()) finding.detail = "needed with '" + trigger + "'";
    }
  } else if (best->cls == Cls::additional) {
    finding.kind = Finding::Kind::unexpected;
  } else {
    finding.detail = detail_for(*best, schema, instance);
  }
  return finding;
}

}  // namespace mcpd::core::schema_detail
