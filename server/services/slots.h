#pragma once

// The slots of a mentor's office hours: pure functions of an OfficeHours
// (its time zone, weekly rules, date overrides, slot and buffer lengths)
// and a UTC range. No storage; safe from any thread. Internal to
// server/services (the office hours service, and whoever must know whether
// a time is a real slot).
//
// How slots are laid out. Each local day in the office hours' zone has its
// windows: the weekly rules of that weekday, unless an override for that
// date says `away` (then none of them), plus the override's extra windows.
// Inside each window, slots start at the window's start and then every
// slot_minutes + buffer_minutes, as long as the slot ends by the window's
// end — all in local wall-clock time, so a rule at 16:00 stays at 16:00 on
// both sides of a daylight-saving change.
//
// Daylight saving:
//   - a local start that does not exist that day (the hour skipped when
//     clocks spring forward) is skipped: no slot;
//   - a local start that exists twice (the hour repeated when clocks fall
//     back) is the first occurrence (the earlier UTC time) only;
//   - a slot lasts slot_minutes of real time from its start (its end is
//     start + slot_minutes, even when a change falls inside it).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "preceptor/v1/meetings.pb.h"
#include "server/services/meeting_book.h"

namespace preceptor::services {

// One slot, UTC milliseconds: [start_ms, end_ms).
struct SlotTime {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool operator==(const SlotTime&) const = default;
};

// An open window, UTC milliseconds: [start_ms, end_ms).
struct OpenWindow {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// OK when the date/tz library finds the IANA zone `tz` (and caches it);
// otherwise INVALID_ARGUMENT on field "time_zone".
Status check_zone_known(std::string_view tz);

// Days since 1970-01-01 of a "YYYY-MM-DD" calendar date; nullopt when it is
// not one (wrong shape, or a day the month does not have).
std::optional<int32_t> parse_local_date(std::string_view date);

// The slots of `oh` starting in [from_ms, to_ms), in start order. Ignores
// `enabled`, notice, horizon and seats (the caller applies them). Windows
// are expected valid (see the office hours service); an unknown zone is
// INVALID_ARGUMENT on "time_zone".
Result<std::vector<SlotTime>> expand_slots(const v1::OfficeHours& oh, int64_t from_ms, int64_t to_ms);

// Whether `start_ms` is the start of one of `oh`'s slots; the slot if so.
Result<std::optional<SlotTime>> find_slot(const v1::OfficeHours& oh, int64_t start_ms);

// The window of `oh` open at `now_ms`, in UTC; nullopt when none is.
// Windows of one day that touch or overlap count as one, and so do one
// ending at midnight and the next day's starting there (up to a week either
// way). A window starting in a skipped hour opens when the clocks jump.
Result<std::optional<OpenWindow>> open_window_at(const v1::OfficeHours& oh, int64_t now_ms);

}  // namespace preceptor::services
