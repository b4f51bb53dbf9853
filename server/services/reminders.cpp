#include "server/services/reminders.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "server/services/meeting_book.h"
#include "server/services/record_io.h"
#include "server/services/time_zones.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

std::string preferences_key(uint64_t user_id) { return keys::UserPreferences{.user_id = user_id}.encode(); }

bool has_window(const v1::LocalWindow& w) { return w.start_minute() != w.end_minute(); }

// Handles one reminders_by_due entry, on the committer thread: see the rules
// in reminders.h.
Status deliver(storage::CommitContext& ctx, const keys::ReminderByDue& entry) {
  const std::string key = entry.encode();
  auto still = ctx.get(Cf::kRemindersByDue, key);
  if (!still) return still.status();
  if (!still->has_value()) return Status::ok();  // handled already (an earlier pass)
  auto drop_entry = [&] { ctx.del(Cf::kRemindersByDue, key); };

  auto loaded = load_meeting(ctx, entry.meeting_id);
  if (!loaded) return loaded.status();
  if (!loaded->has_value()) {
    drop_entry();
    return Status::ok();
  }
  v1::MeetingRecord rec = std::move(**loaded);
  const v1::Meeting& m = rec.meeting();
  int index = -1;
  for (int i = 0; i < rec.reminders_size(); ++i) {
    const v1::ScheduledReminder& r = rec.reminders(i);
    if (r.user_id() == entry.user_id && r.minutes_before() == entry.minutes_before &&
        static_cast<uint64_t>(r.due_ms()) == entry.due_ms) {
      index = i;
      break;
    }
  }
  // Cancelled, declined, marked, or moved since: nothing to remind of.
  if (m.state() != v1::MEETING_STATE_ACCEPTED || index < 0) {
    drop_entry();
    return Status::ok();
  }
  const std::string meeting_key = keys::Meeting{.meeting_id = m.id()}.encode();
  // Removes the reminder from the record and the index. The meeting itself
  // (and its revision) does not change.
  auto forget = [&] {
    drop_entry();
    rec.mutable_reminders()->DeleteSubrange(index, 1);
    save(ctx, Cf::kMeetings, meeting_key, rec);
  };
  const int64_t now = ctx.now_ms();
  if (now >= m.start_ms()) {  // never a reminder after the start
    forget();
    return Status::ok();
  }
  auto prefs = load_preferences(ctx, entry.user_id);
  if (!prefs) return prefs.status();
  const v1::MeetingPreferences effective = effective_preferences(*prefs);
  if (effective.no_reminders()) {  // turned off since the meeting was accepted
    forget();
    return Status::ok();
  }
  if (auto quiet_end = quiet_hours_end(effective.quiet_hours(), now);
      quiet_end && *quiet_end < m.start_ms()) {
    // Held until the quiet hours end; the meeting starts after them (one
    // starting right as they end is reminded of now: held, it would start first).
    drop_entry();
    v1::ScheduledReminder* r = rec.mutable_reminders(index);
    r->set_due_ms(*quiet_end);
    ctx.put(Cf::kRemindersByDue,
            keys::ReminderByDue{.due_ms = static_cast<uint64_t>(*quiet_end),
                                .meeting_id = m.id(),
                                .user_id = entry.user_id,
                                .minutes_before = entry.minutes_before}
                .encode(),
            "");
    save(ctx, Cf::kMeetings, meeting_key, rec);
    return Status::ok();
  }
  const int64_t original_due = m.start_ms() - static_cast<int64_t>(entry.minutes_before) * kMinuteMs;
  const int64_t send_at = static_cast<int64_t>(entry.due_ms);
  v1::Event e;
  auto* reminder = e.mutable_meeting_reminder();
  *reminder->mutable_meeting() = m;
  reminder->set_minutes_before(static_cast<uint32_t>(entry.minutes_before));
  reminder->set_due_ms(original_due);
  reminder->set_late(now - send_at > kLateAfterMs);
  reminder->set_held_for_quiet_hours(send_at != original_due);
  ctx.append_event(std::move(e), {entry.user_id});
  forget();
  return Status::ok();
}

}  // namespace

Status check_meeting_preferences(const v1::MeetingPreferences& p) {
  const std::string field = "preferences.reminder_minutes";
  if (p.no_reminders() && p.reminder_minutes_size() > 0) {
    return invalid_argument("Choose either reminder times or no reminders, not both.", field);
  }
  if (static_cast<size_t>(p.reminder_minutes_size()) > kMaxReminderTimes) {
    return invalid_argument("At most " + std::to_string(kMaxReminderTimes) + " reminders before a meeting.",
                            field);
  }
  for (int i = 0; i < p.reminder_minutes_size(); ++i) {
    const uint32_t minutes = p.reminder_minutes(i);
    if (minutes < 1 || minutes > kMaxReminderMinutes) {
      return invalid_argument("A reminder comes from 1 minute to 7 days (10080 minutes) before a meeting; " +
                                  std::to_string(minutes) + " is outside that.",
                              field);
    }
    for (int j = 0; j < i; ++j) {
      if (p.reminder_minutes(j) == minutes) {
        return invalid_argument(
            "The reminder " + std::to_string(minutes) + " minutes before is listed twice.", field);
      }
    }
  }
  const v1::QuietHours& q = p.quiet_hours();
  if (q.window().start_minute() > kMinutesPerDay || q.window().end_minute() > kMinutesPerDay) {
    return invalid_argument(
        "Quiet hours are given in minutes after local midnight, from 0 to 1440 (e.g. 1320 for 22:00).",
        "preferences.quiet_hours.window");
  }
  const std::string tz_field = "preferences.quiet_hours.time_zone";
  if (has_window(q.window()) && q.time_zone().empty()) {
    return invalid_argument("Quiet hours need the time zone they are in (e.g. Europe/Stockholm).", tz_field);
  }
  if (!q.time_zone().empty()) {
    if (Status tz = check_time_zone(q.time_zone()); !tz) return invalid_argument(tz.message(), tz_field);
  }
  return Status::ok();
}

std::optional<int64_t> quiet_hours_end(const v1::QuietHours& q, int64_t at_ms) {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  const uint32_t start = q.window().start_minute();
  const uint32_t end = q.window().end_minute();
  if (start == end || start > kMinutesPerDay || end > kMinutesPerDay || q.time_zone().empty()) return {};
  try {
    const date::time_zone* zone = date::locate_zone(q.time_zone());
    const auto local = zone->to_local(date::sys_time<milliseconds>(milliseconds(at_ms)));
    const auto day = date::floor<date::days>(local);
    const auto minute = static_cast<uint32_t>(date::floor<minutes>(local - day).count());
    const bool inside = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
    if (!inside) return {};
    // Wrapping midnight and in the evening part: they end tomorrow.
    const date::local_days end_day = (start > end && minute >= start) ? day + date::days(1) : day;
    const auto end_local = date::local_time<minutes>(end_day) + minutes(end);
    // A wall-clock end skipped by a DST change: the moment of the change.
    const auto end_sys = zone->to_sys(end_local, date::choose::earliest);
    return std::chrono::duration_cast<milliseconds>(end_sys.time_since_epoch()).count();
  } catch (const std::exception&) {
    return {};  // a zone tzdata no longer knows: no quiet hours rather than none sent
  }
}

void Reminders::set_preferences(const v1::User& actor, const v1::SetMeetingPreferences& req,
                                std::function<void(Result<v1::MeetingPreferences>)> done) {
  if (Status st = check_meeting_preferences(req.preferences()); !st) return done(st);
  v1::MeetingPreferences wanted = req.preferences();
  if (!has_window(wanted.quiet_hours().window())) wanted.clear_quiet_hours();
  const uint64_t user_id = actor.id();
  commit_with_result<v1::MeetingPreferences>(
      committer_,
      [user_id, wanted](storage::CommitContext& ctx, v1::MeetingPreferences& out) -> Status {
        auto loaded = load_preferences(ctx, user_id);
        if (!loaded) return loaded.status();
        v1::UserPreferencesRecord rec = loaded->value_or(v1::UserPreferencesRecord());
        *rec.mutable_preferences() = wanted;  // calendar_feed_hash stays
        rec.set_set(true);
        save(ctx, Cf::kUserPreferences, preferences_key(user_id), rec);
        out = effective_preferences(rec);
        v1::Event e;
        *e.mutable_meeting_preferences()->mutable_preferences() = out;
        ctx.append_event(std::move(e), {user_id});
        return Status::ok();
      },
      std::move(done));
}

Result<v1::MeetingPreferences> Reminders::get_preferences(const v1::User& actor) const {
  auto loaded = load_preferences(store_, actor.id());
  if (!loaded) return loaded.status();
  return effective_preferences(*loaded);
}

size_t Reminders::run_timed_work() {
  const int64_t now = std::max<int64_t>(0, clock_.now_ms());
  std::vector<keys::ReminderByDue> due;
  const std::string end =
      keys::ReminderByDue{
          .due_ms = static_cast<uint64_t>(now) + 1, .meeting_id = 0, .user_id = 0, .minutes_before = 0}
          .encode();
  auto scanned = store_.scan(Cf::kRemindersByDue, {.end = end},
                             [&](std::string_view key, std::string_view) {
                               if (auto entry = keys::ReminderByDue::decode(key)) due.push_back(*entry);
                               return true;
                             },
                             {.max_entries = kMaxRemindersPerPass});
  if (!scanned) return 0;  // logged by the store; the next pass tries again
  // At most kMaxRemindersInFlight wait in the committer at once (BoundedSubmitter).
  BoundedSubmitter submitter(committer_, kMaxRemindersInFlight);
  for (const keys::ReminderByDue& entry : due) {
    submitter.submit([entry](storage::CommitContext& ctx) { return deliver(ctx, entry); });
  }
  submitter.wait_all();
  return due.size();
}

}  // namespace preceptor::services
