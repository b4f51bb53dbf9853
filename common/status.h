#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "preceptor/v1/errors.pb.h"

namespace preceptor {

using ErrorCode = v1::ErrorCode;

// The outcome of an operation that can fail: OK, or a canonical code with a
// sentence a person can act on. Cheap to copy when OK.
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message, std::string field = {}, int64_t retry_after_ms = 0)
      : code_(code),
        message_(std::move(message)),
        field_(std::move(field)),
        retry_after_ms_(retry_after_ms) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == v1::ERROR_CODE_UNSPECIFIED; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  int64_t retry_after_ms() const { return retry_after_ms_; }
  // What only the operator may read (a library's own error text, file
  // paths): it goes to logs through to_string(), never to a client.
  const std::string& detail() const { return detail_; }
  Status with_detail(std::string detail) && {
    detail_ = std::move(detail);
    return std::move(*this);
  }

  // Marks a status that is dropped on purpose; grep for it.
  void ignore_error() const {}

  // Human-readable, for logs: "NOT_FOUND: No user named x." followed by the
  // detail in brackets when there is one.
  std::string to_string() const;
  // What a client is sent: code, message, field, retry_after_ms; never the detail.
  void to_proto(v1::Error* out) const;

 private:
  ErrorCode code_ = v1::ERROR_CODE_UNSPECIFIED;
  std::string message_;
  std::string field_;
  int64_t retry_after_ms_ = 0;
  std::string detail_;
};

// Short helpers so call sites read like the code they return.
inline Status invalid_argument(std::string msg, std::string field = {}) {
  return Status(v1::ERROR_CODE_INVALID_ARGUMENT, std::move(msg), std::move(field));
}
inline Status not_found(std::string msg, std::string field = {}) {
  return Status(v1::ERROR_CODE_NOT_FOUND, std::move(msg), std::move(field));
}
inline Status already_exists(std::string msg, std::string field = {}) {
  return Status(v1::ERROR_CODE_ALREADY_EXISTS, std::move(msg), std::move(field));
}
inline Status permission_denied(std::string msg) {
  return Status(v1::ERROR_CODE_PERMISSION_DENIED, std::move(msg));
}
inline Status unauthenticated(std::string msg) {
  return Status(v1::ERROR_CODE_UNAUTHENTICATED, std::move(msg));
}
inline Status failed_precondition(std::string msg) {
  return Status(v1::ERROR_CODE_FAILED_PRECONDITION, std::move(msg));
}
inline Status resource_exhausted(std::string msg, int64_t retry_after_ms) {
  return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED, std::move(msg), {}, retry_after_ms);
}
inline Status unavailable(std::string msg) { return Status(v1::ERROR_CODE_UNAVAILABLE, std::move(msg)); }
inline Status internal_error(std::string msg) { return Status(v1::ERROR_CODE_INTERNAL, std::move(msg)); }
inline Status data_loss(std::string msg) { return Status(v1::ERROR_CODE_DATA_LOSS, std::move(msg)); }

// A value or the Status saying why there is none (like absl::StatusOr).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).is_ok() && "a Result holding a Status must hold an error");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  // REQUIRES: is_ok()
  T& value() & {
    assert(is_ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(is_ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(is_ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK when a value is held.
  Status status() const { return is_ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

const char* error_code_name(ErrorCode code);  // "INVALID_ARGUMENT"

}  // namespace preceptor

// Returns early from the enclosing function when `expr` (a Status) is an error.
#define PRECEPTOR_RETURN_IF_ERROR(expr) \
  do {                                  \
    ::preceptor::Status _st = (expr);   \
    if (!_st.is_ok()) return _st;       \
  } while (0)
