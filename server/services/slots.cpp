#include "server/services/slots.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace preceptor::services {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMinuteMsHere = 60'000;

using Window = std::pair<uint32_t, uint32_t>;  // local minutes [start, end)

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

Result<const date::time_zone*> zone_of(std::string_view tz) {
  if (!tz.empty()) {
    try {
      // locate_zone keeps every zone it found: later calls are a lookup.
      return date::locate_zone(tz);
    } catch (const std::exception&) {
    }
  }
  return invalid_argument("Unknown time zone \"" + std::string(tz) +
                              "\"; use an IANA name such as Europe/Stockholm or America/New_York.",
                          "time_zone");
}

// The windows of each local day of one OfficeHours.
class DayPlan {
 public:
  explicit DayPlan(const v1::OfficeHours& oh) : oh_(oh) {
    overrides_.reserve(oh.overrides_size());
    for (const auto& o : oh.overrides()) {
      if (auto day = parse_local_date(o.date())) overrides_.emplace_back(*day, &o);
    }
    std::sort(overrides_.begin(), overrides_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }

  // The windows of local day `day` (days since 1970-01-01), by start.
  std::vector<Window> windows(int64_t day) const {
    std::vector<Window> out;
    const v1::DateOverride* ov = nullptr;
    auto it = std::lower_bound(overrides_.begin(), overrides_.end(), day,
                               [](const auto& e, int64_t d) { return e.first < d; });
    if (it != overrides_.end() && it->first == day) ov = it->second;
    if (!ov || !ov->away()) {
      const unsigned weekday =
          date::weekday{date::sys_days{date::days{static_cast<int>(day)}}}.iso_encoding();  // 1 Mon .. 7 Sun
      for (const auto& r : oh_.rules()) {
        if (static_cast<unsigned>(r.day()) == weekday)
          out.emplace_back(r.window().start_minute(), r.window().end_minute());
      }
    }
    if (ov) {
      for (const auto& w : ov->extra()) out.emplace_back(w.start_minute(), w.end_minute());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  const v1::OfficeHours& oh_;
  std::vector<std::pair<int64_t, const v1::DateOverride*>> overrides_;
};

date::local_seconds local_at(int64_t day, uint32_t minute) {
  return date::local_seconds{std::chrono::seconds{day * 86400 + static_cast<int64_t>(minute) * 60}};
}

int64_t ms_of(date::sys_seconds t) { return static_cast<int64_t>(t.time_since_epoch().count()) * 1000; }

// Local seconds of the UTC bound `sys_s` (offset `offset_s`), moved two days
// inwards (`inward` +1 for a begin, -1 for an end). The bounds of a zone
// without changes are far out of any slot's range: kept far out, no overflow.
int64_t inside_by_a_day(int64_t sys_s, int64_t offset_s, int inward) {
  constexpr int64_t kFar = int64_t{1} << 50;  // seconds: far beyond any date a slot can have
  if (sys_s <= -kFar) return inward > 0 ? -kFar : -kFar - 1;
  if (sys_s >= kFar) return inward < 0 ? kFar : kFar + 1;
  return sys_s + offset_s + inward * 2 * 86'400;
}

}  // namespace

Status check_zone_known(std::string_view tz) {
  auto zone = zone_of(tz);
  if (!zone) return zone.status();
  return Status::ok();
}

std::optional<int32_t> parse_local_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto digits = [&](size_t from, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
  if (!y || !m || !d) return std::nullopt;
  const date::year_month_day ymd{date::year{*y}, date::month{static_cast<unsigned>(*m)},
                                 date::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int32_t>(date::sys_days{ymd}.time_since_epoch().count());
}

Result<std::vector<SlotTime>> expand_slots(const v1::OfficeHours& oh, int64_t from_ms, int64_t to_ms) {
  auto zone = zone_of(oh.time_zone());
  if (!zone) return zone.status();
  std::vector<SlotTime> out;
  const uint32_t slot = oh.slot_minutes();
  if (slot == 0 || from_ms >= to_ms) return out;
  const uint32_t step = slot + oh.buffer_minutes();
  const DayPlan plan(oh);
  // Local days whose slots can start in the range: zone offsets stay within
  // a day, so one UTC day either side is enough.
  const int64_t first_day = floor_div(from_ms, kDayMs) - 1;
  const int64_t last_day = floor_div(to_ms - 1, kDayMs) + 1;
  // The zone's offset is looked up once per stretch between its changes,
  // not once per slot: a unique offset holds for the local times that lie
  // two days inside its sys_info (offset changes are at most a day, so no
  // other sys_info reaches them: neither skipped nor repeated).
  int64_t same_from = 0, same_to = 0;  // local seconds [from, to) of `same_offset`; empty at first
  std::chrono::seconds same_offset{0};
  for (int64_t day = first_day; day <= last_day; ++day) {
    for (const auto& [begin, end] : plan.windows(day)) {
      for (uint32_t t = begin; t + slot <= end; t += step) {
        const date::local_seconds local = local_at(day, t);
        const int64_t local_s = local.time_since_epoch().count();
        std::chrono::seconds offset;
        if (local_s >= same_from && local_s < same_to) {
          offset = same_offset;
        } else {
          const date::local_info info = (*zone)->get_info(local);
          if (info.result == date::local_info::nonexistent) continue;  // skipped by the clocks
          // Unique or repeated: the first occurrence.
          offset = info.first.offset;
          if (info.result == date::local_info::unique) {
            same_offset = offset;
            same_from = inside_by_a_day(info.first.begin.time_since_epoch().count(), offset.count(), +1);
            same_to = inside_by_a_day(info.first.end.time_since_epoch().count(), offset.count(), -1);
          }
        }
        const int64_t start = ms_of(date::sys_seconds{local.time_since_epoch() - offset});
        if (start < from_ms || start >= to_ms) continue;
        out.push_back({start, start + static_cast<int64_t>(slot) * kMinuteMsHere});
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SlotTime& a, const SlotTime& b) { return a.start_ms < b.start_ms; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const SlotTime& a, const SlotTime& b) { return a.start_ms == b.start_ms; }),
            out.end());
  return out;
}

Result<std::optional<SlotTime>> find_slot(const v1::OfficeHours& oh, int64_t start_ms) {
  auto slots = expand_slots(oh, start_ms, start_ms + 1);
  if (!slots) return slots.status();
  if (slots->empty() || slots->front().start_ms != start_ms) return std::optional<SlotTime>();
  return std::optional<SlotTime>(slots->front());
}

Result<std::optional<OpenWindow>> open_window_at(const v1::OfficeHours& oh, int64_t now_ms) {
  auto zone = zone_of(oh.time_zone());
  if (!zone) return zone.status();
  const date::sys_seconds now_s{std::chrono::seconds{floor_div(now_ms, 1000)}};
  const date::sys_info info = (*zone)->get_info(now_s);
  const int64_t local_ms = now_ms + static_cast<int64_t>(info.offset.count()) * 1000;
  const int64_t day = floor_div(local_ms, kDayMs);
  const int64_t in_day = local_ms - day * kDayMs;
  const DayPlan plan(oh);
  // Windows that touch or overlap are one.
  const auto merged = [&plan](int64_t d) {
    std::vector<Window> out;
    for (const auto& w : plan.windows(d)) {
      if (!out.empty() && w.first <= out.back().second) {
        out.back().second = std::max(out.back().second, w.second);
      } else {
        out.push_back(w);
      }
    }
    return out;
  };
  for (const auto& [begin, end] : merged(day)) {
    if (in_day < static_cast<int64_t>(begin) * kMinuteMsHere ||
        in_day >= static_cast<int64_t>(end) * kMinuteMsHere)
      continue;
    // So are a window that ends at midnight and one that starts there the
    // next day: a line open late into the night does not empty at 00:00.
    // At most a week either way (hours open around the clock).
    constexpr uint32_t kMidnight = 24 * 60;
    constexpr int kMaxDaysJoined = 7;
    int64_t start_day = day;
    uint32_t start_minute = begin;
    for (int i = 0; i < kMaxDaysJoined && start_minute == 0; ++i) {
      const std::vector<Window> before = merged(start_day - 1);
      if (before.empty() || before.back().second != kMidnight) break;
      --start_day;
      start_minute = before.back().first;
    }
    int64_t end_day = day;
    uint32_t end_minute = end;
    for (int i = 0; i < kMaxDaysJoined && end_minute == kMidnight; ++i) {
      const std::vector<Window> after = merged(end_day + 1);
      if (after.empty() || after.front().first != 0) break;
      ++end_day;
      end_minute = after.front().second;
    }
    OpenWindow w;
    w.start_ms = ms_of((*zone)->to_sys(local_at(start_day, start_minute), date::choose::earliest));
    w.end_ms = ms_of((*zone)->to_sys(local_at(end_day, end_minute), date::choose::latest));
    return std::optional<OpenWindow>(w);
  }
  return std::optional<OpenWindow>();
}

}  // namespace preceptor::services
