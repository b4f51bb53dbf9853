#pragma once

#include <filesystem>
#include <string_view>

#include "common/status.h"

namespace preceptor::services {

// Where tzdata keeps its compiled zone files on Debian.
inline constexpr const char* kZoneInfoDir = "/usr/share/zoneinfo";

// OK when `tz` is an IANA time zone name (Europe/Berlin, America/New_York,
// UTC) that tzdata knows: a compiled zone file ("TZif" magic) under
// `zoneinfo_dir`. "UTC" is accepted even where tzdata is not installed.
// Anything else, or a name that would leave the folder ("..", a leading
// '/'), is INVALID_ARGUMENT on field "time_zone" with a sentence naming
// examples. Reads the file system; safe from any thread.
Status check_time_zone(std::string_view tz, const std::filesystem::path& zoneinfo_dir = kZoneInfoDir);

}  // namespace preceptor::services
