#include "server/services/document_types.h"

#include <magic.h>

#include "common/log.h"

namespace preceptor::services {
namespace {

bool ends_with_ignoring_case(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

// `head` without a UTF-8 sequence cut off at its end, so that text cut at
// kSniffBytes still looks like text to libmagic.
std::string_view without_cut_character(std::string_view head) {
  size_t back = 0;
  while (back < 3 && back < head.size() &&
         (static_cast<unsigned char>(head[head.size() - 1 - back]) & 0xC0) == 0x80) {
    ++back;
  }
  if (back < head.size()) {
    const auto lead = static_cast<unsigned char>(head[head.size() - 1 - back]);
    size_t len = 1;
    if ((lead & 0xE0) == 0xC0) len = 2;
    if ((lead & 0xF0) == 0xE0) len = 3;
    if ((lead & 0xF8) == 0xF0) len = 4;
    if (len > back + 1) return head.substr(0, head.size() - 1 - back);
  }
  return head;
}

Status refused(std::string_view looks_like) {
  return invalid_argument(
      "This file's content is " + std::string(looks_like) +
          ", which cannot be uploaded: send a PDF, a Word (.docx) or OpenDocument (.odt) document, or plain "
          "text in UTF-8 (the type is decided by the content, not by the file's name).",
      "content");
}

}  // namespace

bool is_markdown_name(std::string_view name) {
  return ends_with_ignoring_case(name, ".md") || ends_with_ignoring_case(name, ".markdown");
}

ContentSniffer::~ContentSniffer() {
  if (magic_ != nullptr) magic_close(magic_);
}

bool ContentSniffer::load() {
  if (!tried_) {
    tried_ = true;
    // The MIME type and its charset; never look inside compressed files.
    magic_ = magic_open(MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
    if (magic_ != nullptr && magic_load(magic_, nullptr) != 0) {
      log::error("libmagic_unusable").kv("error", magic_error(magic_) ? magic_error(magic_) : "unknown");
      magic_close(magic_);
      magic_ = nullptr;
    }
  }
  return magic_ != nullptr;
}

Result<std::string> ContentSniffer::sniff(std::string_view head, bool more, std::string_view name) {
  if (!load()) {
    return unavailable(
        "The server cannot tell file types apart right now (libmagic did not load); tell the operator.");
  }
  if (more) head = without_cut_character(head);
  const char* found = magic_buffer(magic_, head.data(), head.size());
  if (found == nullptr) {
    return refused("of a kind the server could not recognise");
  }
  // "type/subtype; charset=..."
  const std::string_view answer(found);
  const size_t semicolon = answer.find(';');
  const std::string_view type = answer.substr(0, semicolon);
  std::string_view charset;
  if (semicolon != std::string_view::npos) {
    const size_t eq = answer.find("charset=", semicolon);
    if (eq != std::string_view::npos) charset = answer.substr(eq + 8);
  }
  if (type == kPdfType || type == kDocxType || type == kOdtType) return std::string(type);
  if (charset == "us-ascii" || charset == "utf-8") {
    return std::string(is_markdown_name(name) ? kMarkdownType : kTextType);
  }
  if (type.substr(0, 5) == "text/") {
    return refused("text in another encoding (" + std::string(charset) + ")");
  }
  return refused(type);
}

void Utf8Stream::feed(std::string_view bytes) {
  for (const char ch : bytes) {
    if (!ok_) return;
    const auto b = static_cast<unsigned char>(ch);
    if (need_ == 0) {
      if (b == 0) {
        ok_ = false;
      } else if (b < 0x80) {
        continue;
      } else if (b < 0xC2) {
        ok_ = false;
      } else if (b < 0xE0) {
        need_ = 1;
        lo_ = 0x80, hi_ = 0xBF;
      } else if (b < 0xF0) {
        need_ = 2;
        lo_ = b == 0xE0 ? 0xA0 : 0x80;
        hi_ = b == 0xED ? 0x9F : 0xBF;
      } else if (b < 0xF5) {
        need_ = 3;
        lo_ = b == 0xF0 ? 0x90 : 0x80;
        hi_ = b == 0xF4 ? 0x8F : 0xBF;
      } else {
        ok_ = false;
      }
      continue;
    }
    if (b < lo_ || b > hi_) {
      ok_ = false;
      return;
    }
    lo_ = 0x80, hi_ = 0xBF;
    --need_;
  }
}

Status not_utf8_text() {
  return invalid_argument(
      "This file began like text but is not all UTF-8 text (a byte sequence that is not UTF-8, or a NUL "
      "byte); save it as UTF-8 text and upload it again.",
      "content");
}

}  // namespace preceptor::services
