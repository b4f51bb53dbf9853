#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace preceptor::storage {

// Every column family. What each one holds, and how it is tuned, is its row
// in kCfTable below. Append only: never reorder, renumber or reuse an id; a
// new kind of record gets a new id at the end and a new row at the end.
enum class Cf : uint8_t {
  kMeta = 0,
  kEvents = 1,
  kUserInbox = 2,
  kUsers = 3,
  kUsernames = 4,
  kTokens = 5,
  kUserTokens = 6,
  kMentorProfiles = 7,
  kMentorships = 8,
  kUserMentorships = 9,
  kOpenPairs = 10,
  kConversations = 11,
  kMessages = 12,
  kClientMessageIds = 13,
  kReadMarkers = 14,
  kUserUsage = 15,
  kUsersByRole = 16,
  kMentorshipsByDue = 17,
  kAudit = 18,
  kMeetings = 19,
  kUserMeetings = 20,
  kUserBusy = 21,
  kMeetingPrivateNotes = 22,
  kMeetingCounts = 23,
  kFitAnswers = 24,
  kOfficeHours = 25,
  kSlotBookings = 26,
  kQueues = 27,
  kUserPreferences = 28,
  kCalendarFeeds = 29,
  kRemindersByDue = 30,
  kGoals = 31,
  kMentorshipGoals = 32,
  kGoalHistory = 33,
  kReassessments = 34,
  kAssignments = 35,
  kMentorshipAssignments = 36,
  kAssignmentVersions = 37,
  kReviews = 38,
  kAssignmentReviews = 39,
  kDocuments = 40,
  kDocumentChunks = 41,
  kUserUploads = 42,
  kMentorshipWork = 43,
  kWorkDue = 44,
  kCount,
};

inline constexpr size_t kCfCount = static_cast<size_t>(Cf::kCount);

// How inserts into a family's memtable are hinted. Families whose keys
// arrive in order within a prefix (events by position; inboxes and messages
// by their leading id) insert with a per-prefix hint, which turns the
// skip-list search of each insert into a step from the previous one.
struct InsertHint {
  enum class Kind : uint8_t {
    kNone,
    kWholeFamily,   // one hint for the family: keys only grow
    kLeadingBytes,  // one hint per distinct first `leading_bytes` bytes
  };
  Kind kind = Kind::kNone;
  uint8_t leading_bytes = 0;  // kLeadingBytes only
};
inline constexpr InsertHint kNoHint{};
inline constexpr InsertHint kHintWholeFamily{InsertHint::Kind::kWholeFamily, 0};
constexpr InsertHint hint_leading_bytes(uint8_t n) { return {InsertHint::Kind::kLeadingBytes, n}; }

// Values of a family with `blob_values` go to blob files from this size up;
// smaller ones stay inline in the table files (default 4 KiB).
inline constexpr uint64_t kMinBlobBytes = 4 << 10;

// One row of kCfTable: everything the store and the committer need to know
// about a family. Store::open builds each family's RocksDB options from it.
struct CfSpec {
  Cf id;
  std::string_view name;  // the RocksDB family name, on disk: never change it
  // Mutations read its records back and rewrite them again and again
  // (counters, a conversation's last seq, read markers, mentorship state):
  // the committer keeps the latest value it wrote in memory, so the next
  // mutation reads it without a database lookup. Append-only families
  // (events, inboxes, messages, client ids) are not kept.
  bool kept_by_committer = false;
  InsertHint insert_hint = kNoHint;
  // A whole-key bloom filter in the memtable, for families whose point reads
  // nearly always miss: it answers those without searching the skip list.
  bool memtable_whole_key_bloom = false;
  // Values of kMinBlobBytes and more go to RocksDB blob files (large
  // documents), so compactions do not rewrite them.
  bool blob_values = false;
};

// The column families, one row per Cf in enum order. Each comment says
// key -> value; "|" joins fixed-width fields, u64be is a big-endian uint64.
// "default" is RocksDB's own family and is unused.
inline constexpr CfSpec kCfTable[] = {
    // "schema_version" -> u64be; "store" -> StoreIdentity; "next_id/<kind>" -> u64be (next id to hand out);
    //   "upgrade/message_text_once" -> "" (see Store::upgrade_message_text)
    {.id = Cf::kMeta, .name = "meta", .kept_by_committer = true},
    // position(u64be) -> EventRecord. Positions only grow.
    {.id = Cf::kEvents, .name = "events", .insert_hint = kHintWholeFamily},
    // user_id(u64be) | position(u64be) -> Event (the events the user may see, as in events;
    //   "" in stores written before the event was copied here: read events then)
    {.id = Cf::kUserInbox, .name = "user_inbox", .insert_hint = hint_leading_bytes(8)},
    // user_id(u64be) -> UserRecord
    {.id = Cf::kUsers, .name = "users", .kept_by_committer = true},
    // lower-cased username -> user_id(u64be)
    {.id = Cf::kUsernames, .name = "usernames"},
    // sha256(token) (32 bytes) -> TokenRecord
    {.id = Cf::kTokens, .name = "tokens"},
    // user_id(u64be) | sha256(token) -> "" (a user's tokens, for revocation)
    {.id = Cf::kUserTokens, .name = "user_tokens"},
    // mentor user_id(u64be) -> MentorProfileRecord
    {.id = Cf::kMentorProfiles, .name = "mentor_profiles", .kept_by_committer = true},
    // mentorship_id(u64be) -> MentorshipRecord
    {.id = Cf::kMentorships, .name = "mentorships", .kept_by_committer = true},
    // user_id(u64be) | mentorship_id(u64be) -> "" (both members' lists)
    {.id = Cf::kUserMentorships, .name = "user_mentorships"},
    // mentee(u64be) | mentor(u64be) | purpose(u64be) -> mentorship_id(u64be): requested or active ones
    {.id = Cf::kOpenPairs, .name = "open_pairs"},
    // conversation_id(u64be) -> ConversationRecord. Rewritten on every message: the new
    //   version goes next to the last one.
    {.id = Cf::kConversations,
     .name = "conversations",
     .kept_by_committer = true,
     .insert_hint = hint_leading_bytes(8)},
    // conversation_id(u64be) | seq(u64be) -> Message (latest text; tombstone when deleted): the only
    //   stored copy of a message's text
    {.id = Cf::kMessages, .name = "messages", .insert_hint = hint_leading_bytes(8)},
    // conversation_id(u64be) | sender(u64be) | client_message_id -> seq(u64be): idempotency, kept for good.
    //   Every SendMessage looks its id up, and nearly every lookup misses.
    {.id = Cf::kClientMessageIds,
     .name = "client_message_ids",
     .insert_hint = hint_leading_bytes(16),
     .memtable_whole_key_bloom = true},
    // user_id(u64be) | conversation_id(u64be) -> read seq(u64be)
    {.id = Cf::kReadMarkers,
     .name = "read_markers",
     .kept_by_committer = true,
     .insert_hint = hint_leading_bytes(16)},
    // user_id(u64be) -> UserUsage: what the user has stored, counted against their quota
    {.id = Cf::kUserUsage, .name = "user_usage", .kept_by_committer = true},
    // role(u64be) | user_id(u64be) -> "": every user under their v1::Role, disabled ones too, written
    //   with the user. The directory reads the mentors' range instead of every user.
    {.id = Cf::kUsersByRole, .name = "users_by_role"},
    // due_ms(u64be) | mentorship_id(u64be) -> "": when the scheduler next has work for a mentorship
    //   (request reminder or expiry, check-in due); none when it never will. Moved in the mutation
    //   that changes the due time (a request, an answer, an agreement, a message, the work itself),
    //   so a pass reads only the entries due now.
    {.id = Cf::kMentorshipsByDue, .name = "mentorships_by_due"},
    // sequence(u64be) -> AuditRecord: the security log, append-only. Sequences come from
    //   meta "next_id/audit" and only grow; the oldest are swept after the retention period.
    {.id = Cf::kAudit, .name = "audit", .insert_hint = kHintWholeFamily},
    // meeting_id(u64be) -> MeetingRecord
    {.id = Cf::kMeetings, .name = "meetings", .kept_by_committer = true},
    // user_id(u64be) | start_ms(u64be) | meeting_id(u64be) -> "": every meeting of both members, in
    //   any state, by start; moved when the time changes. ListMeetings and calendar feeds read it.
    {.id = Cf::kUserMeetings, .name = "user_meetings"},
    // user_id(u64be) | start_ms(u64be) | meeting_id(u64be) -> end_ms(u64be): the accepted meetings
    //   of each member, for the double-booking check (a bounded range before the new start). A
    //   mentor's office-hours bookings share one entry per slot: meeting_id 0 -> end_ms(u64be) |
    //   bookings holding it(u64be), so ListSlots reads one entry per booked slot, not per seat.
    {.id = Cf::kUserBusy, .name = "user_busy"},
    // meeting_id(u64be) | user_id(u64be) -> the author's private notes (UTF-8)
    {.id = Cf::kMeetingPrivateNotes, .name = "meeting_private_notes"},
    // mentorship_id(u64be) -> MeetingCountsRecord (engagement: held, no-shows, upcoming)
    {.id = Cf::kMeetingCounts, .name = "meeting_counts", .kept_by_committer = true},
    // mentorship_id(u64be) | user_id(u64be) -> FitAnswer(u64be); the counts are meta "fit_counts"
    {.id = Cf::kFitAnswers, .name = "fit_answers"},
    // mentor_id(u64be) -> OfficeHoursRecord
    {.id = Cf::kOfficeHours, .name = "office_hours", .kept_by_committer = true},
    // mentor_id(u64be) | start_ms(u64be) -> seats booked(u64be): an office-hours slot's bookings
    {.id = Cf::kSlotBookings, .name = "slot_bookings", .kept_by_committer = true},
    // mentor_id(u64be) -> QueueRecord: the drop-in line
    {.id = Cf::kQueues, .name = "queues", .kept_by_committer = true},
    // user_id(u64be) -> UserPreferencesRecord: reminders, quiet hours, calendar feed
    {.id = Cf::kUserPreferences, .name = "user_preferences", .kept_by_committer = true},
    // sha256(feed secret) (32 bytes) -> user_id(u64be): the calendar feed capability
    {.id = Cf::kCalendarFeeds, .name = "calendar_feeds"},
    // due_ms(u64be) | meeting_id(u64be) | user_id(u64be) | minutes_before(u64be) -> "": reminders
    //   waiting, by due time; the scheduler reads the entries due now and nothing else.
    {.id = Cf::kRemindersByDue, .name = "reminders_by_due"},
    // goal_id(u64be) -> GoalRecord
    {.id = Cf::kGoals, .name = "goals", .kept_by_committer = true},
    // mentorship_id(u64be) | goal_id(u64be) -> "": a mentorship's goals
    {.id = Cf::kMentorshipGoals, .name = "mentorship_goals"},
    // goal_id(u64be) | seq(u64be) -> GoalHistoryEntry: every change, kept for good
    {.id = Cf::kGoalHistory, .name = "goal_history"},
    // mentorship_id(u64be) | reassessment_id(u64be) -> Reassessment
    {.id = Cf::kReassessments, .name = "reassessments"},
    // assignment_id(u64be) -> AssignmentRecord
    {.id = Cf::kAssignments, .name = "assignments", .kept_by_committer = true},
    // mentorship_id(u64be) | assignment_id(u64be) -> "": a mentorship's assignments
    {.id = Cf::kMentorshipAssignments, .name = "mentorship_assignments"},
    // assignment_id(u64be) | version(u64be) -> AssignmentVersion: never overwritten
    {.id = Cf::kAssignmentVersions, .name = "assignment_versions"},
    // review_id(u64be) -> Review (its comments and replies)
    {.id = Cf::kReviews, .name = "reviews", .kept_by_committer = true},
    // assignment_id(u64be) | review_id(u64be) -> "": an assignment's reviews
    {.id = Cf::kAssignmentReviews, .name = "assignment_reviews"},
    // document_id(u64be) -> DocumentRecord: an upload in progress or a complete document
    {.id = Cf::kDocuments, .name = "documents", .kept_by_committer = true},
    // document_id(u64be) | offset(u64be) -> the document's bytes from offset (one piece of an
    //   upload). Blob files hold the values; written without the WAL and flushed before an upload's
    //   progress is recorded (see storage/blob_writer.h), so each byte reaches the disk once.
    {.id = Cf::kDocumentChunks, .name = "document_chunks", .blob_values = true},
    // user_id(u64be) | document_id(u64be) -> "": a user's unfinished uploads
    {.id = Cf::kUserUploads, .name = "user_uploads"},
    // mentorship_id(u64be) -> MentorshipWorkRecord: directors' counts, limits, reassessment schedule
    {.id = Cf::kMentorshipWork, .name = "mentorship_work", .kept_by_committer = true},
    // due_ms(u64be) | kind(u64be) | id(u64be) -> "": timed work of goals and assignments (see
    //   keys::WorkDue), by due time; the scheduler reads the entries due now and nothing else.
    {.id = Cf::kWorkDue, .name = "work_due"},
};

namespace internal {
constexpr bool cf_table_is_in_enum_order() {
  for (size_t i = 0; i < std::size(kCfTable); ++i) {
    if (kCfTable[i].id != static_cast<Cf>(i)) return false;
  }
  return true;
}
constexpr bool cf_names_are_distinct_and_ours() {
  for (size_t i = 0; i < std::size(kCfTable); ++i) {
    if (kCfTable[i].name.empty() || kCfTable[i].name == "default") return false;
    for (size_t j = 0; j < i; ++j) {
      if (kCfTable[i].name == kCfTable[j].name) return false;
    }
  }
  return true;
}
}  // namespace internal

static_assert(std::size(kCfTable) == kCfCount, "kCfTable needs exactly one row per Cf");
static_assert(internal::cf_table_is_in_enum_order(), "kCfTable rows must be in Cf order");
static_assert(internal::cf_names_are_distinct_and_ours(),
              "family names must be distinct, and not \"default\"");

inline constexpr const CfSpec& cf_spec(Cf cf) { return kCfTable[static_cast<size_t>(cf)]; }
inline constexpr std::string_view cf_name(Cf cf) { return cf_spec(cf).name; }
// See CfSpec::kept_by_committer.
inline constexpr bool kept_by_committer(Cf cf) { return cf_spec(cf).kept_by_committer; }

// The on-disk layout this binary writes. Bump when a layout changes and add a
// migration in Store::open; a store with a newer version is refused.
// 2: message events in `events` and `user_inbox` hold no message text.
inline constexpr uint64_t kSchemaVersion = 2;

}  // namespace preceptor::storage
