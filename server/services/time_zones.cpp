#include "server/services/time_zones.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <system_error>

namespace preceptor::services {

Status check_time_zone(std::string_view tz, const std::filesystem::path& zoneinfo_dir) {
  const Status bad = invalid_argument("The time zone '" + std::string(tz) +
                                          "' is not a known IANA time zone name; use one such as "
                                          "Europe/Berlin, America/New_York or UTC.",
                                      "time_zone");
  if (tz.empty()) {
    return invalid_argument("The time zone is missing; use an IANA name such as Europe/Berlin or UTC.",
                            "time_zone");
  }
  if (tz == "UTC") return Status::ok();  // valid even where tzdata is not installed
  if (tz.size() > 100 || tz.front() == '/') return bad;
  bool chars_ok = std::all_of(tz.begin(), tz.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+' || c == '.';
  });
  if (!chars_ok) return bad;
  // No empty, "." or ".." component: the name must stay inside the zoneinfo folder.
  size_t start = 0;
  while (start <= tz.size()) {
    size_t end = tz.find('/', start);
    if (end == std::string_view::npos) end = tz.size();
    std::string_view part = tz.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return bad;
    start = end + 1;
  }
  std::filesystem::path file = zoneinfo_dir / std::string(tz);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return bad;  // follows symlinks (UTC -> Etc/UTC)
  // zone.tab, tzdata.zi and friends are regular files too; a zone file starts with "TZif".
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, sizeof magic) || std::string_view(magic, 4) != "TZif") return bad;
  return Status::ok();
}

}  // namespace preceptor::services
