#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace preceptor::storage {

// Every column family, named key -> value. Append only: never reorder or
// reuse an id; a new kind of record gets a new family at the end.
enum class Cf : uint8_t {
  kMeta = 0,        // "schema_version" -> u64be; "store" -> StoreIdentity; "next_id/<kind>" -> u64be
  kEvents,          // position(u64be) -> EventRecord
  kUserInbox,       // user_id(u64be) | position(u64be) -> Event (the events the user may see, as in kEvents;
                    //   "" in stores written before the event was copied here: read kEvents then)
  kUsers,           // user_id(u64be) -> UserRecord
  kUsernames,       // lower-cased username -> user_id(u64be)
  kTokens,          // sha256(token) (32 bytes) -> TokenRecord
  kUserTokens,      // user_id(u64be) | sha256(token) -> "" (a user's tokens, for revocation)
  kMentorProfiles,  // mentor user_id(u64be) -> MentorProfileRecord
  kMentorships,     // mentorship_id(u64be) -> MentorshipRecord
  kUserMentorships, // user_id(u64be) | mentorship_id(u64be) -> "" (both members' lists)
  kOpenPairs,       // mentee(u64be) | mentor(u64be) | purpose(u64be) -> mentorship_id: requested or active ones
  kConversations,   // conversation_id(u64be) -> ConversationRecord
  kMessages,        // conversation_id(u64be) | seq(u64be) -> Message (latest text; tombstone when deleted)
  kClientMessageIds,// conversation_id(u64be) | sender(u64be) | client_message_id -> seq(u64be): idempotency, kept for good
  kReadMarkers,     // user_id(u64be) | conversation_id(u64be) -> read seq(u64be)
  kCount,
};

inline constexpr size_t kCfCount = static_cast<size_t>(Cf::kCount);

// RocksDB names; index = Cf value. "default" is RocksDB's own and unused.
inline constexpr std::array<std::string_view, kCfCount> kCfNames = {
    "meta",         "events",           "user_inbox",  "users",         "usernames",
    "tokens",       "user_tokens",      "mentor_profiles", "mentorships", "user_mentorships",
    "open_pairs",   "conversations",    "messages",    "client_message_ids", "read_markers",
};

inline constexpr std::string_view cf_name(Cf cf) { return kCfNames[static_cast<size_t>(cf)]; }

// Families whose records mutations read back and rewrite again and again
// (counters, a conversation's last seq, read markers, mentorship state). The
// committer keeps the latest value it wrote of these in memory, so the next
// mutation reads it without a database lookup. Append-only families (events,
// inboxes, messages, client ids) are not kept.
inline constexpr bool kept_by_committer(Cf cf) {
  switch (cf) {
    case Cf::kMeta:
    case Cf::kUsers:
    case Cf::kMentorProfiles:
    case Cf::kMentorships:
    case Cf::kConversations:
    case Cf::kReadMarkers:
      return true;
    default:
      return false;
  }
}

// The on-disk layout this binary writes. Bump when a layout changes and add a
// migration in Store::open; a store with a newer version is refused.
inline constexpr uint64_t kSchemaVersion = 1;

}  // namespace preceptor::storage
