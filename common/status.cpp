#include "common/status.h"

namespace preceptor {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case v1::ERROR_CODE_UNSPECIFIED:
      return "OK";
    case v1::ERROR_CODE_CANCELLED:
      return "CANCELLED";
    case v1::ERROR_CODE_UNKNOWN:
      return "UNKNOWN";
    case v1::ERROR_CODE_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case v1::ERROR_CODE_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case v1::ERROR_CODE_NOT_FOUND:
      return "NOT_FOUND";
    case v1::ERROR_CODE_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case v1::ERROR_CODE_PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case v1::ERROR_CODE_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case v1::ERROR_CODE_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case v1::ERROR_CODE_ABORTED:
      return "ABORTED";
    case v1::ERROR_CODE_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case v1::ERROR_CODE_UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case v1::ERROR_CODE_INTERNAL:
      return "INTERNAL";
    case v1::ERROR_CODE_UNAVAILABLE:
      return "UNAVAILABLE";
    case v1::ERROR_CODE_DATA_LOSS:
      return "DATA_LOSS";
    case v1::ERROR_CODE_UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string s = error_code_name(code_);
  s += ": ";
  s += message_;
  if (!detail_.empty()) {
    s += " [";
    s += detail_;
    s += "]";
  }
  return s;
}

void Status::to_proto(v1::Error* out) const {
  out->set_code(code_);
  out->set_message(message_);
  out->set_field(field_);
  out->set_retry_after_ms(retry_after_ms_);
}

}  // namespace preceptor
