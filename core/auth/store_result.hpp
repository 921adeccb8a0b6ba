#pragma once
// What TokenStore calls return: a value, or a failure from a small enum plus a message for the
// operator. A tiny stand-in for std::expected (C++23) / tl::expected.

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace mcpd::core::auth {

enum class Failure {
  not_found,    // no such user or token
  conflict,     // already exists (unique e-mail, duplicate hash)
  unavailable,  // cannot reach or use the database: retry later, fail closed meanwhile
  invalid,      // bad input or a database mcpd cannot use (bad URL, newer schema)
};

const char* to_string(Failure failure);

struct StoreError {
  Failure failure;
  std::string message;
};

inline StoreError fail(Failure failure, std::string message) {
  return StoreError{failure, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_value(std::in_place_index<0>, std::move(value)) {}
  Result(StoreError error) : m_value(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const noexcept { return m_value.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return check(), std::get<0>(m_value); }
  const T& value() const& { return check(), std::get<0>(m_value); }
  T&& value() && { return check(), std::get<0>(std::move(m_value)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const StoreError& error() const { return std::get<1>(m_value); }

 private:
  void check() const {
    if (!has_value()) throw std::logic_error("storage result has no value: " + error().message);
  }
  std::variant<T, StoreError> m_value;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(StoreError error) : m_error(std::move(error)), m_failed(true) {}

  bool has_value() const noexcept { return !m_failed; }
  explicit operator bool() const noexcept { return has_value(); }
  const StoreError& error() const { return m_error; }

 private:
  StoreError m_error{Failure::invalid, {}};
  bool m_failed = false;
};

}  // namespace mcpd::core::auth
