#include "server/services/meeting_book.h"

#include <algorithm>

#include "server/services/membership.h"
#include "server/services/record_io.h"
#include "server/services/text_checks.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

std::string meeting_key(uint64_t id) { return keys::Meeting{.meeting_id = id}.encode(); }

std::string user_meeting_key(uint64_t user, const v1::Meeting& m) {
  return keys::UserMeeting{
      .user_id = user, .start_ms = static_cast<uint64_t>(m.start_ms()), .meeting_id = m.id()}
      .encode();
}

bool is_open(const v1::Meeting& m) { return m.state() == v1::MEETING_STATE_ACCEPTED; }

// The reminders `m` should have waiting at `now_ms`: for each member, each
// of their reminder times still ahead.
Result<std::vector<v1::ScheduledReminder>> reminders_for(storage::CommitContext& ctx, const v1::Meeting& m) {
  std::vector<v1::ScheduledReminder> out;
  if (!is_open(m)) return out;
  for (uint64_t user : {m.mentor_id(), m.mentee_id()}) {
    auto prefs = load_preferences(ctx, user);
    if (!prefs) return prefs.status();
    const v1::MeetingPreferences effective = effective_preferences(*prefs);
    for (uint32_t minutes : effective.reminder_minutes()) {
      const int64_t due = m.start_ms() - static_cast<int64_t>(minutes) * kMinuteMs;
      if (due <= ctx.now_ms()) continue;  // already past when accepted: not sent
      v1::ScheduledReminder r;
      r.set_user_id(user);
      r.set_minutes_before(minutes);
      r.set_due_ms(due);
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::string reminder_key(uint64_t meeting_id, const v1::ScheduledReminder& r) {
  return keys::ReminderByDue{.due_ms = static_cast<uint64_t>(r.due_ms()),
                             .meeting_id = meeting_id,
                             .user_id = r.user_id(),
                             .minutes_before = r.minutes_before()}
      .encode();
}

Status update_counts(storage::CommitContext& ctx, const v1::Meeting* before, const v1::Meeting& after) {
  if (after.mentorship_id() == 0) return Status::ok();
  const bool was_open = before && is_open(*before);
  const bool now_open = is_open(after);
  const bool became_held =
      after.state() == v1::MEETING_STATE_HELD && (!before || before->state() != v1::MEETING_STATE_HELD);
  const bool became_no_show =
      after.state() == v1::MEETING_STATE_NO_SHOW && (!before || before->state() != v1::MEETING_STATE_NO_SHOW);
  const bool start_moved = was_open && now_open && before->start_ms() != after.start_ms();
  if (!was_open && !now_open && !became_held && !became_no_show) return Status::ok();
  if (was_open && now_open && !start_moved) return Status::ok();
  const std::string key = keys::MeetingCounts{.mentorship_id = after.mentorship_id()}.encode();
  auto rec = load<v1::MeetingCountsRecord>(ctx, Cf::kMeetingCounts, key);
  if (!rec) return rec.status();
  v1::MeetingCountsRecord counts = rec->value_or(v1::MeetingCountsRecord());
  // Rebuild the open list without this meeting, then add it back if open.
  v1::MeetingCountsRecord next;
  next.set_held(counts.held() + (became_held ? 1 : 0));
  next.set_no_shows(counts.no_shows() + (became_no_show ? 1 : 0));
  for (int i = 0; i < counts.open_ids_size() && i < counts.open_starts_size(); ++i) {
    if (counts.open_ids(i) == after.id()) continue;
    next.add_open_ids(counts.open_ids(i));
    next.add_open_starts(counts.open_starts(i));
  }
  if (now_open) {
    if (static_cast<size_t>(next.open_ids_size()) >= kMaxOpenMeetingsPerPair) {
      return resource_exhausted("This mentorship already has " + std::to_string(kMaxOpenMeetingsPerPair) +
                                    " accepted meetings ahead; mark or cancel some before accepting more.",
                                0);
    }
    next.add_open_ids(after.id());
    next.add_open_starts(after.start_ms());
  }
  save(ctx, Cf::kMeetingCounts, key, next);
  return Status::ok();
}

// The user_busy entry `m` takes for `user`: its own (meeting id in the key,
// value the end), except a mentor's office-hours booking, which shares the
// slot's entry with the other seats of that slot (meeting id 0 in the key;
// value the end and then how many bookings hold it).
bool shares_slot_entry(uint64_t user, const v1::Meeting& m) {
  return m.office_hours() && user == m.mentor_id();
}

std::string busy_key(uint64_t user, const v1::Meeting& m) {
  return keys::UserMeeting{.user_id = user,
                           .start_ms = static_cast<uint64_t>(m.start_ms()),
                           .meeting_id = shares_slot_entry(user, m) ? 0 : m.id()}
      .encode();
}

Status busy_enter(storage::CommitContext& ctx, uint64_t user, const v1::Meeting& m) {
  const std::string key = busy_key(user, m);
  const std::string end = storage::encode_u64(static_cast<uint64_t>(meeting_end_ms(m)));
  if (!shares_slot_entry(user, m)) {
    ctx.put(Cf::kUserBusy, key, end);
    return Status::ok();
  }
  auto raw = ctx.get(Cf::kUserBusy, key);
  if (!raw) return raw.status();
  const uint64_t holders = raw->has_value() ? storage::decode_u64(**raw, 8).value_or(0) : 0;
  ctx.put(Cf::kUserBusy, key, end + storage::encode_u64(holders + 1));
  return Status::ok();
}

Status busy_leave(storage::CommitContext& ctx, uint64_t user, const v1::Meeting& m) {
  const std::string key = busy_key(user, m);
  if (!shares_slot_entry(user, m)) {
    ctx.del(Cf::kUserBusy, key);
    return Status::ok();
  }
  auto raw = ctx.get(Cf::kUserBusy, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return Status::ok();
  const uint64_t holders = storage::decode_u64(**raw, 8).value_or(0);
  if (holders <= 1) {
    ctx.del(Cf::kUserBusy, key);
  } else {
    ctx.put(Cf::kUserBusy, key, (**raw).substr(0, 8) + storage::encode_u64(holders - 1));
  }
  return Status::ok();
}

}  // namespace

Result<std::optional<v1::MeetingRecord>> load_meeting(storage::CommitContext& ctx, uint64_t id) {
  return load<v1::MeetingRecord>(ctx, Cf::kMeetings, meeting_key(id));
}

Result<std::optional<v1::MeetingRecord>> load_meeting(const storage::Store& store, uint64_t id) {
  return load<v1::MeetingRecord>(store, Cf::kMeetings, meeting_key(id));
}

Result<v1::MeetingRecord> load_meeting_for_member(storage::CommitContext& ctx, const v1::User& actor,
                                                  uint64_t id) {
  if (oversees_program(actor)) {
    return permission_denied(
        "Program directors see how many meetings a pair holds, never the meetings themselves; only "
        "the mentor and the mentee can act on one.");
  }
  auto rec = load_meeting(ctx, id);
  if (!rec) return rec.status();
  if (rec->has_value() &&
      ((*rec)->meeting().mentor_id() == actor.id() || (*rec)->meeting().mentee_id() == actor.id())) {
    return std::move(**rec);
  }
  return not_found("No meeting " + std::to_string(id) + " among yours.", "meeting_id");
}

Status check_free(storage::CommitContext& ctx, uint64_t user_id, int64_t start_ms, int64_t end_ms,
                  uint64_t ignore_meeting_id, const std::string& who, std::optional<int64_t> slot_start_ms) {
  const uint64_t from = static_cast<uint64_t>(std::max<int64_t>(0, start_ms - kMaxMeetingMs));
  const std::string begin = keys::UserMeeting{.user_id = user_id, .start_ms = from, .meeting_id = 0}.encode();
  const std::string end =
      keys::UserMeeting{.user_id = user_id, .start_ms = static_cast<uint64_t>(end_ms), .meeting_id = 0}
          .encode();
  std::optional<uint64_t> clash;
  std::vector<uint64_t> same_slot;  // candidates that may be seats of the same group slot
  auto scanned =
      ctx.scan(Cf::kUserBusy, {.begin = begin, .end = end}, [&](std::string_view k, std::string_view v) {
        auto key = keys::UserMeeting::decode(k);
        auto busy_end = storage::decode_u64(v);
        if (!key || !busy_end) return true;  // damaged entries never block a booking
        if (ignore_meeting_id != 0 && key->meeting_id == ignore_meeting_id) return true;
        if (static_cast<int64_t>(*busy_end) <= start_ms) return true;  // ends before this starts
        if (slot_start_ms && static_cast<int64_t>(key->start_ms) == *slot_start_ms) {
          if (key->meeting_id == 0) return true;  // the slot's own bookings (a mentor's shared entry)
          same_slot.push_back(key->meeting_id);
          return true;
        }
        clash = key->meeting_id;
        return false;
      });
  if (!scanned) return scanned.status();
  for (uint64_t id : same_slot) {
    if (clash) break;
    auto rec = load_meeting(ctx, id);
    if (!rec) return rec.status();
    if (rec->has_value() && (*rec)->meeting().office_hours()) continue;
    clash = id;
  }
  if (!clash) return Status::ok();
  return failed_precondition(who + (who == "You" ? " have" : " has") +
                             " another meeting at that time; choose a time that does not overlap it.");
}

Status store_meeting(storage::CommitContext& ctx, const v1::MeetingRecord* before, v1::MeetingRecord& after) {
  const v1::Meeting& m = after.meeting();
  const v1::Meeting* old = before ? &before->meeting() : nullptr;
  PRECEPTOR_RETURN_IF_ERROR(update_counts(ctx, old, m));
  // user_meetings: every state, by start.
  if (!old || old->start_ms() != m.start_ms()) {
    for (uint64_t user : {m.mentor_id(), m.mentee_id()}) {
      if (old) ctx.del(Cf::kUserMeetings, user_meeting_key(user, *old));
      ctx.put(Cf::kUserMeetings, user_meeting_key(user, m), "");
    }
  }
  // user_busy: accepted meetings only. A mentor's office-hours bookings
  // share one entry per slot (see busy_key), so a group slot of 25 seats is
  // one entry for the mentor's double-booking check and ListSlots.
  const bool was_busy = old && is_open(*old);
  const bool now_busy = is_open(m);
  const bool moved =
      was_busy && now_busy && (old->start_ms() != m.start_ms() || meeting_end_ms(*old) != meeting_end_ms(m));
  if (was_busy && (!now_busy || moved)) {
    for (uint64_t user : {old->mentor_id(), old->mentee_id()})
      PRECEPTOR_RETURN_IF_ERROR(busy_leave(ctx, user, *old));
  }
  if (now_busy && (!was_busy || moved)) {
    for (uint64_t user : {m.mentor_id(), m.mentee_id()}) PRECEPTOR_RETURN_IF_ERROR(busy_enter(ctx, user, m));
  }
  // Reminders: rescheduled whenever the meeting is (re)accepted or moved;
  // untouched by notes and other changes that keep it accepted at the same time.
  const bool reschedule = !was_busy || !now_busy || old->start_ms() != m.start_ms();
  if (reschedule) {
    if (before) {
      for (const auto& r : before->reminders()) ctx.del(Cf::kRemindersByDue, reminder_key(m.id(), r));
    }
    auto wanted = reminders_for(ctx, m);
    if (!wanted) return wanted.status();
    after.clear_reminders();
    for (auto& r : *wanted) {
      ctx.put(Cf::kRemindersByDue, reminder_key(m.id(), r), "");
      *after.add_reminders() = std::move(r);
    }
  }
  save(ctx, Cf::kMeetings, meeting_key(m.id()), after);
  return Status::ok();
}

void emit_meeting_changed(storage::CommitContext& ctx, v1::MeetingChange change, const v1::Meeting& m,
                          uint64_t actor_id) {
  v1::Event e;
  auto* changed = e.mutable_meeting_changed();
  changed->set_change(change);
  *changed->mutable_meeting() = m;
  changed->set_actor_id(actor_id);
  ctx.append_event(std::move(e), {m.mentor_id(), m.mentee_id()});
}

v1::MeetingPreferences effective_preferences(const std::optional<v1::UserPreferencesRecord>& rec) {
  v1::MeetingPreferences p;
  if (rec && rec->set()) p = rec->preferences();
  if (p.reminder_minutes_size() == 0 && !p.no_reminders()) {
    for (uint32_t m : kDefaultReminderMinutes) p.add_reminder_minutes(m);
  }
  return p;
}

Result<std::optional<v1::UserPreferencesRecord>> load_preferences(storage::CommitContext& ctx,
                                                                  uint64_t user_id) {
  return load<v1::UserPreferencesRecord>(ctx, Cf::kUserPreferences,
                                         keys::UserPreferences{.user_id = user_id}.encode());
}

Result<std::optional<v1::UserPreferencesRecord>> load_preferences(const storage::Store& store,
                                                                  uint64_t user_id) {
  return load<v1::UserPreferencesRecord>(store, Cf::kUserPreferences,
                                         keys::UserPreferences{.user_id = user_id}.encode());
}

Status check_meeting_time(int64_t start_ms, uint32_t duration_minutes, int64_t now_ms,
                          const std::string& start_field) {
  if (start_ms <= now_ms) {
    return invalid_argument("The meeting's start is in the past; choose a time from now on.", start_field);
  }
  if (start_ms > now_ms + kMaxMeetingLeadMs) {
    return invalid_argument("A meeting can be planned at most 365 days ahead.", start_field);
  }
  if (duration_minutes < kMinMeetingMinutes || duration_minutes > kMaxMeetingMinutes) {
    return invalid_argument("A meeting lasts from 5 minutes to 8 hours (480 minutes); this one asks for " +
                                std::to_string(duration_minutes) + ".",
                            "duration_minutes");
  }
  return Status::ok();
}

Status check_where(const v1::Where& where, const std::string& field) {
  const std::string detail_field = field + ".detail";
  switch (where.kind()) {
    case v1::WHERE_KIND_UNSPECIFIED:
    case v1::WHERE_KIND_IN_APP_CALL:
      if (!where.detail().empty()) {
        return invalid_argument("An in-app call has no address; leave the detail empty.", detail_field);
      }
      return Status::ok();
    case v1::WHERE_KIND_PLACE:
    case v1::WHERE_KIND_PHONE:
    case v1::WHERE_KIND_LINK:
      break;
    default:
      return invalid_argument(
          "Unknown kind of place; use the in-app call, a place, a phone number or a link.", field + ".kind");
  }
  PRECEPTOR_RETURN_IF_ERROR(check_text(where.detail(), detail_field.c_str(), "place", true));
  if (where.detail().size() > kMaxWhereBytes) {
    return invalid_argument("The place may be at most 500 bytes.", detail_field);
  }
  if (where.kind() == v1::WHERE_KIND_LINK && where.detail().rfind("https://", 0) != 0 &&
      where.detail().rfind("http://", 0) != 0) {
    return invalid_argument("A meeting link starts with https:// (or http://).", detail_field);
  }
  return Status::ok();
}

}  // namespace preceptor::services
