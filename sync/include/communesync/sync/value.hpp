// A field's value: null, bool, 64-bit integer, double, string (UTF-8, NFC), bytes, list or map.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "communesync/storage/result.hpp"

namespace communesync::sync {

//! Raw bytes, kept apart from text so they are never normalised.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

class Value {
 public:
  enum class Kind : std::uint8_t { kNull = 0, kBool, kInt, kDouble, kString, kBytes, kList, kMap };
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value, std::less<>>;
  using Variant = std::variant<std::monostate, bool, std::int64_t, double, std::string, Bytes, List, Map>;

  Value() = default;
  Value(std::nullptr_t) {}                            // NOLINT(google-explicit-constructor)
  Value(bool v) : v_(v) {}                            // NOLINT(google-explicit-constructor)
  Value(std::int64_t v) : v_(v) {}                    // NOLINT(google-explicit-constructor)
  Value(int v) : v_(static_cast<std::int64_t>(v)) {}  // NOLINT(google-explicit-constructor)
  Value(double v) : v_(v) {}                          // NOLINT(google-explicit-constructor)
  Value(std::string v) : v_(std::move(v)) {}          // NOLINT(google-explicit-constructor)
  Value(const char* v) : v_(std::string(v)) {}        // NOLINT(google-explicit-constructor)
  Value(Bytes v) : v_(std::move(v)) {}                // NOLINT(google-explicit-constructor)
  Value(List v) : v_(std::move(v)) {}                 // NOLINT(google-explicit-constructor)
  Value(Map v) : v_(std::move(v)) {}                  // NOLINT(google-explicit-constructor)

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool isNull() const { return kind() == Kind::kNull; }
  const Variant& variant() const { return v_; }
  Variant& variant() { return v_; }

  template <class T>
  const T* get() const {
    return std::get_if<T>(&v_);
  }
  template <class T>
  T* get() {
    return std::get_if<T>(&v_);
  }

  bool operator==(const Value& other) const { return v_ == other.v_; }

 private:
  Variant v_;
};

//! The kind's name ("null", "bool", "int", ...), for error messages.
const char* kindName(Value::Kind kind);

//! Checks a value from outside against the limits in tuning.hpp and returns it with every string
//! (and map key) in Unicode NFC. Errors: kInvalidArgument (bad UTF-8), kLimitExceeded.
Result<Value> normalizeValue(Value value);

}  // namespace communesync::sync
