#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/column_families.h"

namespace preceptor::storage {

// A u64 as 8 big-endian bytes, so that RocksDB's bytewise order is numeric
// order. The stored form of ids, seqs and counters kept as values (see
// kCfTable), and the field of every numeric key.
std::string encode_u64(uint64_t v);
// Reads 8 bytes at `offset`; nullopt when `bytes` is too short.
std::optional<uint64_t> decode_u64(std::string_view bytes, size_t offset = 0);

// Older spellings of keys::Username{...}.encode() and keys::UserToken{...}.encode(),
// kept while server/services/accounts.cpp and roster.cpp use them.
std::string username_key(std::string_view username);
std::string user_token_key(uint64_t user_id, std::string_view token_hash);

// One named key codec per column family (and for the meta records). A call
// site names every field, so a swap shows:
//
//   keys::ReadMarker{.user_id = u, .conversation_id = c}.encode()
//
// Leaving a field out fails the build (-Wmissing-field-initializers).
// encode() lays the fields out in order, numbers as fixed-width big-endian,
// so a family scans in (first field, second field, ...) order. decode()
// accepts exactly what encode() produces and nothing else: nullopt for a key
// of the wrong length or form. Fields that are string_views borrow: encode()
// copies them, decode() returns views into the key it was given.
// prefix() is the common start of the keys sharing a leading id, for
// Store::scan_prefix and CommitContext::scan_prefix.
namespace keys {

// The smallest key above every key that starts with `prefix`: the end of a
// range that holds exactly the keys with that prefix. "" when there is none
// (`prefix` is empty or all 0xff bytes), which as KeyRange::end means "to the
// end of the family".
std::string prefix_end(std::string_view prefix);

// ---- meta ----
inline constexpr std::string_view kSchemaVersionKey = "schema_version";  // -> u64be
inline constexpr std::string_view kStoreKey = "store";                   // -> StoreIdentity
// -> "" once the stored events and inboxes hold no message text (Store::upgrade_message_text).
inline constexpr std::string_view kUpgradeMessageTextKey = "upgrade/message_text_once";

// "next_id/<kind>" -> u64be, the next id of that kind to hand out.
struct NextId {
  static constexpr Cf kFamily = Cf::kMeta;
  static constexpr std::string_view kPrefix = "next_id/";
  std::string_view kind;  // REQUIRES: not empty
  std::string encode() const;
  static std::optional<NextId> decode(std::string_view key);  // nullopt: not a counter's key
  bool operator==(const NextId&) const = default;
};

// "upgrade/<name>" -> "": the start-up step `name` (an index built from the
// records of a store written before it existed) has run to the end.
struct UpgradeDone {
  static constexpr Cf kFamily = Cf::kMeta;
  static constexpr std::string_view kPrefix = "upgrade/";
  std::string_view name;  // REQUIRES: not empty
  std::string encode() const;
  static std::optional<UpgradeDone> decode(std::string_view key);  // nullopt: not an upgrade's key
  bool operator==(const UpgradeDone&) const = default;
};

// ---- events: position -> EventRecord ----
struct Event {
  static constexpr Cf kFamily = Cf::kEvents;
  static constexpr size_t kSize = 8;
  uint64_t position;
  std::string encode() const;
  static std::optional<Event> decode(std::string_view key);
  bool operator==(const Event&) const = default;
};

// ---- user_inbox: user_id | position -> Event ----
struct UserInbox {
  static constexpr Cf kFamily = Cf::kUserInbox;
  static constexpr size_t kSize = 16;
  uint64_t user_id;
  uint64_t position;
  std::string encode() const;
  static std::optional<UserInbox> decode(std::string_view key);
  static std::string prefix(uint64_t user_id);  // the user's inbox, in position order
  bool operator==(const UserInbox&) const = default;
};

// ---- users: user_id -> UserRecord ----
struct User {
  static constexpr Cf kFamily = Cf::kUsers;
  static constexpr size_t kSize = 8;
  uint64_t user_id;
  std::string encode() const;
  static std::optional<User> decode(std::string_view key);
  bool operator==(const User&) const = default;
};

// ---- usernames: canonical username -> user_id(u64be) ----
// The canonical form lower-cases ASCII letters only: bytes >= 0x80 (UTF-8
// sequences) are kept as they are, so a key never depends on the locale.
struct Username {
  static constexpr Cf kFamily = Cf::kUsernames;
  std::string_view username;  // as given; encode() canonicalizes it
  std::string encode() const;
  // nullopt for an empty key or one with an upper-case ASCII letter (not canonical).
  static std::optional<Username> decode(std::string_view key);
  bool operator==(const Username&) const = default;
};

// ---- tokens: sha256(token) -> TokenRecord ----
struct Token {
  static constexpr Cf kFamily = Cf::kTokens;
  static constexpr size_t kSize = 32;
  std::string_view token_hash;  // REQUIRES: kSize bytes
  std::string encode() const;
  static std::optional<Token> decode(std::string_view key);
  bool operator==(const Token&) const = default;
};

// ---- user_tokens: user_id | sha256(token) -> "" ----
struct UserToken {
  static constexpr Cf kFamily = Cf::kUserTokens;
  static constexpr size_t kSize = 8 + Token::kSize;
  uint64_t user_id;
  std::string_view token_hash;  // REQUIRES: Token::kSize bytes
  std::string encode() const;
  static std::optional<UserToken> decode(std::string_view key);
  static std::string prefix(uint64_t user_id);  // the user's tokens
  bool operator==(const UserToken&) const = default;
};

// ---- mentor_profiles: mentor_id -> MentorProfileRecord ----
struct MentorProfile {
  static constexpr Cf kFamily = Cf::kMentorProfiles;
  static constexpr size_t kSize = 8;
  uint64_t mentor_id;
  std::string encode() const;
  static std::optional<MentorProfile> decode(std::string_view key);
  bool operator==(const MentorProfile&) const = default;
};

// ---- mentorships: mentorship_id -> MentorshipRecord ----
struct Mentorship {
  static constexpr Cf kFamily = Cf::kMentorships;
  static constexpr size_t kSize = 8;
  uint64_t mentorship_id;
  std::string encode() const;
  static std::optional<Mentorship> decode(std::string_view key);
  bool operator==(const Mentorship&) const = default;
};

// ---- user_mentorships: user_id | mentorship_id -> "" ----
struct UserMentorship {
  static constexpr Cf kFamily = Cf::kUserMentorships;
  static constexpr size_t kSize = 16;
  uint64_t user_id;
  uint64_t mentorship_id;
  std::string encode() const;
  static std::optional<UserMentorship> decode(std::string_view key);
  static std::string prefix(uint64_t user_id);  // the user's mentorships, in id order
  bool operator==(const UserMentorship&) const = default;
};

// ---- open_pairs: mentee_id | mentor_id | purpose -> mentorship_id(u64be) ----
struct OpenPair {
  static constexpr Cf kFamily = Cf::kOpenPairs;
  static constexpr size_t kSize = 24;
  uint64_t mentee_id;
  uint64_t mentor_id;
  uint64_t purpose;  // the v1::Purpose number
  std::string encode() const;
  static std::optional<OpenPair> decode(std::string_view key);
  bool operator==(const OpenPair&) const = default;
};

// ---- conversations: conversation_id -> ConversationRecord ----
struct Conversation {
  static constexpr Cf kFamily = Cf::kConversations;
  static constexpr size_t kSize = 8;
  uint64_t conversation_id;
  std::string encode() const;
  static std::optional<Conversation> decode(std::string_view key);
  bool operator==(const Conversation&) const = default;
};

// ---- messages: conversation_id | seq -> Message ----
struct Message {
  static constexpr Cf kFamily = Cf::kMessages;
  static constexpr size_t kSize = 16;
  uint64_t conversation_id;
  uint64_t seq;
  std::string encode() const;
  static std::optional<Message> decode(std::string_view key);
  static std::string prefix(uint64_t conversation_id);  // the conversation's messages, in seq order
  bool operator==(const Message&) const = default;
};

// ---- client_message_ids: conversation_id | sender_id | client_message_id -> seq(u64be) ----
struct ClientMessageId {
  static constexpr Cf kFamily = Cf::kClientMessageIds;
  static constexpr size_t kFixedSize = 16;  // before the client's id
  uint64_t conversation_id;
  uint64_t sender_id;
  std::string_view client_message_id;  // REQUIRES: not empty
  std::string encode() const;
  // nullopt unless longer than kFixedSize (the client's id is never empty).
  static std::optional<ClientMessageId> decode(std::string_view key);
  bool operator==(const ClientMessageId&) const = default;
};

// ---- read_markers: user_id | conversation_id -> read seq(u64be) ----
struct ReadMarker {
  static constexpr Cf kFamily = Cf::kReadMarkers;
  static constexpr size_t kSize = 16;
  uint64_t user_id;
  uint64_t conversation_id;
  std::string encode() const;
  static std::optional<ReadMarker> decode(std::string_view key);
  bool operator==(const ReadMarker&) const = default;
};

// ---- user_usage: user_id -> UserUsage ----
struct UserUsage {
  static constexpr Cf kFamily = Cf::kUserUsage;
  static constexpr size_t kSize = 8;
  uint64_t user_id;
  std::string encode() const;
  static std::optional<UserUsage> decode(std::string_view key);
  bool operator==(const UserUsage&) const = default;
};

// ---- users_by_role: role | user_id -> "" ----
struct UserByRole {
  static constexpr Cf kFamily = Cf::kUsersByRole;
  static constexpr size_t kSize = 16;
  uint64_t role;  // the v1::Role number
  uint64_t user_id;
  std::string encode() const;
  static std::optional<UserByRole> decode(std::string_view key);
  static std::string prefix(uint64_t role);  // the users with that role, in id order
  bool operator==(const UserByRole&) const = default;
};

// ---- mentorships_by_due: due_ms | mentorship_id -> "" ----
// Scans in due order: the entries due at `now` are those below
// MentorshipByDue{.due_ms = now + 1, .mentorship_id = 0}.
struct MentorshipByDue {
  static constexpr Cf kFamily = Cf::kMentorshipsByDue;
  static constexpr size_t kSize = 16;
  uint64_t due_ms;  // UTC milliseconds
  uint64_t mentorship_id;
  std::string encode() const;
  static std::optional<MentorshipByDue> decode(std::string_view key);
  bool operator==(const MentorshipByDue&) const = default;
};

// ---- audit: sequence -> AuditRecord ----
struct Audit {
  static constexpr Cf kFamily = Cf::kAudit;
  static constexpr size_t kSize = 8;
  uint64_t sequence;
  std::string encode() const;
  static std::optional<Audit> decode(std::string_view key);
  bool operator==(const Audit&) const = default;
};

// ---- meetings: meeting_id -> MeetingRecord ----
struct Meeting {
  static constexpr Cf kFamily = Cf::kMeetings;
  static constexpr size_t kSize = 8;
  uint64_t meeting_id;
  std::string encode() const;
  static std::optional<Meeting> decode(std::string_view key);
  bool operator==(const Meeting&) const = default;
};

// ---- user_meetings and user_busy: user_id | start_ms | meeting_id ----
// One codec for both families (same layout; user_busy's value is the end).
struct UserMeeting {
  static constexpr size_t kSize = 24;
  uint64_t user_id;
  uint64_t start_ms;  // UTC milliseconds (never negative: meetings start after 2000)
  uint64_t meeting_id;
  std::string encode() const;
  static std::optional<UserMeeting> decode(std::string_view key);
  static std::string prefix(uint64_t user_id);  // the user's meetings, by start
  bool operator==(const UserMeeting&) const = default;
};

// ---- meeting_private_notes: meeting_id | user_id -> text ----
struct MeetingPrivateNotes {
  static constexpr Cf kFamily = Cf::kMeetingPrivateNotes;
  static constexpr size_t kSize = 16;
  uint64_t meeting_id;
  uint64_t user_id;
  std::string encode() const;
  static std::optional<MeetingPrivateNotes> decode(std::string_view key);
  bool operator==(const MeetingPrivateNotes&) const = default;
};

// ---- meeting_counts: mentorship_id -> MeetingCountsRecord ----
struct MeetingCounts {
  static constexpr Cf kFamily = Cf::kMeetingCounts;
  static constexpr size_t kSize = 8;
  uint64_t mentorship_id;
  std::string encode() const;
  static std::optional<MeetingCounts> decode(std::string_view key);
  bool operator==(const MeetingCounts&) const = default;
};

// ---- fit_answers: mentorship_id | user_id -> FitAnswer(u64be) ----
struct FitAnswer {
  static constexpr Cf kFamily = Cf::kFitAnswers;
  static constexpr size_t kSize = 16;
  uint64_t mentorship_id;
  uint64_t user_id;
  std::string encode() const;
  static std::optional<FitAnswer> decode(std::string_view key);
  bool operator==(const FitAnswer&) const = default;
};
// meta "fit_counts" -> FitCountsRecord
inline constexpr std::string_view kFitCountsKey = "fit_counts";

// ---- office_hours: mentor_id -> OfficeHoursRecord; queues: mentor_id -> QueueRecord ----
// One codec for both families.
struct MentorKey {
  static constexpr size_t kSize = 8;
  uint64_t mentor_id;
  std::string encode() const;
  static std::optional<MentorKey> decode(std::string_view key);
  bool operator==(const MentorKey&) const = default;
};

// ---- slot_bookings: mentor_id | start_ms -> seats booked(u64be) ----
struct SlotBooking {
  static constexpr Cf kFamily = Cf::kSlotBookings;
  static constexpr size_t kSize = 16;
  uint64_t mentor_id;
  uint64_t start_ms;
  std::string encode() const;
  static std::optional<SlotBooking> decode(std::string_view key);
  static std::string prefix(uint64_t mentor_id);  // the mentor's booked slots, by start
  bool operator==(const SlotBooking&) const = default;
};

// ---- user_preferences: user_id -> UserPreferencesRecord ----
struct UserPreferences {
  static constexpr Cf kFamily = Cf::kUserPreferences;
  static constexpr size_t kSize = 8;
  uint64_t user_id;
  std::string encode() const;
  static std::optional<UserPreferences> decode(std::string_view key);
  bool operator==(const UserPreferences&) const = default;
};

// ---- calendar_feeds: sha256(secret) -> user_id(u64be) ----
struct CalendarFeed {
  static constexpr Cf kFamily = Cf::kCalendarFeeds;
  static constexpr size_t kSize = 32;
  std::string_view secret_hash;  // REQUIRES: 32 bytes
  std::string encode() const;
  static std::optional<CalendarFeed> decode(std::string_view key);
  bool operator==(const CalendarFeed&) const = default;
};

// ---- reminders_by_due: due_ms | meeting_id | user_id | minutes_before -> "" ----
// Scans in due order: the entries due at `now` are those below
// ReminderByDue{.due_ms = now + 1, ...zeros}.
struct ReminderByDue {
  static constexpr Cf kFamily = Cf::kRemindersByDue;
  static constexpr size_t kSize = 32;
  uint64_t due_ms;
  uint64_t meeting_id;
  uint64_t user_id;
  uint64_t minutes_before;
  std::string encode() const;
  static std::optional<ReminderByDue> decode(std::string_view key);
  bool operator==(const ReminderByDue&) const = default;
};

// ---- work (goals, assignments, documents) ----
// One id: goals, assignments, reviews, documents, mentorship_work.
struct IdKey {
  static constexpr size_t kSize = 8;
  uint64_t id;
  std::string encode() const;
  static std::optional<IdKey> decode(std::string_view key);
  bool operator==(const IdKey&) const = default;
};

// A parent and a child id, listed by parent: mentorship_goals,
// goal_history (goal | seq), reassessments, mentorship_assignments,
// assignment_versions (assignment | version), assignment_reviews,
// document_chunks (document | offset), user_uploads (user | document).
struct PairKey {
  static constexpr size_t kSize = 16;
  uint64_t parent;
  uint64_t child;
  std::string encode() const;
  static std::optional<PairKey> decode(std::string_view key);
  static std::string prefix(uint64_t parent);  // every child of `parent`, in order
  bool operator==(const PairKey&) const = default;
};

// ---- work_due: due_ms | kind | id -> "" ----
struct WorkDue {
  static constexpr Cf kFamily = Cf::kWorkDue;
  static constexpr size_t kSize = 24;
  enum Kind : uint64_t {
    kAssignmentDueSoon = 1,  // id: assignment
    kAssignmentOverdue = 2,  // id: assignment
    kReassessment = 3,       // id: mentorship
    kUploadExpiry = 4,       // id: document (an unfinished upload)
  };
  uint64_t due_ms;
  uint64_t kind;
  uint64_t id;
  std::string encode() const;
  static std::optional<WorkDue> decode(std::string_view key);
  bool operator==(const WorkDue&) const = default;
};

}  // namespace keys
}  // namespace preceptor::storage
