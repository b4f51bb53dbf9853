#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace preceptor::services {

// Checks of text that arrives from users (requests, rosters, the admin
// tool): pure functions of their input, safe from any thread. Refusals are
// INVALID_ARGUMENT with the request field that is wrong and a sentence a
// user can act on.

inline constexpr size_t kMaxTextBytes = 200;  // display name, specialty, training level
inline constexpr size_t kMinPasswordBytes = 10;
inline constexpr size_t kMaxPasswordBytes = 1024;

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s);
// Any C0 control character (including tab and newline) or DEL.
bool has_control_chars(std::string_view s);
// Only spaces and tabs (true for the empty string).
bool is_blank(std::string_view s);

// Free text shown to other people: valid UTF-8, one line, at most
// kMaxTextBytes bytes; when `required`, not blank. `field` is the request
// field named in the error, `what` the words for it in the sentence
// ("display name" -> "The display name is missing.").
Status check_text(std::string_view value, const char* field, const char* what, bool required);

// 3-64 characters: ASCII letters, digits, '.', '_', '-', '@'.
bool valid_username(std::string_view name);

// kMinPasswordBytes to kMaxPasswordBytes bytes; anything else in them is allowed.
Status check_password_length(std::string_view password);

// The first at most `max` bytes of `s`, cut before a UTF-8 sequence rather
// than through it. REQUIRES: `s` is valid UTF-8.
std::string truncate_utf8(std::string s, size_t max);

}  // namespace preceptor::services
