#pragma once

// The meeting records and every index that follows them, shared by the
// services that make meetings (meetings in a mentorship, office-hours
// bookings) and those that read them (reminders, calendar feeds, calls).
// Internal to server/services.
//
// A meeting's indexes are written only through store_meeting(), in the
// mutation that changes the record, so they never disagree with it:
//   user_meetings    both members, every state, by start (lists, feeds)
//   user_busy        both members, accepted meetings only (double booking); a
//                    mentor's office-hours bookings share one entry per slot
//   reminders_by_due accepted meetings' reminders still ahead (scheduler)
//   meeting_counts   the mentorship's held, no-show and open counts (engagement)

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/meetings.pb.h"
#include "preceptor/v1/records.pb.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr uint32_t kMinutesPerDay = 1440;
inline constexpr uint32_t kMinMeetingMinutes = 5;
inline constexpr uint32_t kMaxMeetingMinutes = 480;
inline constexpr int64_t kMaxMeetingMs = kMaxMeetingMinutes * kMinuteMs;
// A meeting starts at most this far ahead.
inline constexpr int64_t kMaxMeetingLeadMs = 365LL * 24 * 3600 * 1000;
// Meetings start after 2000-01-01 (keys hold start times as unsigned numbers).
inline constexpr int64_t kEarliestMeetingMs = 946'684'800'000LL;
// Accepted meetings not yet held per mentorship, at most (meeting_counts).
inline constexpr size_t kMaxOpenMeetingsPerPair = 200;
inline constexpr size_t kMaxAgendaBytes = 4000;
inline constexpr size_t kMaxReasonBytes = 2000;
inline constexpr size_t kMaxNotesBytes = 16 * 1024;
inline constexpr size_t kMaxWhereBytes = 500;
// Reminders when the user has chosen none: a day and a quarter of an hour before.
inline constexpr uint32_t kDefaultReminderMinutes[] = {1440, 15};

inline int64_t meeting_end_ms(const v1::Meeting& m) {
  return m.start_ms() + static_cast<int64_t>(m.duration_minutes()) * kMinuteMs;
}

// The record of meeting `id`; nullopt when there is none.
Result<std::optional<v1::MeetingRecord>> load_meeting(storage::CommitContext& ctx, uint64_t id);
Result<std::optional<v1::MeetingRecord>> load_meeting(const storage::Store& store, uint64_t id);

// Meeting `id` for one of its two members. Someone else: NOT_FOUND ("No
// meeting N among yours.", field "meeting_id"), the same as an id that does
// not exist; a program director or admin: PERMISSION_DENIED.
Result<v1::MeetingRecord> load_meeting_for_member(storage::CommitContext& ctx, const v1::User& actor,
                                                  uint64_t id);

// OK when `user_id` has no accepted meeting overlapping [start_ms, end_ms)
// other than `ignore_meeting_id`. When `slot_start_ms` is set, the user's
// office-hours bookings that start exactly then (the other seats of the same
// group slot) do not count either. Otherwise FAILED_PRECONDITION naming the
// clash; `who` starts the sentence ("You", "Dr Lind").
Status check_free(storage::CommitContext& ctx, uint64_t user_id, int64_t start_ms, int64_t end_ms,
                  uint64_t ignore_meeting_id, const std::string& who,
                  std::optional<int64_t> slot_start_ms = std::nullopt);

// Writes `after` (its revision, updated_ms and changed_by set by the
// caller) and moves every index from `before` (nullptr: a new meeting) to
// match it: user_meetings, user_busy, the reminders (scheduled for both
// members from their preferences when `after` is accepted and ahead;
// after.reminders is rewritten) and meeting_counts. RESOURCE_EXHAUSTED when
// the pair would have more than kMaxOpenMeetingsPerPair open meetings.
Status store_meeting(storage::CommitContext& ctx, const v1::MeetingRecord* before, v1::MeetingRecord& after);

// Appends a MeetingChanged to both members.
void emit_meeting_changed(storage::CommitContext& ctx, v1::MeetingChange change, const v1::Meeting& m,
                          uint64_t actor_id);

// The user's meeting preferences, defaults applied; `rec` may be absent.
v1::MeetingPreferences effective_preferences(const std::optional<v1::UserPreferencesRecord>& rec);
Result<std::optional<v1::UserPreferencesRecord>> load_preferences(storage::CommitContext& ctx,
                                                                  uint64_t user_id);
Result<std::optional<v1::UserPreferencesRecord>> load_preferences(const storage::Store& store,
                                                                  uint64_t user_id);

// Checks a start time and duration a person asks for: after now, at most
// kMaxMeetingLeadMs ahead, duration kMinMeetingMinutes-kMaxMeetingMinutes.
// INVALID_ARGUMENT with a sentence on field `start_field` / "duration_minutes".
Status check_meeting_time(int64_t start_ms, uint32_t duration_minutes, int64_t now_ms,
                          const std::string& start_field = "start_ms");

// Checks `where`: a known kind; a detail up to kMaxWhereBytes, required
// for a place, phone or link, and an https:// (or http://) URL for a link.
Status check_where(const v1::Where& where, const std::string& field = "where");

}  // namespace preceptor::services
