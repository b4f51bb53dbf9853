// Office hours: how weekly rules become slots in real time zones (daylight
// saving included), and through the router (tests/harness): publishing,
// who sees what, listing and booking slots (never more bookings than seats),
// and the drop-in queue with the events each member is sent.
#include "server/services/office_hours.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>

#include "server/services/meeting_book.h"
#include "server/services/slots.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"

namespace preceptor::services {
namespace {

using harness::frame;
using harness::ServicesHarness;
using F = v1::ClientFrame;
using namespace std::chrono_literals;

constexpr int64_t kMin = 60'000;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

// UTC milliseconds of a calendar date and time.
int64_t utc(int y, unsigned m, unsigned d, int hour = 0, int minute = 0) {
  const auto t =
      date::sys_days{date::year{y} / m / d} + std::chrono::hours{hour} + std::chrono::minutes{minute};
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

v1::WeeklyRule rule(v1::Weekday day, uint32_t start_minute, uint32_t end_minute) {
  v1::WeeklyRule r;
  r.set_day(day);
  r.mutable_window()->set_start_minute(start_minute);
  r.mutable_window()->set_end_minute(end_minute);
  return r;
}

v1::OfficeHours hours_in(const std::string& zone, std::vector<v1::WeeklyRule> rules, uint32_t slot = 30,
                         uint32_t buffer = 0) {
  v1::OfficeHours oh;
  oh.set_enabled(true);
  oh.set_time_zone(zone);
  for (auto& r : rules) *oh.add_rules() = r;
  oh.set_slot_minutes(slot);
  oh.set_buffer_minutes(buffer);
  oh.set_horizon_days(30);
  oh.set_seats(1);
  oh.set_audience(v1::AUDIENCE_OWN_MENTEES);
  return oh;
}

std::vector<int64_t> starts(const v1::OfficeHours& oh, int64_t from, int64_t to) {
  auto slots = expand_slots(oh, from, to);
  EXPECT_TRUE(slots.is_ok()) << slots.status().message();
  std::vector<int64_t> out;
  if (slots) {
    for (const auto& s : *slots) out.push_back(s.start_ms);
  }
  return out;
}

// ---- Slots in real zones ----

TEST(Slots, AStockholmRuleStaysAtItsLocalTimeAcrossTheMarchChange) {
  // Sundays 16:00-17:00 in Stockholm; clocks go forward on 2026-03-29.
  auto oh = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_SUNDAY, 16 * 60, 17 * 60)});
  EXPECT_EQ(starts(oh, utc(2026, 3, 21), utc(2026, 4, 6)),
            (std::vector<int64_t>{utc(2026, 3, 22, 15), utc(2026, 3, 22, 15, 30),  // CET, +1
                                  utc(2026, 3, 29, 14), utc(2026, 3, 29, 14, 30),  // CEST, +2
                                  utc(2026, 4, 5, 14), utc(2026, 4, 5, 14, 30)}));
  auto slots = expand_slots(oh, utc(2026, 3, 29), utc(2026, 3, 30));
  ASSERT_TRUE(slots.is_ok());
  ASSERT_EQ(slots->size(), 2u);
  EXPECT_EQ((*slots)[0].end_ms - (*slots)[0].start_ms, 30 * kMin);
}

TEST(Slots, AStockholmRuleStaysAtItsLocalTimeAcrossTheOctoberChange) {
  auto oh = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_SUNDAY, 16 * 60, 17 * 60)}, 60);
  EXPECT_EQ(starts(oh, utc(2026, 10, 17), utc(2026, 11, 2)),
            (std::vector<int64_t>{utc(2026, 10, 18, 14), utc(2026, 10, 25, 15), utc(2026, 11, 1, 15)}));
}

TEST(Slots, ANewYorkRuleFollowsBothOfItsChanges) {
  // Sundays 09:00-10:00; New York springs forward on 2026-03-08 and falls back on 2026-11-01.
  auto oh = hours_in("America/New_York", {rule(v1::WEEKDAY_SUNDAY, 9 * 60, 10 * 60)}, 60);
  EXPECT_EQ(starts(oh, utc(2026, 3, 1), utc(2026, 3, 9)),
            (std::vector<int64_t>{utc(2026, 3, 1, 14), utc(2026, 3, 8, 13)}));
  EXPECT_EQ(starts(oh, utc(2026, 10, 25), utc(2026, 11, 2)),
            (std::vector<int64_t>{utc(2026, 10, 25, 13), utc(2026, 11, 1, 14)}));
}

TEST(Slots, StartsInTheSkippedHourAreLeftOut) {
  // 02:00-03:00 does not exist in Stockholm on 2026-03-29.
  auto oh = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_SUNDAY, 2 * 60, 3 * 60)});
  EXPECT_EQ(starts(oh, utc(2026, 3, 21), utc(2026, 3, 31)),
            (std::vector<int64_t>{utc(2026, 3, 22, 1), utc(2026, 3, 22, 1, 30)}));
  // A window around the gap (01:30-03:30) keeps the starts on either side of it: 01:30 CET, 03:00 CEST.
  auto around = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_SUNDAY, 90, 210)});
  EXPECT_EQ(starts(around, utc(2026, 3, 28), utc(2026, 3, 30)),
            (std::vector<int64_t>{utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1)}));
}

TEST(Slots, StartsInTheRepeatedHourAreTheFirstOccurrenceOnly) {
  // 02:00-03:00 happens twice in Stockholm on 2026-10-25 (CEST, then CET).
  auto oh = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_SUNDAY, 2 * 60, 3 * 60)});
  EXPECT_EQ(starts(oh, utc(2026, 10, 24), utc(2026, 10, 26)),
            (std::vector<int64_t>{utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30)}));
}

TEST(Slots, SlotsStepBySlotAndBufferAndEndByTheWindowsEnd) {
  auto oh = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_MONDAY, 16 * 60, 18 * 60)}, 30, 15);
  // Monday 2026-06-01, CEST: 16:00, 16:45, 17:30 (ends 18:00); 18:15 would not fit.
  EXPECT_EQ(starts(oh, utc(2026, 6, 1), utc(2026, 6, 2)),
            (std::vector<int64_t>{utc(2026, 6, 1, 14), utc(2026, 6, 1, 14, 45), utc(2026, 6, 1, 15, 30)}));
  // Only the starts inside the range.
  EXPECT_EQ(starts(oh, utc(2026, 6, 1, 14, 1), utc(2026, 6, 1, 15, 30)),
            (std::vector<int64_t>{utc(2026, 6, 1, 14, 45)}));
}

TEST(Slots, AnOverrideAddsHoursOrTakesADayAway) {
  auto oh = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_MONDAY, 16 * 60, 17 * 60)}, 60);
  auto* extra = oh.add_overrides();
  extra->set_date("2026-06-03");  // a Wednesday, no rule
  auto* w = extra->add_extra();
  w->set_start_minute(9 * 60);
  w->set_end_minute(10 * 60);
  auto* away = oh.add_overrides();
  away->set_date("2026-06-08");  // a Monday
  away->set_away(true);
  EXPECT_TRUE(check_office_hours(oh).is_ok());
  EXPECT_EQ(starts(oh, utc(2026, 6, 1), utc(2026, 6, 16)),
            (std::vector<int64_t>{utc(2026, 6, 1, 14), utc(2026, 6, 3, 7), utc(2026, 6, 15, 14)}));
}

TEST(Slots, AWindowMayNotCrossMidnight) {
  auto late = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_FRIDAY, 23 * 60, 60)});
  Status st = check_office_hours(late);
  EXPECT_EQ(st.code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(st.field(), "rules[0].window");
  auto past = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_FRIDAY, 23 * 60, 25 * 60)});
  EXPECT_EQ(check_office_hours(past).field(), "rules[0].window");
  auto whole_day = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_FRIDAY, 0, 1440)});
  EXPECT_TRUE(check_office_hours(whole_day).is_ok());
}

TEST(Slots, AnUnknownZoneIsRefusedOnTimeZone) {
  auto oh = hours_in("Mars/Olympus_Mons", {rule(v1::WEEKDAY_MONDAY, 600, 660)});
  auto slots = expand_slots(oh, utc(2026, 6, 1), utc(2026, 6, 2));
  ASSERT_FALSE(slots.is_ok());
  EXPECT_EQ(slots.status().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(slots.status().field(), "time_zone");
  EXPECT_EQ(check_office_hours(oh).field(), "time_zone");
}

TEST(Slots, OpenNowFollowsTheLocalWindow) {
  auto oh = hours_in("Europe/Stockholm", {rule(v1::WEEKDAY_MONDAY, 14 * 60, 15 * 60),
                                          rule(v1::WEEKDAY_MONDAY, 15 * 60, 16 * 60)});
  auto open = open_window_at(oh, utc(2026, 6, 1, 12, 10));  // 14:10 local
  ASSERT_TRUE(open.is_ok() && open->has_value());
  EXPECT_EQ((*open)->start_ms, utc(2026, 6, 1, 12));
  EXPECT_EQ((*open)->end_ms, utc(2026, 6, 1, 14));  // two touching windows are one
  auto closed = open_window_at(oh, utc(2026, 6, 1, 14));
  ASSERT_TRUE(closed.is_ok());
  EXPECT_FALSE(closed->has_value());
  EXPECT_FALSE(open_window_at(oh, utc(2026, 6, 2, 12, 10))->has_value());  // Tuesday
}

TEST(Slots, AWindowToMidnightAndTheNextDaysFromMidnightAreOneOpenStretch) {
  // Monday 20:00-24:00 and Tuesday 00:00-02:00 in Stockholm (UTC+2 in June).
  auto oh = hours_in("Europe/Stockholm",
                     {rule(v1::WEEKDAY_MONDAY, 20 * 60, 24 * 60), rule(v1::WEEKDAY_TUESDAY, 0, 2 * 60)});
  for (int64_t now : {utc(2026, 6, 1, 21, 50), utc(2026, 6, 1, 22, 10)}) {  // 23:50 and 00:10 local
    auto open = open_window_at(oh, now);
    ASSERT_TRUE(open.is_ok() && open->has_value());
    EXPECT_EQ((*open)->start_ms, utc(2026, 6, 1, 18));
    EXPECT_EQ((*open)->end_ms, utc(2026, 6, 2, 0));
  }
  EXPECT_FALSE(open_window_at(oh, utc(2026, 6, 2, 0, 1))->has_value());  // 02:01 local
  // Around the clock every day: the stretch is bounded, a week back and ahead.
  std::vector<v1::WeeklyRule> always;
  for (int d = v1::WEEKDAY_MONDAY; d <= v1::WEEKDAY_SUNDAY; ++d)
    always.push_back(rule(static_cast<v1::Weekday>(d), 0, 24 * 60));
  auto open = open_window_at(hours_in("UTC", always), utc(2026, 6, 10, 12));
  ASSERT_TRUE(open.is_ok() && open->has_value());
  EXPECT_EQ((*open)->start_ms, utc(2026, 6, 3));
  EXPECT_EQ((*open)->end_ms, utc(2026, 6, 18));
}

// ---- Through the router ----

// Monday 2026-06-01 08:00 UTC, 10:00 in Stockholm.
constexpr int64_t kMondayMorning = 1'780'300'800'000;

struct World {
  ServicesHarness h;
  v1::User mentor, mentee, stranger, director, other_mentor;
  uint64_t mentorship_id = 0;

  World() {
    h.clock().set_ms(kMondayMorning);
    mentor = h.add_user("mentor.lind", v1::ROLE_MENTOR);
    mentee = h.add_user("mentee.chen", v1::ROLE_MENTEE);
    stranger = h.add_user("mentee.zed", v1::ROLE_MENTEE);
    director = h.add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR);
    other_mentor = h.add_user("mentor.raman", v1::ROLE_MENTOR);
    v1::RequestMentorship req;
    req.set_mentor_id(mentor.id());
    req.set_purpose(v1::PURPOSE_CAREER);
    auto asked = h.call(h.caller(mentee), frame(&F::mutable_request_mentorship, req));
    EXPECT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(asked.request_mentorship().mentorship().id());
    auto accepted = h.call(h.caller(mentor), frame(&F::mutable_accept_mentorship, accept));
    EXPECT_TRUE(accepted.has_accept_mentorship()) << accepted.DebugString();
    mentorship_id = accepted.accept_mentorship().mentorship().id();
  }

  // Weekdays 14:00-16:00 Stockholm, 30-minute slots, an hour's notice, 14 days ahead.
  static v1::OfficeHours weekdays(uint32_t seats = 1, v1::Audience audience = v1::AUDIENCE_OWN_MENTEES) {
    std::vector<v1::WeeklyRule> rules;
    for (auto d : {v1::WEEKDAY_MONDAY, v1::WEEKDAY_TUESDAY, v1::WEEKDAY_WEDNESDAY, v1::WEEKDAY_THURSDAY,
                   v1::WEEKDAY_FRIDAY})
      rules.push_back(rule(d, 14 * 60, 16 * 60));
    auto oh = hours_in("Europe/Stockholm", rules);
    oh.set_min_notice_minutes(60);
    oh.set_horizon_days(14);
    oh.set_seats(seats);
    oh.set_audience(audience);
    return oh;
  }

  v1::Response set(const v1::User& who, const v1::OfficeHours& oh) {
    v1::SetOfficeHours req;
    *req.mutable_office_hours() = oh;
    return h.call(h.caller(who), frame(&F::mutable_set_office_hours, req));
  }
  void publish(const v1::OfficeHours& oh) {
    auto r = set(mentor, oh);
    ASSERT_TRUE(r.has_set_office_hours()) << r.DebugString();
  }
  v1::Response get(const v1::User& who) {
    v1::GetOfficeHours req;
    req.set_mentor_id(mentor.id());
    return h.call(h.caller(who), frame(&F::mutable_get_office_hours, req));
  }
  v1::Response list(const v1::User& who, int64_t from, int64_t to) {
    v1::ListSlots req;
    req.set_mentor_id(mentor.id());
    req.set_from_ms(from);
    req.set_to_ms(to);
    return h.call(h.caller(who), frame(&F::mutable_list_slots, req));
  }
  v1::Response book(const v1::User& who, int64_t start, const std::string& agenda = "CV review") {
    return h.call(h.caller(who), frame(&F::mutable_book_slot, book_req(start, agenda)));
  }
  v1::BookSlot book_req(int64_t start, const std::string& agenda = "CV review") {
    v1::BookSlot req;
    req.set_mentor_id(mentor.id());
    req.set_start_ms(start);
    req.set_agenda(agenda);
    return req;
  }
  v1::Response join(const v1::User& who) {
    v1::JoinQueue req;
    req.set_mentor_id(mentor.id());
    return h.call(h.caller(who), frame(&F::mutable_join_queue, req));
  }
  v1::Response leave(const v1::User& who) {
    v1::LeaveQueue req;
    req.set_mentor_id(mentor.id());
    return h.call(h.caller(who), frame(&F::mutable_leave_queue, req));
  }
  v1::Response call_next() { return h.call(h.caller(mentor), frame(&F::mutable_call_next)); }
  v1::Response skip(uint64_t mentee_id) {
    v1::SkipInQueue req;
    req.set_mentee_id(mentee_id);
    return h.call(h.caller(mentor), frame(&F::mutable_skip_in_queue, req));
  }
  v1::Response queue(const v1::User& who) {
    v1::GetQueue req;
    req.set_mentor_id(mentor.id());
    return h.call(h.caller(who), frame(&F::mutable_get_queue, req));
  }
};

std::vector<int64_t> slot_starts(const v1::Response& r) {
  std::vector<int64_t> out;
  for (const auto& s : r.list_slots().slots()) out.push_back(s.start_ms());
  return out;
}

const v1::Slot* slot_at(const v1::Response& r, int64_t start) {
  for (const auto& s : r.list_slots().slots()) {
    if (s.start_ms() == start) return &s;
  }
  return nullptr;
}

// Waits (bounded) until `session` holds `n` events that `pick` turns into
// a value; returns those values so far.
template <class T>
std::vector<T> wait_for(harness::FakeSession& session, size_t n,
                        std::function<std::optional<T>(const v1::Event&)> pick) {
  const auto deadline = std::chrono::steady_clock::now() + harness::kWait;
  for (size_t seen = 0;;) {
    std::vector<T> out;
    for (const auto& e : session.events()) {
      if (auto v = pick(e)) out.push_back(std::move(*v));
    }
    if (out.size() >= n || std::chrono::steady_clock::now() > deadline) return out;
    session.wait_events(++seen);  // bounded; returns at once when events are there
  }
}

std::optional<v1::QueueChanged> queue_changed(const v1::Event& e) {
  if (!e.has_queue_changed()) return std::nullopt;
  return e.queue_changed();
}

std::vector<v1::QueueChanged> wait_queue_events(harness::FakeSession& session, size_t n) {
  return wait_for<v1::QueueChanged>(session, n, queue_changed);
}

std::vector<v1::QueueChanged> queue_events(const std::vector<v1::Event>& events) {
  std::vector<v1::QueueChanged> out;
  for (const auto& e : events) {
    if (auto q = queue_changed(e)) out.push_back(*q);
  }
  return out;
}

void expect_error(const v1::Response& r, v1::ErrorCode code, const std::string& field = {}) {
  ASSERT_TRUE(r.has_error()) << r.DebugString();
  EXPECT_EQ(r.error().code(), code) << r.DebugString();
  if (!field.empty()) {
    EXPECT_EQ(r.error().field(), field) << r.DebugString();
  }
  EXPECT_FALSE(r.error().message().empty());
}

TEST(OfficeHours, EveryRuleOfTheProtocolIsCheckedOnItsField) {
  World w;
  struct Case {
    const char* field;
    std::function<void(v1::OfficeHours&)> spoil;
  };
  const std::vector<Case> cases = {
      {"time_zone", [](auto& oh) { oh.set_time_zone("Europe/Atlantis"); }},
      {"time_zone", [](auto& oh) { oh.set_time_zone(""); }},
      {"rules",
       [](auto& oh) {
         for (int i = 0; i < 24; ++i) *oh.add_rules() = rule(v1::WEEKDAY_SATURDAY, i * 10, i * 10 + 5);
       }},
      {"rules[5].day", [](auto& oh) { *oh.add_rules() = rule(v1::WEEKDAY_UNSPECIFIED, 60, 120); }},
      {"rules[5].window", [](auto& oh) { *oh.add_rules() = rule(v1::WEEKDAY_SUNDAY, 120, 120); }},
      {"rules[5].window", [](auto& oh) { *oh.add_rules() = rule(v1::WEEKDAY_SUNDAY, 1400, 1441); }},
      {"rules[5].window", [](auto& oh) { *oh.add_rules() = rule(v1::WEEKDAY_MONDAY, 15 * 60, 17 * 60); }},
      {"slot_minutes", [](auto& oh) { oh.set_slot_minutes(9); }},
      {"slot_minutes", [](auto& oh) { oh.set_slot_minutes(241); }},
      {"buffer_minutes", [](auto& oh) { oh.set_buffer_minutes(121); }},
      {"min_notice_minutes", [](auto& oh) { oh.set_min_notice_minutes(20161); }},
      {"horizon_days", [](auto& oh) { oh.set_horizon_days(0); }},
      {"horizon_days", [](auto& oh) { oh.set_horizon_days(181); }},
      {"seats", [](auto& oh) { oh.set_seats(0); }},
      {"seats", [](auto& oh) { oh.set_seats(51); }},
      {"audience", [](auto& oh) { oh.set_audience(v1::AUDIENCE_UNSPECIFIED); }},
      {"cancel_notice_minutes", [](auto& oh) { oh.set_cancel_notice_minutes(10081); }},
      {"overrides",
       [](auto& oh) {
         for (int i = 0; i < 101; ++i) {
           auto* o = oh.add_overrides();
           o->set_date("2027-01-" + std::string(i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1));
           o->set_away(true);
         }
       }},
      {"overrides[0].date",
       [](auto& oh) {
         auto* o = oh.add_overrides();
         o->set_date("2026-02-30");
         o->set_away(true);
       }},
      {"overrides[0].date",
       [](auto& oh) {
         auto* o = oh.add_overrides();
         o->set_date("2026/07/01");
         o->set_away(true);
       }},
      {"overrides[1].date",
       [](auto& oh) {
         for (int i = 0; i < 2; ++i) {
           auto* o = oh.add_overrides();
           o->set_date("2026-07-01");
           o->set_away(true);
         }
       }},
      {"overrides[0].extra",
       [](auto& oh) {
         auto* o = oh.add_overrides();
         o->set_date("2026-07-04");
         for (int i = 0; i < 9; ++i) {
           auto* x = o->add_extra();
           x->set_start_minute(i * 60);
           x->set_end_minute(i * 60 + 30);
         }
       }},
      {"overrides[0].extra[0]",
       [](auto& oh) {
         auto* o = oh.add_overrides();
         o->set_date("2026-07-01");  // a Wednesday: 14:00-16:00 already
         auto* x = o->add_extra();
         x->set_start_minute(15 * 60);
         x->set_end_minute(17 * 60);
       }},
      {"overrides[0]",
       [](auto& oh) {
         auto* o = oh.add_overrides();
         o->set_date("2026-07-01");
       }},
      {"where.detail",
       [](auto& oh) {
         oh.mutable_where()->set_kind(v1::WHERE_KIND_LINK);
         oh.mutable_where()->set_detail("ftp://example.org/room");
       }},
  };
  for (const auto& c : cases) {
    v1::OfficeHours oh = World::weekdays();
    c.spoil(oh);
    SCOPED_TRACE(c.field);
    expect_error(w.set(w.mentor, oh), v1::ERROR_CODE_INVALID_ARGUMENT, c.field);
  }
  // Nothing was published by any of them.
  expect_error(w.get(w.mentor), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  // Rules on different days may share times; an away day may hold windows a rule holds.
  v1::OfficeHours fine = World::weekdays();
  auto* away = fine.add_overrides();
  away->set_date("2026-07-01");
  away->set_away(true);
  auto* x = away->add_extra();
  x->set_start_minute(15 * 60);
  x->set_end_minute(17 * 60);
  auto r = w.set(w.mentor, fine);
  ASSERT_TRUE(r.has_set_office_hours()) << r.DebugString();
  EXPECT_EQ(r.set_office_hours().office_hours().mentor_id(), w.mentor.id());
  EXPECT_EQ(r.set_office_hours().office_hours().where().kind(), v1::WHERE_KIND_IN_APP_CALL);
}

TEST(OfficeHours, PublishingTellsTheMentorAndOnlyTheAudienceSeesThem) {
  World w;
  auto mentor_session = w.h.connect(w.mentor, 1);
  w.publish(World::weekdays());
  auto published = wait_for<v1::OfficeHoursChanged>(*mentor_session, 1, [](const v1::Event& e) {
    return e.has_office_hours() ? std::optional(e.office_hours()) : std::nullopt;
  });
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].office_hours().time_zone(), "Europe/Stockholm");

  EXPECT_TRUE(w.get(w.mentor).has_get_office_hours());
  auto seen = w.get(w.mentee);
  ASSERT_TRUE(seen.has_get_office_hours()) << seen.DebugString();
  EXPECT_EQ(seen.get_office_hours().office_hours().rules_size(), 5);
  expect_error(w.get(w.stranger), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  expect_error(w.get(w.other_mentor), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  expect_error(w.get(w.director), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  // Open to the whole program: every mentee, still no director.
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  EXPECT_TRUE(w.get(w.stranger).has_get_office_hours());
  expect_error(w.get(w.director), v1::ERROR_CODE_NOT_FOUND);
  // Disabled: hidden from mentees, still the mentor's own.
  auto off = World::weekdays(1, v1::AUDIENCE_PROGRAM);
  off.set_enabled(false);
  w.publish(off);
  expect_error(w.get(w.mentee), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_TRUE(w.get(w.mentor).has_get_office_hours());
}

TEST(OfficeHours, ListSlotsKeepsNoticeAndHorizon) {
  World w;
  w.publish(World::weekdays());
  // Today 14:00-16:00 CEST = 12:00-14:00 UTC, four slots; now is 08:00 UTC.
  auto today = w.list(w.mentee, kMondayMorning, kMondayMorning + kDay);
  ASSERT_TRUE(today.has_list_slots()) << today.DebugString();
  EXPECT_EQ(today.list_slots().time_zone(), "Europe/Stockholm");
  EXPECT_EQ(slot_starts(today), (std::vector<int64_t>{utc(2026, 6, 1, 12), utc(2026, 6, 1, 12, 30),
                                                      utc(2026, 6, 1, 13), utc(2026, 6, 1, 13, 30)}));
  EXPECT_EQ(today.list_slots().slots(0).end_ms(), utc(2026, 6, 1, 12, 30));
  EXPECT_EQ(today.list_slots().slots(0).seats_left(), 1u);
  // 12:20 UTC: the 12:30 and 13:00 slots are within the hour's notice.
  w.h.clock().set_ms(utc(2026, 6, 1, 12, 20));
  EXPECT_EQ(slot_starts(w.list(w.mentee, kMondayMorning, kMondayMorning + kDay)),
            (std::vector<int64_t>{utc(2026, 6, 1, 13, 30)}));
  // Four weeks asked for, two weeks (the horizon, to 12:20 UTC on Monday 06-15) given: today's
  // 13:30, nine full weekdays of 4 slots, and the 15th's 12:00.
  auto month = w.list(w.mentee, kMondayMorning, kMondayMorning + 28 * kDay);
  ASSERT_TRUE(month.has_list_slots());
  EXPECT_EQ(month.list_slots().slots_size(), 1 + 9 * 4 + 1);
  EXPECT_EQ(month.list_slots().slots(month.list_slots().slots_size() - 1).start_ms(), utc(2026, 6, 15, 12));
  expect_error(w.list(w.mentee, kMondayMorning, kMondayMorning + 43 * kDay), v1::ERROR_CODE_INVALID_ARGUMENT,
               "to_ms");
  expect_error(w.list(w.mentee, kMondayMorning, kMondayMorning), v1::ERROR_CODE_INVALID_ARGUMENT, "to_ms");
  expect_error(w.list(w.stranger, kMondayMorning, kMondayMorning + kDay), v1::ERROR_CODE_NOT_FOUND,
               "mentor_id");
}

TEST(OfficeHours, ABookingIsAnAcceptedMeetingBothSeeAndItTakesASeat) {
  World w;
  w.publish(World::weekdays(2, v1::AUDIENCE_PROGRAM));
  auto mentor_session = w.h.connect(w.mentor, 1);
  auto mentee_session = w.h.connect(w.mentee, 2);
  const int64_t start = utc(2026, 6, 2, 12);  // Tuesday 14:00 in Stockholm
  auto before = w.list(w.mentee, start, start + kDay);
  ASSERT_NE(slot_at(before, start), nullptr);
  EXPECT_EQ(slot_at(before, start)->seats_left(), 2u);

  auto booked = w.book(w.mentee, start, "Residency applications");
  ASSERT_TRUE(booked.has_book_slot()) << booked.DebugString();
  const v1::Meeting& m = booked.book_slot().meeting();
  EXPECT_EQ(m.state(), v1::MEETING_STATE_ACCEPTED);
  EXPECT_TRUE(m.office_hours());
  EXPECT_EQ(m.seats(), 2u);
  EXPECT_EQ(m.mentor_id(), w.mentor.id());
  EXPECT_EQ(m.mentee_id(), w.mentee.id());
  EXPECT_EQ(m.mentorship_id(), w.mentorship_id);  // they have an active mentorship
  EXPECT_EQ(m.start_ms(), start);
  EXPECT_EQ(m.duration_minutes(), 30u);
  EXPECT_EQ(m.time_zone(), "Europe/Stockholm");
  EXPECT_EQ(m.agenda(), "Residency applications");
  EXPECT_EQ(m.where().kind(), v1::WHERE_KIND_IN_APP_CALL);
  for (auto* session : {mentor_session.get(), mentee_session.get()}) {
    auto changed = wait_for<v1::MeetingChanged>(*session, 1, [](const v1::Event& e) {
      return e.has_meeting_changed() ? std::optional(e.meeting_changed()) : std::nullopt;
    });
    ASSERT_EQ(changed.size(), 1u);
    EXPECT_EQ(changed[0].change(), v1::MEETING_CHANGE_BOOKED);
    EXPECT_EQ(changed[0].meeting().id(), m.id());
    EXPECT_EQ(changed[0].actor_id(), w.mentee.id());
  }
  EXPECT_EQ(slot_at(w.list(w.stranger, start, start + kDay), start)->seats_left(), 1u);

  // A stranger (no mentorship: mentorship_id 0) takes the last seat; the slot leaves the list.
  auto second = w.book(w.stranger, start, "");
  ASSERT_TRUE(second.has_book_slot()) << second.DebugString();
  EXPECT_EQ(second.book_slot().meeting().mentorship_id(), 0u);
  auto after = w.list(w.mentee, start, start + kDay);
  EXPECT_EQ(slot_at(after, start), nullptr);
  EXPECT_NE(slot_at(after, start + 30 * kMin), nullptr);
  expect_error(w.book(w.h.add_user("mentee.third", v1::ROLE_MENTEE), start),
               v1::ERROR_CODE_FAILED_PRECONDITION);

  // The booking is on the mentee's calendar: a meeting overlapping it does not fit.
  std::promise<Status> clash;
  w.h.committer().submit(
      [&](storage::CommitContext& ctx) {
        return check_free(ctx, w.mentee.id(), start + 15 * kMin, start + 45 * kMin, 0, "You");
      },
      [&](const Status& st) { clash.set_value(st); });
  EXPECT_EQ(clash.get_future().get().code(), v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST(OfficeHours, TheMentorsOtherMeetingsHideTheSlotsTheyOverlap) {
  World w;
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  // An accepted meeting of the mentor 12:40-13:10 UTC Tuesday, as the meetings service stores it.
  std::promise<Status> stored;
  w.h.committer().submit(
      [&](storage::CommitContext& ctx) {
        v1::MeetingRecord rec;
        auto* m = rec.mutable_meeting();
        m->set_id(ctx.next_id("meeting"));
        m->set_mentorship_id(w.mentorship_id);
        m->set_mentor_id(w.mentor.id());
        m->set_mentee_id(w.mentee.id());
        m->set_state(v1::MEETING_STATE_ACCEPTED);
        m->set_start_ms(utc(2026, 6, 2, 12, 40));
        m->set_duration_minutes(30);
        return store_meeting(ctx, nullptr, rec);
      },
      [&](const Status& st) { stored.set_value(st); });
  ASSERT_TRUE(stored.get_future().get().is_ok());
  EXPECT_EQ(slot_starts(w.list(w.stranger, utc(2026, 6, 2), utc(2026, 6, 3))),
            (std::vector<int64_t>{utc(2026, 6, 2, 12), utc(2026, 6, 2, 13, 30)}));
  // Booking one of the hidden slots is refused too.
  expect_error(w.book(w.stranger, utc(2026, 6, 2, 12, 30)), v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST(OfficeHours, ManyMenteesBookingTheLastSeatsAtOnceNeverOverbook) {
  World w;
  constexpr uint32_t kSeats = 3;
  constexpr int kMentees = 16;
  w.publish(World::weekdays(kSeats, v1::AUDIENCE_PROGRAM));
  const int64_t start = utc(2026, 6, 3, 13);
  std::vector<v1::User> mentees;
  for (int i = 0; i < kMentees; ++i)
    mentees.push_back(w.h.add_user("mentee.n" + std::to_string(i), v1::ROLE_MENTEE));

  std::mutex mu;
  std::condition_variable cv;
  std::vector<v1::Response> answers;
  for (int i = 0; i < kMentees; ++i) {
    auto f = frame(&F::mutable_book_slot, w.book_req(start));
    f.set_request_id(1000 + i);
    auto now = w.h.router().dispatch(w.h.caller(mentees[i]), std::move(f), [&](api::Outcome later) {
      std::lock_guard lock(mu);
      answers.push_back(std::move(later.response));
      cv.notify_all();
    });
    if (now) {
      std::lock_guard lock(mu);
      answers.push_back(std::move(now->response));
    }
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, harness::kWait, [&] { return answers.size() == kMentees; }));
  }
  int booked = 0, full = 0;
  for (const auto& r : answers) {
    if (r.has_book_slot()) ++booked;
    if (r.has_error() && r.error().code() == v1::ERROR_CODE_FAILED_PRECONDITION) ++full;
  }
  EXPECT_EQ(booked, static_cast<int>(kSeats));
  EXPECT_EQ(full, kMentees - static_cast<int>(kSeats));
  EXPECT_EQ(slot_at(w.list(w.mentee, start, start + kHour), start), nullptr);
  auto count = w.h.store().get(
      storage::Cf::kSlotBookings,
      storage::keys::SlotBooking{.mentor_id = w.mentor.id(), .start_ms = uint64_t(start)}.encode());
  ASSERT_TRUE(count.is_ok() && count->has_value());
  EXPECT_EQ(storage::decode_u64(**count), uint64_t{kSeats});
}

TEST(OfficeHours, BookingChecksTheSlotNoticeHorizonAudienceAndDoubleBooking) {
  World w;
  w.publish(World::weekdays(2));
  const int64_t tuesday = utc(2026, 6, 2, 12);
  expect_error(w.book(w.mentee, tuesday + 10 * kMin), v1::ERROR_CODE_NOT_FOUND,
               "start_ms");  // not a slot start
  expect_error(w.book(w.mentee, utc(2026, 6, 6, 12)), v1::ERROR_CODE_NOT_FOUND, "start_ms");  // a Saturday
  expect_error(w.book(w.stranger, tuesday), v1::ERROR_CODE_NOT_FOUND, "mentor_id");  // not their mentor
  expect_error(w.book(w.mentee, utc(2026, 6, 22, 12)),
               v1::ERROR_CODE_FAILED_PRECONDITION);  // past the horizon
  w.h.clock().set_ms(tuesday - 30 * kMin);
  expect_error(w.book(w.mentee, tuesday), v1::ERROR_CODE_FAILED_PRECONDITION);  // inside the hour's notice
  w.h.clock().set_ms(tuesday + kMin);
  expect_error(w.book(w.mentee, tuesday), v1::ERROR_CODE_FAILED_PRECONDITION);  // started
  w.h.clock().set_ms(kMondayMorning);
  expect_error(w.book(w.mentee, tuesday, std::string(4001, 'a')), v1::ERROR_CODE_INVALID_ARGUMENT, "agenda");
  ASSERT_TRUE(w.book(w.mentee, tuesday).has_book_slot());
  expect_error(w.book(w.mentee, tuesday), v1::ERROR_CODE_ALREADY_EXISTS, "start_ms");
  // One seat is still free for someone else, and the mentee's own list still shows it.
  EXPECT_EQ(slot_at(w.list(w.mentee, tuesday, tuesday + kHour), tuesday)->seats_left(), 1u);
}

TEST(OfficeHours, NewHoursKeepTheBookingsMadeAndACancelledBookingGivesItsSeatBack) {
  World w;
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  const int64_t start = utc(2026, 6, 2, 12);
  auto booked = w.book(w.mentee, start);
  ASSERT_TRUE(booked.has_book_slot()) << booked.DebugString();
  const uint64_t id = booked.book_slot().meeting().id();
  // Mornings only now: the afternoon booking stays an accepted meeting.
  auto mornings = World::weekdays(1, v1::AUDIENCE_PROGRAM);
  for (auto& r : *mornings.mutable_rules()) {
    r.mutable_window()->set_start_minute(8 * 60);
    r.mutable_window()->set_end_minute(10 * 60);
  }
  w.publish(mornings);
  auto kept = load_meeting(w.h.store(), id);
  ASSERT_TRUE(kept.is_ok() && kept->has_value());
  EXPECT_EQ((*kept)->meeting().state(), v1::MEETING_STATE_ACCEPTED);
  expect_error(w.book(w.stranger, start), v1::ERROR_CODE_NOT_FOUND, "start_ms");  // no such slot any more
  // Back to afternoons: the slot is full until the booking is cancelled (as the meetings service
  // does it: the meeting leaves the calendars and release_slot_seat frees the seat).
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  EXPECT_EQ(slot_at(w.list(w.stranger, start, start + kHour), start), nullptr);
  std::promise<Status> cancelled;
  w.h.committer().submit(
      [&](storage::CommitContext& ctx) -> Status {
        auto rec = load_meeting(ctx, id);
        if (!rec.is_ok() || !rec->has_value()) return internal_error("no meeting");
        v1::MeetingRecord after = **rec;
        after.mutable_meeting()->set_state(v1::MEETING_STATE_CANCELLED);
        PRECEPTOR_RETURN_IF_ERROR(store_meeting(ctx, &**rec, after));
        return release_slot_seat(ctx, after.meeting());
      },
      [&](const Status& st) { cancelled.set_value(st); });
  ASSERT_TRUE(cancelled.get_future().get().is_ok());
  auto listed = w.list(w.stranger, start, start + kHour);
  ASSERT_NE(slot_at(listed, start), nullptr);
  EXPECT_EQ(slot_at(listed, start)->seats_left(), 1u);
  EXPECT_TRUE(w.book(w.stranger, start).has_book_slot());
}

TEST(OfficeHours, StrangersAndDirectorsAreRefusedEveryRequest) {
  World w;
  w.publish(World::weekdays());
  const int64_t start = utc(2026, 6, 2, 12);
  auto& h = w.h;
  for (const v1::User* who : {&w.director, &w.other_mentor}) {
    SCOPED_TRACE(who->username());
    expect_error(w.list(*who, start, start + kDay), v1::ERROR_CODE_NOT_FOUND);
    expect_error(w.book(*who, start), v1::ERROR_CODE_PERMISSION_DENIED);
    expect_error(w.join(*who), v1::ERROR_CODE_PERMISSION_DENIED);
    expect_error(w.leave(*who), v1::ERROR_CODE_PERMISSION_DENIED);
    expect_error(w.queue(*who), v1::ERROR_CODE_NOT_FOUND);
  }
  expect_error(w.set(w.director, World::weekdays()), v1::ERROR_CODE_PERMISSION_DENIED);
  expect_error(w.set(w.mentee, World::weekdays()), v1::ERROR_CODE_PERMISSION_DENIED);
  expect_error(h.call(h.caller(w.director), frame(&F::mutable_call_next)), v1::ERROR_CODE_PERMISSION_DENIED);
  expect_error(h.call(h.caller(w.mentee), frame(&F::mutable_call_next)), v1::ERROR_CODE_PERMISSION_DENIED);
  v1::SkipInQueue skip;
  skip.set_mentee_id(w.mentee.id());
  expect_error(h.call(h.caller(w.director), frame(&F::mutable_skip_in_queue, skip)),
               v1::ERROR_CODE_PERMISSION_DENIED);
  expect_error(h.call(h.caller(w.mentee), frame(&F::mutable_skip_in_queue, skip)),
               v1::ERROR_CODE_PERMISSION_DENIED);
  // A mentee outside the audience: as if there were no office hours.
  expect_error(w.list(w.stranger, start, start + kDay), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  expect_error(w.book(w.stranger, start), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  w.h.clock().set_ms(utc(2026, 6, 1, 12, 30));  // open now
  expect_error(w.join(w.stranger), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  expect_error(w.queue(w.stranger), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  expect_error(w.leave(w.stranger), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
}

TEST(OfficeHours, TheQueueKeepsPlacesAndTellsEveryoneWhoseEntryChanged) {
  World w;
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  v1::User a = w.mentee, b = w.stranger, c = w.h.add_user("mentee.c", v1::ROLE_MENTEE);
  // Monday 10:00 local: not open yet.
  expect_error(w.join(a), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_FALSE(w.queue(a).get_queue().open());
  w.h.clock().set_ms(utc(2026, 6, 1, 12, 5));  // 14:05 local
  auto mentor_session = w.h.connect(w.mentor, 1);
  auto a_session = w.h.connect(a, 2);
  auto b_session = w.h.connect(b, 3);
  auto c_session = w.h.connect(c, 4);

  for (const v1::User* m : {&a, &b, &c}) {
    auto r = w.join(*m);
    ASSERT_TRUE(r.has_join_queue()) << r.DebugString();
  }
  expect_error(w.join(b), v1::ERROR_CODE_ALREADY_EXISTS);
  auto b_view = w.queue(b);
  ASSERT_TRUE(b_view.has_get_queue()) << b_view.DebugString();
  EXPECT_TRUE(b_view.get_queue().open());
  ASSERT_EQ(b_view.get_queue().entries_size(), 1);
  EXPECT_EQ(b_view.get_queue().entries(0).place(), 2u);
  EXPECT_FALSE(b_view.get_queue().entries(0).has_mentee());
  auto line = w.queue(w.mentor);
  ASSERT_EQ(line.get_queue().entries_size(), 3);
  EXPECT_EQ(line.get_queue().entries(2).mentee_id(), c.id());
  EXPECT_EQ(line.get_queue().entries(2).mentee().username(), "mentee.c");
  auto to_mentor = wait_queue_events(*mentor_session, 3);
  ASSERT_EQ(to_mentor.size(), 3u);
  EXPECT_EQ(to_mentor[2].entries_size(), 3);
  EXPECT_EQ(to_mentor[2].mentee_id(), c.id());
  EXPECT_EQ(to_mentor[2].place(), 3u);
  auto to_c = wait_queue_events(*c_session, 1);
  ASSERT_EQ(to_c.size(), 1u);
  EXPECT_EQ(to_c[0].state(), v1::QUEUE_STATE_WAITING);
  EXPECT_EQ(to_c[0].place(), 3u);

  // a leaves: b and c move up and are told.
  ASSERT_TRUE(w.leave(a).has_leave_queue());
  expect_error(w.leave(a), v1::ERROR_CODE_NOT_FOUND, "mentor_id");
  auto to_a = wait_queue_events(*a_session, 2);
  ASSERT_EQ(to_a.size(), 2u);
  EXPECT_EQ(to_a[1].state(), v1::QUEUE_STATE_LEFT);
  to_c = wait_queue_events(*c_session, 2);
  ASSERT_EQ(to_c.size(), 2u);
  EXPECT_EQ(to_c[1].place(), 2u);
  EXPECT_EQ(wait_queue_events(*b_session, 2).back().place(), 1u);

  // The mentor calls the next: b, who is told; c is first now.
  auto called = w.call_next();
  ASSERT_TRUE(called.has_call_next()) << called.DebugString();
  EXPECT_EQ(called.call_next().called().mentee_id(), b.id());
  EXPECT_EQ(called.call_next().called().mentee().username(), b.username());
  auto to_b = wait_queue_events(*b_session, 3);
  ASSERT_EQ(to_b.size(), 3u);
  EXPECT_EQ(to_b[2].state(), v1::QUEUE_STATE_CALLED);
  EXPECT_EQ(wait_queue_events(*c_session, 3).back().place(), 1u);
  auto rec =
      w.h.store().get(storage::Cf::kQueues, storage::keys::MentorKey{.mentor_id = w.mentor.id()}.encode());
  ASSERT_TRUE(rec.is_ok() && rec->has_value());
  v1::QueueRecord q;
  ASSERT_TRUE(q.ParseFromString(**rec));
  EXPECT_EQ(q.called_mentee_id(), b.id());
  EXPECT_EQ(q.waiting_size(), 1);

  // Skipped: c is told, the line is empty, and calling again calls nobody.
  expect_error(w.skip(a.id()), v1::ERROR_CODE_NOT_FOUND, "mentee_id");
  ASSERT_TRUE(w.skip(c.id()).has_skip_in_queue());
  EXPECT_EQ(wait_queue_events(*c_session, 4).back().state(), v1::QUEUE_STATE_SKIPPED);
  auto nobody = w.call_next();
  ASSERT_TRUE(nobody.has_call_next());
  EXPECT_FALSE(nobody.call_next().has_called());
  auto last = wait_queue_events(*mentor_session, 6);
  ASSERT_EQ(last.size(), 6u);
  EXPECT_EQ(last.back().state(), v1::QUEUE_STATE_SKIPPED);
  EXPECT_EQ(last.back().entries_size(), 0);
}

TEST(OfficeHours, TheLineClosesWithTheWindow) {
  World w;
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  w.h.clock().set_ms(utc(2026, 6, 1, 13, 50));  // 15:50 local, ten minutes left
  auto mentee_session = w.h.connect(w.mentee, 2);
  ASSERT_TRUE(w.join(w.mentee).has_join_queue());
  w.h.run_timed_work();  // still open: nothing happens
  EXPECT_EQ(queue_events(mentee_session->events()).size(), 1u);
  w.h.clock().set_ms(utc(2026, 6, 1, 14, 1));  // 16:01 local
  EXPECT_FALSE(w.queue(w.mentor).get_queue().open());
  EXPECT_EQ(w.queue(w.mentor).get_queue().entries_size(), 0);
  w.h.run_timed_work();
  auto events = wait_queue_events(*mentee_session, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].state(), v1::QUEUE_STATE_CLOSED);
  expect_error(w.join(w.mentee), v1::ERROR_CODE_FAILED_PRECONDITION);
  // The next day's window starts with an empty line.
  w.h.clock().set_ms(utc(2026, 6, 2, 12, 1));
  EXPECT_TRUE(w.queue(w.mentee).get_queue().open());
  EXPECT_EQ(w.queue(w.mentee).get_queue().entries_size(), 0);
  auto again = w.join(w.mentee);
  ASSERT_TRUE(again.has_join_queue()) << again.DebugString();
  EXPECT_EQ(again.join_queue().entry().place(), 1u);
}

TEST(OfficeHours, HoursOpenPastMidnightKeepTheLineAcrossIt) {
  World w;
  auto late = hours_in("Europe/Stockholm",
                       {rule(v1::WEEKDAY_MONDAY, 20 * 60, 24 * 60), rule(v1::WEEKDAY_TUESDAY, 0, 2 * 60)});
  late.set_audience(v1::AUDIENCE_PROGRAM);
  w.publish(late);
  w.h.clock().set_ms(utc(2026, 6, 1, 21, 50));  // 23:50 local
  auto mentee_session = w.h.connect(w.mentee, 2);
  ASSERT_TRUE(w.join(w.mentee).has_join_queue());
  w.h.clock().set_ms(utc(2026, 6, 1, 22, 10));  // 00:10 local, Tuesday
  w.h.run_timed_work();
  EXPECT_EQ(queue_events(mentee_session->events()).size(), 1u);  // nothing closed
  auto waiting = w.queue(w.mentee);
  EXPECT_TRUE(waiting.get_queue().open());
  ASSERT_EQ(waiting.get_queue().entries_size(), 1);
  EXPECT_EQ(waiting.get_queue().entries(0).place(), 1u);
  // At 02:00 the stretch ends and so does the line.
  w.h.clock().set_ms(utc(2026, 6, 2, 0, 1));
  w.h.run_timed_work();
  auto events = wait_queue_events(*mentee_session, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].state(), v1::QUEUE_STATE_CLOSED);
}

TEST(OfficeHours, AStaleLineIsClosedByTheNextRequestToo) {
  World w;
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  w.h.clock().set_ms(utc(2026, 6, 1, 13, 50));
  auto mentee_session = w.h.connect(w.mentee, 2);
  ASSERT_TRUE(w.join(w.mentee).has_join_queue());
  // No timed work ran; the next day the mentor calls the next: nobody, and the mentee hears the line closed.
  w.h.clock().set_ms(utc(2026, 6, 2, 12, 1));
  auto called = w.call_next();
  ASSERT_TRUE(called.has_call_next());
  EXPECT_FALSE(called.call_next().has_called());
  EXPECT_EQ(wait_queue_events(*mentee_session, 2).back().state(), v1::QUEUE_STATE_CLOSED);
}

TEST(OfficeHours, AtMostFiftyWaitInOneLine) {
  World w;
  w.publish(World::weekdays(1, v1::AUDIENCE_PROGRAM));
  w.h.clock().set_ms(utc(2026, 6, 1, 12, 5));
  for (size_t i = 0; i < kMaxQueueWaiting; ++i) {
    auto r = w.join(w.h.add_user("mentee.q" + std::to_string(i), v1::ROLE_MENTEE));
    ASSERT_TRUE(r.has_join_queue()) << r.DebugString();
    EXPECT_EQ(r.join_queue().entry().place(), i + 1);
  }
  expect_error(w.join(w.mentee), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
}

}  // namespace
// The seats of a group slot share one entry in the mentor's calendar: the
// mentor stays busy then while any seat is booked, and is free once the
// last booking is cancelled.
TEST(OfficeHours, AGroupSlotKeepsTheMentorBusyUntilItsLastBookingIsCancelled) {
  World w;
  w.publish(World::weekdays(2, v1::AUDIENCE_PROGRAM));
  const int64_t start = utc(2026, 6, 2, 12);  // Tuesday 14:00 Stockholm
  auto mine = w.book(w.mentee, start);
  auto theirs = w.book(w.stranger, start);
  ASSERT_TRUE(mine.has_book_slot()) << mine.DebugString();
  ASSERT_TRUE(theirs.has_book_slot()) << theirs.DebugString();
  auto cancel = [&](const v1::User& who, const v1::Response& booked) {
    v1::CancelMeeting req;
    req.set_meeting_id(booked.book_slot().meeting().id());
    req.set_reason("Something came up");
    auto r = w.h.call(w.h.caller(who), frame(&F::mutable_cancel_meeting, req));
    ASSERT_TRUE(r.has_cancel_meeting()) << r.DebugString();
  };
  cancel(w.mentee, mine);
  // The mentee, free again, proposes that very half hour in the mentorship.
  v1::ProposeMeeting propose;
  propose.set_mentorship_id(w.mentorship_id);
  propose.set_start_ms(start);
  propose.set_duration_minutes(30);
  propose.set_time_zone("Europe/Stockholm");
  auto proposed = w.h.call(w.h.caller(w.mentee), frame(&F::mutable_propose_meeting, propose));
  ASSERT_TRUE(proposed.has_propose_meeting()) << proposed.DebugString();
  v1::AcceptMeeting accept;
  accept.set_meeting_id(proposed.propose_meeting().meeting().id());
  auto refused = w.h.call(w.h.caller(w.mentor), frame(&F::mutable_accept_meeting, accept));
  ASSERT_TRUE(refused.has_error()) << refused.DebugString();
  EXPECT_EQ(refused.error().code(), v1::ERROR_CODE_FAILED_PRECONDITION)
      << "the other seat still holds the mentor";
  cancel(w.stranger, theirs);
  auto accepted = w.h.call(w.h.caller(w.mentor), frame(&F::mutable_accept_meeting, accept));
  EXPECT_TRUE(accepted.has_accept_meeting()) << accepted.DebugString();
}

}  // namespace preceptor::services
