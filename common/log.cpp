#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace preceptor::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

void set_level(Level level) { g_level = static_cast<int>(level); }

bool parse_level(std::string_view name, Level* out) {
  if (name == "debug")
    *out = Level::kDebug;
  else if (name == "info")
    *out = Level::kInfo;
  else if (name == "warn")
    *out = Level::kWarn;
  else if (name == "error")
    *out = Level::kError;
  else
    return false;
  return true;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

Line::Line(Level level, std::string_view event) : on_(enabled(level)) {
  if (!on_) return;
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[80];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  text_.reserve(160);
  text_ += "ts=";
  text_ += ts;
  text_ += " level=";
  text_ += level_name(level);
  text_ += " event=";
  text_ += event;
}

Line::~Line() {
  if (!on_) return;
  text_ += '\n';
  // One write per line, so lines from different threads never interleave.
  ssize_t ignored = ::write(STDERR_FILENO, text_.data(), text_.size());
  (void)ignored;
}

Line& Line::kv(std::string_view key, std::string_view value) {
  if (!on_) return *this;
  text_ += ' ';
  text_ += key;
  text_ += '=';
  if (!needs_quotes(value)) {
    text_ += value;
    return *this;
  }
  text_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      text_ += '\\';
      text_ += c;
    } else if (c == '\n') {
      text_ += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      text_ += ' ';
    } else {
      text_ += c;
    }
  }
  text_ += '"';
  return *this;
}

Line& Line::kv(std::string_view key, int64_t value) { return on_ ? kv(key, std::to_string(value)) : *this; }
Line& Line::kv(std::string_view key, uint64_t value) { return on_ ? kv(key, std::to_string(value)) : *this; }
Line& Line::kv(std::string_view key, double value) {
  if (!on_) return *this;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  return kv(key, std::string_view(buf));
}

}  // namespace preceptor::log
