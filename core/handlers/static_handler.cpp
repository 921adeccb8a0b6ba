#include "core/handlers/static_handler.hpp"

#include "core/descriptors/placeholders.hpp"

namespace mcpd::core {

nlohmann::json run_static(const StaticHandlerSpec& spec, const nlohmann::json& values) {
  nlohmann::json result{{"content", substitute(spec.content, values)}};
  if (spec.structured_content)
    result["structuredContent"] = substitute(*spec.structured_content, values);
  if (spec.is_error) result["isError"] = true;
  return result;
}

}  // namespace mcpd::core
