#pragma once
// Tears a JSON tree down without the heap block nlohmann's destructor allocates: destroying
// an object or array that has members flattens its subtree onto a std::vector first (so that
// deep trees cannot overflow the stack). Emptying the containers bottom-up leaves it nothing to
// flatten. For the trees of a request and its reply, which are thrown away once per call.

#include <nlohmann/json.hpp>

namespace mcpd::core {

// Empties `tree` (it is null afterwards). Containers nested deeper than `depth` are left to
// nlohmann's destructor, which handles any depth.
inline void release(nlohmann::json& tree, int depth = 64) noexcept {
  if (depth > 0) {
    if (auto* object = tree.get_ptr<nlohmann::json::object_t*>()) {
      for (auto& member : *object) release(member.second, depth - 1);
      object->clear();
    } else if (auto* array = tree.get_ptr<nlohmann::json::array_t*>()) {
      for (auto& element : *array) release(element, depth - 1);
      array->clear();
    }
  }
  tree = nullptr;
}

}  // namespace mcpd::core
