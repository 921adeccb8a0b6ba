#include "core/handlers/static_handler.hpp"

#include "core/descriptors/placeholders.hpp"

namespace mcpd::core {

nlohmann::json run_static(const StaticHandlerSpec& spec, const nlohmann::json& values) {
  // Member by member: a braced initializer would copy the content through temporaries.
  nlohmann::json result(nlohmann::json::value_t::object);
  result.emplace("content", substitute(spec.content, values));
  if (spec.structured_content)
    result.emplace("structuredContent", substitute(*spec.structured_content, values));
  if (spec.is_error) result.emplace("isError", true);
  return result;
}

}  // namespace mcpd::core
