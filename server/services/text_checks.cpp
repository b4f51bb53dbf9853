#include "server/services/text_checks.h"

#include <algorithm>
#include <cstdint>

namespace preceptor::services {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

Status check_text(std::string_view value, const char* field, const char* what, bool required) {
  if (required && (value.empty() || is_blank(value))) {
    return invalid_argument(std::string("The ") + what + " is missing.", field);
  }
  if (value.size() > kMaxTextBytes) {
    return invalid_argument(std::string("The ") + what + " is too long (" + std::to_string(value.size()) +
                                " bytes; at most " + std::to_string(kMaxTextBytes) + ").",
                            field);
  }
  if (!valid_utf8(value)) {
    return invalid_argument(std::string("The ") + what + " is not valid UTF-8 text.", field);
  }
  if (has_control_chars(value)) {
    return invalid_argument(std::string("The ") + what + " must be a single line without control characters.",
                            field);
  }
  return Status::ok();
}

bool valid_username(std::string_view name) {
  if (name.size() < 3 || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '@';
  });
}

Status check_password_length(std::string_view password) {
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
    return invalid_argument("The password must be " + std::to_string(kMinPasswordBytes) + " to " +
                                std::to_string(kMaxPasswordBytes) + " bytes long (this one has " +
                                std::to_string(password.size()) + ").",
                            "password");
  }
  return Status::ok();
}

std::string truncate_utf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

}  // namespace preceptor::services
