#pragma once

// Meeting preferences (reminder times, quiet hours) and the delivery of the
// reminders that store_meeting() schedules in reminders_by_due.
//
// Delivery rules (the scheduler calls run_timed_work on its thread):
// - Only entries due by now are read, in due order, at most
//   kMaxRemindersPerPass a pass; entries not yet due are never read, and
//   meetings are never scanned.
// - Each entry is handled in one mutation that reads it again (a second
//   pass, or a restart, finds it gone: a reminder is sent exactly once) and
//   whose writes (the event, the entry's removal) are one write.
// - Not sent, and dropped: the meeting is gone, no longer accepted, moved
//   (the entry is not among the record's reminders), already started (a
//   reminder is never sent after the start), or the user has since turned
//   reminders off.
// - Held: due while the user is inside their quiet hours and the meeting
//   starts after those quiet hours end: the entry moves to their end and is
//   then sent with held_for_quiet_hours. A meeting that starts inside the
//   quiet hours is reminded of at once.
// - Late: sent more than kLateAfterMs after the time it was to be sent (the
//   server was down or behind).
// Internal to server/services.

#include <cstdint>
#include <functional>
#include <optional>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/meetings.pb.h"
#include "server/services/meeting_book.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

inline constexpr size_t kMaxReminderTimes = 4;
inline constexpr uint32_t kMaxReminderMinutes = 10080;  // a week
// Reminder entries handled in one pass at most; the rest wait for the next.
inline constexpr size_t kMaxRemindersPerPass = 10000;
// Reminder mutations of one pass waiting in the committer at once, at most.
inline constexpr size_t kMaxRemindersInFlight = 64;
// A reminder sent more than this after it was to be sent is marked late.
inline constexpr int64_t kLateAfterMs = 60'000;

// Checks preferences a user asks for: at most kMaxReminderTimes reminder
// times, each 1-kMaxReminderMinutes and none twice, none with no_reminders;
// a quiet-hours window of minutes 0-1440 (start == end: none) with a known
// time zone when it is set. INVALID_ARGUMENT naming the field otherwise.
Status check_meeting_preferences(const v1::MeetingPreferences& p);

// When `at_ms` falls inside the quiet hours `q` (local wall-clock minutes in
// q.time_zone, [start, end), wrapping midnight when start > end): the UTC
// time they end. nullopt outside them, for no window, or an unknown zone.
std::optional<int64_t> quiet_hours_end(const v1::QuietHours& q, int64_t at_ms);

// The reminders service. Thread-safe: requests from any thread, the timed
// work from the scheduler's.
class Reminders {
 public:
  Reminders(storage::Store& store, storage::Committer& committer, const Clock& clock)
      : store_(store), committer_(committer), clock_(clock) {}

  // Replaces the actor's meeting preferences (keeping their calendar feed)
  // and appends MeetingPreferencesChanged to them. `done` gets the
  // preferences now, defaults applied. Reminder times apply to meetings
  // accepted (or moved) from now on; quiet hours and no_reminders to every
  // reminder sent from now on.
  void set_preferences(const v1::User& actor, const v1::SetMeetingPreferences& req,
                       std::function<void(Result<v1::MeetingPreferences>)> done);
  Result<v1::MeetingPreferences> get_preferences(const v1::User& actor) const;

  // One pass over the reminders due by now; returns how many entries it
  // read (each handled once its mutation is committed, before this returns).
  size_t run_timed_work();

 private:
  storage::Store& store_;
  storage::Committer& committer_;
  const Clock& clock_;
};

}  // namespace preceptor::services
