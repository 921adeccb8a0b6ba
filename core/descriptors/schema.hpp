#pragma once
// JSON Schema (2020-12 and draft-07) compiled once at load time with valijson, then used to
// validate tool arguments and structured results. The valijson types stay in the .cpp.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace mcpd::core {

class Schema {
 public:
  // Compiles `schema`. Returns nullptr and sets `error` when it is not a usable JSON Schema.
  static std::shared_ptr<const Schema> compile(const nlohmann::json& schema, std::string& error);
  ~Schema();

  // std::nullopt when `instance` is valid; otherwise one human message naming the field,
  // e.g. "argument 'limit': must be <= 100".
  std::optional<std::string> validate(const nlohmann::json& instance) const;

  const nlohmann::json& document() const { return m_document; }

 private:
  struct Impl;
  Schema(nlohmann::json document, std::unique_ptr<Impl> impl);
  nlohmann::json m_document;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace mcpd::core
