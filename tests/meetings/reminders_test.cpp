// Meeting preferences and reminders: through the services harness on a
// manual clock (no sockets), and a restart against a real server.
#include "server/services/reminders.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>

#include "server/services/meeting_book.h"
#include "server/services/record_io.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"
#include "tests/meetings/reminders_fixtures.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::testing {
namespace {

using harness::FakeSession;
using harness::frame;
using harness::ServicesHarness;
using storage::Cf;

int64_t utc_ms(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  using namespace std::chrono;
  const auto t = date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + hours{h} + minutes{mi};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::vector<v1::MeetingReminder> reminders_in(const std::vector<v1::Event>& events) {
  std::vector<v1::MeetingReminder> out;
  for (const auto& e : events)
    if (e.has_meeting_reminder()) out.push_back(e.meeting_reminder());
  return out;
}

size_t count_entries(const storage::Store& store, Cf cf) {
  size_t n = 0;
  auto st = store.scan(cf, {}, [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  EXPECT_TRUE(st.is_ok());
  return n;
}

v1::MeetingPreferences prefs(std::vector<uint32_t> minutes, uint32_t quiet_start = 0, uint32_t quiet_end = 0,
                             const std::string& tz = "Europe/Stockholm") {
  v1::MeetingPreferences p;
  for (uint32_t m : minutes) p.add_reminder_minutes(m);
  if (quiet_start != quiet_end) {
    p.mutable_quiet_hours()->mutable_window()->set_start_minute(quiet_start);
    p.mutable_quiet_hours()->mutable_window()->set_end_minute(quiet_end);
    p.mutable_quiet_hours()->set_time_zone(tz);
  }
  return p;
}

class Reminders : public ::testing::Test {
 protected:
  Reminders() {
    h.clock().set_ms(utc_ms(2026, 12, 1, 9));
    mentor = h.add_user("dr.lind", v1::ROLE_MENTOR);
    mentee = h.add_user("wei.chen", v1::ROLE_MENTEE);
    mentor_live = h.connect(mentor, 1);
    mentee_live = h.connect(mentee, 2);
  }

  uint64_t meeting_at(int64_t start_ms) {
    return create_meeting(h.committer(),
                          {.mentor_id = mentor.id(), .mentee_id = mentee.id(), .start_ms = start_ms});
  }

  v1::Response set_prefs(const v1::User& who, const v1::MeetingPreferences& p) {
    v1::SetMeetingPreferences req;
    *req.mutable_preferences() = p;
    return h.call(h.caller(who), frame(&v1::ClientFrame::mutable_set_meeting_preferences, req));
  }

  // The reminders a member has had so far (run timed work first).
  std::vector<v1::MeetingReminder> mentee_reminders() { return reminders_in(mentee_live->events()); }
  std::vector<v1::MeetingReminder> mentor_reminders() { return reminders_in(mentor_live->events()); }

  void run_at(int64_t now_ms) {
    h.clock().set_ms(now_ms);
    h.run_timed_work();
  }

  ServicesHarness h;
  v1::User mentor;
  v1::User mentee;
  std::shared_ptr<FakeSession> mentor_live;
  std::shared_ptr<FakeSession> mentee_live;
};

TEST_F(Reminders, ADayAndAQuarterOfAnHourBeforeEachMemberGetsEachReminderOnce) {
  const int64_t start = utc_ms(2026, 12, 3, 15);
  const uint64_t id = meeting_at(start);
  ASSERT_NE(id, 0u);

  run_at(start - 1440 * kMinute - 1);
  EXPECT_TRUE(mentee_reminders().empty());
  EXPECT_TRUE(mentor_reminders().empty());

  run_at(start - 1440 * kMinute);
  h.run_timed_work();  // a second pass at the same time sends nothing more
  auto got = mentee_reminders();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].minutes_before(), 1440u);
  EXPECT_EQ(got[0].due_ms(), start - 1440 * kMinute);
  EXPECT_EQ(got[0].meeting().id(), id);
  EXPECT_EQ(got[0].meeting().start_ms(), start);
  EXPECT_FALSE(got[0].late());
  EXPECT_FALSE(got[0].held_for_quiet_hours());
  ASSERT_EQ(mentor_reminders().size(), 1u);
  EXPECT_EQ(mentor_reminders()[0].minutes_before(), 1440u);

  run_at(start - 15 * kMinute + 30'000);  // 30 s behind: not late
  run_at(start - 14 * kMinute);
  got = mentee_reminders();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].minutes_before(), 15u);
  EXPECT_FALSE(got[1].late());
  EXPECT_EQ(mentor_reminders().size(), 2u);

  // Nothing left waiting, and the meeting itself did not change.
  EXPECT_EQ(count_entries(h.store(), Cf::kRemindersByDue), 0u);
  auto rec = services::load_meeting(h.store(), id);
  ASSERT_TRUE(rec.is_ok() && rec->has_value());
  EXPECT_EQ((*rec)->reminders_size(), 0);
  EXPECT_EQ((*rec)->meeting().revision(), 2u);
}

TEST_F(Reminders, ADueTimeMissedWhileTheServerWasDownIsSentLate) {
  const int64_t start = utc_ms(2026, 12, 3, 15);
  meeting_at(start);
  run_at(start - 30 * kMinute);  // the clock jumped past the day-before reminder
  auto got = mentee_reminders();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].minutes_before(), 1440u);
  EXPECT_TRUE(got[0].late());
  EXPECT_EQ(got[0].due_ms(), start - 1440 * kMinute);

  run_at(start - 10 * kMinute);  // five minutes past the quarter-hour one
  got = mentee_reminders();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].minutes_before(), 15u);
  EXPECT_TRUE(got[1].late());
}

TEST_F(Reminders, NoReminderIsSentOnceTheMeetingHasStarted) {
  const int64_t start = utc_ms(2026, 12, 3, 15);
  const uint64_t id = meeting_at(start);
  EXPECT_EQ(count_entries(h.store(), Cf::kRemindersByDue), 4u);
  run_at(start + kMinute);
  EXPECT_TRUE(mentee_reminders().empty());
  EXPECT_TRUE(mentor_reminders().empty());
  EXPECT_EQ(count_entries(h.store(), Cf::kRemindersByDue), 0u);
  auto rec = services::load_meeting(h.store(), id);
  ASSERT_TRUE(rec.is_ok() && rec->has_value());
  EXPECT_EQ((*rec)->reminders_size(), 0);
}

TEST_F(Reminders, DueInQuietHoursIsHeldUntilTheyEnd) {
  // 22:00-07:00 in Stockholm (CET in December, UTC+1); a reminder 10 h
  // before a 14:00 meeting falls at 04:00.
  v1::Response r = set_prefs(mentee, prefs({600}, 22 * 60, 7 * 60));
  ASSERT_TRUE(r.has_set_meeting_preferences()) << r.DebugString();
  const int64_t start = utc_ms(2026, 12, 3, 13);  // 14:00 local
  meeting_at(start);

  run_at(utc_ms(2026, 12, 3, 3));  // 04:00 local: quiet
  EXPECT_TRUE(mentee_reminders().empty());
  run_at(utc_ms(2026, 12, 3, 5, 59));
  EXPECT_TRUE(mentee_reminders().empty());
  run_at(utc_ms(2026, 12, 3, 6));  // 07:00 local: the quiet hours end
  h.run_timed_work();
  auto got = mentee_reminders();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].minutes_before(), 600u);
  EXPECT_EQ(got[0].due_ms(), utc_ms(2026, 12, 3, 3));
  EXPECT_TRUE(got[0].held_for_quiet_hours());
  EXPECT_FALSE(got[0].late());
  // The mentor has no quiet hours: their day-before reminder went at its time.
  ASSERT_EQ(mentor_reminders().size(), 1u);
  EXPECT_FALSE(mentor_reminders()[0].held_for_quiet_hours());
}

TEST_F(Reminders, AMeetingThatStartsInsideQuietHoursIsRemindedOfAtOnce) {
  ASSERT_TRUE(set_prefs(mentee, prefs({60}, 22 * 60, 7 * 60)).has_set_meeting_preferences());
  const int64_t start = utc_ms(2026, 12, 3, 5, 30);  // 06:30 local, inside the quiet hours
  meeting_at(start);
  run_at(start - 60 * kMinute);  // 05:30 local
  auto got = mentee_reminders();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].held_for_quiet_hours());
  EXPECT_FALSE(got[0].late());
  // One starting right as the quiet hours end (07:00 local) too: held, it
  // would have started before the reminder.
  const int64_t at_seven = utc_ms(2026, 12, 4, 6);
  meeting_at(at_seven);
  run_at(at_seven - 60 * kMinute);
  got = mentee_reminders();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].meeting().start_ms(), at_seven);
  EXPECT_FALSE(got[1].held_for_quiet_hours());
}

TEST_F(Reminders, ACancelledMeetingIsNeverRemindedOf) {
  const int64_t start = utc_ms(2026, 12, 3, 15);
  // Cancelled as the meeting services do it: its reminders go with it.
  const uint64_t cancelled = meeting_at(start);
  ASSERT_TRUE(change_meeting(
                  h.committer(), cancelled, [](v1::Meeting& m) { m.set_state(v1::MEETING_STATE_CANCELLED); },
                  v1::MEETING_CHANGE_CANCELLED)
                  .is_ok());
  // And one whose reminders were left behind in the index: still not sent.
  const uint64_t stale = meeting_at(start + 2 * kHour);
  ASSERT_TRUE(commit_and_wait(h.committer(), [stale](storage::CommitContext& ctx) -> Status {
                auto rec = services::load_meeting(ctx, stale);
                if (!rec) return rec.status();
                v1::MeetingRecord r = **rec;
                r.mutable_meeting()->set_state(v1::MEETING_STATE_CANCELLED);
                services::save(ctx, Cf::kMeetings, storage::keys::Meeting{.meeting_id = stale}.encode(), r);
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(count_entries(h.store(), Cf::kRemindersByDue), 4u);  // the stale meeting's
  run_at(start - 10 * kMinute);
  run_at(start + 2 * kHour - 10 * kMinute);
  EXPECT_TRUE(mentee_reminders().empty());
  EXPECT_TRUE(mentor_reminders().empty());
  EXPECT_EQ(count_entries(h.store(), Cf::kRemindersByDue), 0u);
}

TEST_F(Reminders, AMovedMeetingIsRemindedOfAtItsNewTimeOnly) {
  const int64_t start = utc_ms(2026, 12, 3, 15);
  const uint64_t id = meeting_at(start);
  const int64_t later = start + 2 * kDay;
  ASSERT_TRUE(change_meeting(h.committer(), id, [later](v1::Meeting& m) { m.set_start_ms(later); }).is_ok());
  run_at(start - 10 * kMinute);
  EXPECT_TRUE(mentee_reminders().empty());
  run_at(later - 1440 * kMinute);
  auto got = mentee_reminders();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].meeting().start_ms(), later);
  EXPECT_EQ(got[0].meeting().revision(), 3u);
}

TEST_F(Reminders, TurningRemindersOffStopsThoseAlreadyScheduled) {
  const int64_t start = utc_ms(2026, 12, 3, 15);
  meeting_at(start);
  v1::MeetingPreferences off;
  off.set_no_reminders(true);
  ASSERT_TRUE(set_prefs(mentee, off).has_set_meeting_preferences());
  run_at(start - 10 * kMinute);
  EXPECT_TRUE(mentee_reminders().empty());
  EXPECT_EQ(mentor_reminders().size(), 2u);
}

TEST_F(Reminders, TenThousandRemindersNotYetDueAreNotRead) {
  // 10 000 entries due in half a year (for meetings that do not exist: any
  // entry read would be dropped), and one real meeting due now.
  const int64_t far = utc_ms(2027, 6, 1, 12);
  ASSERT_TRUE(commit_and_wait(h.committer(), [far](storage::CommitContext& ctx) -> Status {
                for (uint64_t i = 0; i < 10'000; ++i) {
                  ctx.put(Cf::kRemindersByDue,
                          storage::keys::ReminderByDue{.due_ms = static_cast<uint64_t>(far) + i,
                                                       .meeting_id = 1'000'000 + i,
                                                       .user_id = 7,
                                                       .minutes_before = 15}
                              .encode(),
                          "");
                }
                return Status::ok();
              }).is_ok());
  const int64_t start = utc_ms(2026, 12, 3, 15);
  meeting_at(start);
  services::Reminders reminders(h.store(), h.committer(), h.clock());

  h.clock().set_ms(start - 1440 * kMinute);
  EXPECT_EQ(reminders.run_timed_work(), 2u);  // the two due now, nothing else
  EXPECT_EQ(mentee_reminders().size(), 1u);
  EXPECT_EQ(mentor_reminders().size(), 1u);
  EXPECT_EQ(reminders.run_timed_work(), 0u);  // a pass with nothing due reads nothing
  EXPECT_EQ(count_entries(h.store(), Cf::kRemindersByDue), 10'000u + 2u);
}

TEST(QuietHours, EndInTheUsersZoneAcrossTheChangeFromSummerTime) {
  v1::QuietHours q;
  q.mutable_window()->set_start_minute(22 * 60);
  q.mutable_window()->set_end_minute(7 * 60);
  q.set_time_zone("Europe/Stockholm");
  // 23:00 CEST on Saturday 24 October 2026; the clocks go back that night,
  // so 07:00 on Sunday is CET: 06:00Z.
  EXPECT_EQ(services::quiet_hours_end(q, utc_ms(2026, 10, 24, 21)), utc_ms(2026, 10, 25, 6));
  EXPECT_EQ(services::quiet_hours_end(q, utc_ms(2026, 10, 25, 5, 59)), utc_ms(2026, 10, 25, 6));
  EXPECT_EQ(services::quiet_hours_end(q, utc_ms(2026, 10, 25, 6)), std::nullopt);
  EXPECT_EQ(services::quiet_hours_end(q, utc_ms(2026, 10, 24, 12)), std::nullopt);
  // A window inside one day: 12:00-13:00 local.
  q.mutable_window()->set_start_minute(12 * 60);
  q.mutable_window()->set_end_minute(13 * 60);
  EXPECT_EQ(services::quiet_hours_end(q, utc_ms(2026, 12, 1, 11, 30)), utc_ms(2026, 12, 1, 12));
  EXPECT_EQ(services::quiet_hours_end(q, utc_ms(2026, 12, 1, 12)), std::nullopt);
  // No window: never quiet.
  q.mutable_window()->set_end_minute(12 * 60);
  EXPECT_EQ(services::quiet_hours_end(q, utc_ms(2026, 12, 1, 11, 30)), std::nullopt);
}

TEST_F(Reminders, PreferencesAreCheckedStoredAndAnnounced) {
  auto get = [&] {
    return h.call(h.caller(mentee), frame(&v1::ClientFrame::mutable_get_meeting_preferences));
  };
  v1::Response before = get();
  ASSERT_TRUE(before.has_get_meeting_preferences()) << before.DebugString();
  EXPECT_EQ(std::vector<uint32_t>(before.get_meeting_preferences().preferences().reminder_minutes().begin(),
                                  before.get_meeting_preferences().preferences().reminder_minutes().end()),
            (std::vector<uint32_t>{1440, 15}));

  struct Bad {
    v1::MeetingPreferences p;
    std::string field;
  };
  v1::MeetingPreferences both = prefs({15});
  both.set_no_reminders(true);
  v1::MeetingPreferences window_too_long = prefs({15}, 0, 1441);
  v1::MeetingPreferences no_zone = prefs({15}, 60, 120);
  no_zone.mutable_quiet_hours()->clear_time_zone();
  const std::vector<Bad> bad = {
      {prefs({15, 30, 60, 120, 240}), "preferences.reminder_minutes"},
      {prefs({0}), "preferences.reminder_minutes"},
      {prefs({10081}), "preferences.reminder_minutes"},
      {prefs({15, 15}), "preferences.reminder_minutes"},
      {both, "preferences.reminder_minutes"},
      {window_too_long, "preferences.quiet_hours.window"},
      {no_zone, "preferences.quiet_hours.time_zone"},
      {prefs({15}, 60, 120, "Mars/Olympus_Mons"), "preferences.quiet_hours.time_zone"},
  };
  for (const Bad& b : bad) {
    v1::Response r = set_prefs(mentee, b.p);
    ASSERT_TRUE(r.has_error()) << b.p.DebugString();
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT) << b.p.DebugString();
    EXPECT_EQ(r.error().field(), b.field) << b.p.DebugString();
    EXPECT_FALSE(r.error().message().empty());
  }

  const v1::MeetingPreferences wanted = prefs({10080, 1}, 22 * 60, 7 * 60);
  v1::Response set = set_prefs(mentee, wanted);
  ASSERT_TRUE(set.has_set_meeting_preferences()) << set.DebugString();
  EXPECT_EQ(set.set_meeting_preferences().preferences().SerializeAsString(), wanted.SerializeAsString());
  v1::Response after = get();
  EXPECT_EQ(after.get_meeting_preferences().preferences().SerializeAsString(), wanted.SerializeAsString());
  // Announced to the user's devices, and to nobody else.
  auto events = mentee_live->wait_events(1);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events.back().has_meeting_preferences());
  EXPECT_EQ(events.back().meeting_preferences().preferences().SerializeAsString(),
            wanted.SerializeAsString());
  for (const auto& e : mentor_live->events()) EXPECT_FALSE(e.has_meeting_preferences());
  // The mentor's are still the defaults.
  v1::Response mentors = h.call(h.caller(mentor), frame(&v1::ClientFrame::mutable_get_meeting_preferences));
  EXPECT_EQ(mentors.get_meeting_preferences().preferences().reminder_minutes_size(), 2);

  // New reminder times apply to meetings accepted afterwards.
  const int64_t start = utc_ms(2026, 12, 20, 12);
  meeting_at(start);
  run_at(start - 10080 * kMinute);
  auto got = mentee_reminders();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].minutes_before(), 10080u);
}

TEST(RemindersRestart, AReminderDueWhileTheServerWasDownArrivesOnceAfterTheRestart) {
  TempDir dir;
  ManualClock clock(utc_ms(2026, 12, 1, 9));
  const int64_t start = utc_ms(2026, 12, 3, 15);
  uint64_t meeting_id = 0;
  {
    TestServer first(test_config(dir.data()), &clock);
    const v1::User mentor = first.add_user("dr.lind", v1::ROLE_MENTOR);
    const v1::User mentee = first.add_user("wei.chen", v1::ROLE_MENTEE);
    meeting_id = create_meeting(first.server().committer(),
                                {.mentor_id = mentor.id(), .mentee_id = mentee.id(), .start_ms = start});
    ASSERT_NE(meeting_id, 0u);
    first.server().run_scheduler_once();  // nothing due yet
    first.stop();
  }
  // Down across the day-before reminder's due time.
  clock.set_ms(start - 20 * kHour);
  TestServer second(test_config(dir.data()), &clock);
  second.server().run_scheduler_once();
  second.server().run_scheduler_once();

  TestClient client;
  ASSERT_EQ(client.connect(second.port()), "");
  ASSERT_TRUE(client.login("wei.chen", TestServer::password_of("wei.chen")).has_login());
  v1::ClientFrame sync;
  sync.set_request_id(client.next_request_id());
  sync.mutable_sync()->set_limit(1000);
  auto r = client.call(sync);
  ASSERT_TRUE(r && r->has_sync()) << (r ? r->DebugString() : "no answer");
  std::vector<v1::MeetingReminder> got;
  for (const auto& e : r->sync().events())
    if (e.has_meeting_reminder()) got.push_back(e.meeting_reminder());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].meeting().id(), meeting_id);
  EXPECT_EQ(got[0].minutes_before(), 1440u);
  EXPECT_TRUE(got[0].late());
}

}  // namespace
}  // namespace preceptor::testing
