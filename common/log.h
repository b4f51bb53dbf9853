#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace preceptor::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };

// Least severe level printed; default info. Call once at start-up.
void set_level(Level level);
bool parse_level(std::string_view name, Level* out);
bool enabled(Level level);

// One structured log line (logfmt) written to stderr in a single write when
// the object dies:
//   ts=2026-11-25T22:45:15.123Z level=info event=conn_open conn=7 peer=127.0.0.1:50514
// Thread-safe. Usage: log::Line(log::Level::kInfo, "conn_open").kv("conn", id);
class Line {
 public:
  Line(Level level, std::string_view event);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, int64_t value);
  Line& kv(std::string_view key, uint64_t value);
  Line& kv(std::string_view key, int value) { return kv(key, static_cast<int64_t>(value)); }
  Line& kv(std::string_view key, unsigned value) { return kv(key, static_cast<uint64_t>(value)); }
  Line& kv(std::string_view key, double value);

 private:
  bool on_;
  std::string text_;
};

inline Line info(std::string_view event) { return Line(Level::kInfo, event); }
inline Line warn(std::string_view event) { return Line(Level::kWarn, event); }
inline Line error(std::string_view event) { return Line(Level::kError, event); }
inline Line debug(std::string_view event) { return Line(Level::kDebug, event); }

}  // namespace preceptor::log
