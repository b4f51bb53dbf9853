#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace preceptor::bench {

// A small JSON value for the results file: null, bool, number, string,
// array, or object (keys keep their insertion order, so the file reads in the
// order the suite ran). Any thread, no sharing.
class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : v_(b) {}
  Json(int v) : v_(static_cast<double>(v)) {}
  Json(int64_t v) : v_(static_cast<double>(v)) {}
  Json(uint64_t v) : v_(static_cast<double>(v)) {}
  Json(double v) : v_(v) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(Array a) : v_(std::move(a)) {}

  static Json object() {
    Json j;
    j.v_ = Object{};
    return j;
  }
  static Json array() { return Json(Array{}); }

  // Object access: inserts a null member when `key` is missing.
  // REQUIRES: this is an object (or null, which becomes an object).
  Json& operator[](const std::string& key);
  // Array append. REQUIRES: this is an array (or null, which becomes one).
  void push_back(Json v);

  // Pretty-printed with two-space indents.
  std::string dump() const;

 private:
  void dump_to(std::string& out, int indent) const;

  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_{nullptr};
};

}  // namespace preceptor::bench
