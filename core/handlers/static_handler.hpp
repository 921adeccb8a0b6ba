#pragma once
#include <nlohmann/json.hpp>

#include "core/descriptors/descriptor.hpp"

namespace mcpd::core {

// The static handler: the spec's content (and structuredContent) with placeholders filled.
nlohmann::json run_static(const StaticHandlerSpec& spec, const nlohmann::json& values);

}  // namespace mcpd::core
