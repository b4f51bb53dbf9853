#pragma once

// What an uploaded document is, decided from its content (libmagic), never
// from its name: the types docs/protocol.md "Documents" accepts. Internal to
// server/services.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

struct magic_set;  // libmagic's handle (magic_t)

namespace preceptor::services {

// The first bytes the type is decided on (all of a smaller file). Enough for
// libmagic to see into a .docx's or .odt's first ZIP entries.
inline constexpr size_t kSniffBytes = 64 * 1024;

inline constexpr std::string_view kPdfType = "application/pdf";
inline constexpr std::string_view kDocxType =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
inline constexpr std::string_view kOdtType = "application/vnd.oasis.opendocument.text";
inline constexpr std::string_view kTextType = "text/plain";
inline constexpr std::string_view kMarkdownType = "text/markdown";

// True for a name ending in .md or .markdown (any case): text with such a
// name is stored as text/markdown.
bool is_markdown_name(std::string_view name);

// True for text/plain and text/markdown: checked as UTF-8 over the whole file.
inline bool is_text_type(std::string_view type) { return type == kTextType || type == kMarkdownType; }

// Decides a document's type from its first bytes with libmagic. Holds one
// libmagic handle (loaded on first use: the compiled database of Debian's
// libmagic-mgc), so one sniffer per thread; not thread-safe.
class ContentSniffer {
 public:
  ContentSniffer() = default;
  ~ContentSniffer();
  ContentSniffer(const ContentSniffer&) = delete;
  ContentSniffer& operator=(const ContentSniffer&) = delete;

  // The stored content type of a file whose first bytes are `head` (the
  // first min(kSniffBytes, size) bytes; `more` when the file goes on past
  // them) and whose name is `name`: PDF, DOCX, ODT, or for text (libmagic
  // finds US-ASCII or UTF-8) text/plain or text/markdown by the name. The
  // whole of a text file must still pass Utf8Stream. Anything else:
  // INVALID_ARGUMENT on "content" with a sentence naming what it looks like
  // and what is accepted. UNAVAILABLE when libmagic cannot be loaded.
  Result<std::string> sniff(std::string_view head, bool more, std::string_view name);

  // Loads libmagic's database (about 1.3 MiB) now rather than at the first
  // upload, so that upload's memory and time do not include it and a
  // missing database is logged at start-up; sniff() loads it itself when
  // this was not called. False when it cannot be loaded (logged).
  bool load();

 private:
  ::magic_set* magic_ = nullptr;
  bool tried_ = false;
};

// Checks a stream of bytes, piece by piece, as text: well-formed UTF-8 (no
// overlong forms, surrogates or values past U+10FFFF) and no NUL byte.
class Utf8Stream {
 public:
  void feed(std::string_view bytes);
  // Everything fed so far is such text and does not end inside a character.
  bool complete_text() const { return ok_ && need_ == 0; }

 private:
  bool ok_ = true;
  int need_ = 0;             // continuation bytes still expected
  unsigned char lo_ = 0x80;  // the next continuation byte's range
  unsigned char hi_ = 0xBF;
};

// The refusal of a file that is not UTF-8 text after all (the first bytes
// looked like text): INVALID_ARGUMENT on "content".
Status not_utf8_text();

}  // namespace preceptor::services
