#include "storage/keys.h"

#include <cassert>

namespace preceptor::storage {
namespace {

void put_u64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t get_u64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// The fixed-width numbers `fields`, in order, then `tail`: one allocation.
template <size_t N>
std::string pack(const uint64_t (&fields)[N], std::string_view tail = {}) {
  std::string out(8 * N + tail.size(), '\0');
  for (size_t i = 0; i < N; ++i) put_u64(out.data() + 8 * i, fields[i]);
  tail.copy(out.data() + 8 * N, tail.size());
  return out;
}

// The i-th fixed-width number of `key`. REQUIRES: key.size() >= 8 * (i + 1).
uint64_t field(std::string_view key, size_t i) { return get_u64(key.data() + 8 * i); }

bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }

}  // namespace

std::string encode_u64(uint64_t v) { return pack({v}); }

std::optional<uint64_t> decode_u64(std::string_view bytes, size_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < 8) return std::nullopt;
  return get_u64(bytes.data() + offset);
}

std::string username_key(std::string_view username) { return keys::Username{.username = username}.encode(); }

std::string user_token_key(uint64_t user_id, std::string_view token_hash) {
  return keys::UserToken{.user_id = user_id, .token_hash = token_hash}.encode();
}

namespace keys {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string NextId::encode() const {
  assert(!kind.empty());
  std::string out;
  out.reserve(kPrefix.size() + kind.size());
  out.append(kPrefix);
  out.append(kind);
  return out;
}

std::optional<NextId> NextId::decode(std::string_view key) {
  if (key.size() <= kPrefix.size() || !key.starts_with(kPrefix)) return std::nullopt;
  return NextId{.kind = key.substr(kPrefix.size())};
}

std::string UpgradeDone::encode() const {
  assert(!name.empty());
  std::string out;
  out.reserve(kPrefix.size() + name.size());
  out.append(kPrefix);
  out.append(name);
  return out;
}

std::optional<UpgradeDone> UpgradeDone::decode(std::string_view key) {
  if (key.size() <= kPrefix.size() || !key.starts_with(kPrefix)) return std::nullopt;
  return UpgradeDone{.name = key.substr(kPrefix.size())};
}

std::string Event::encode() const { return pack({position}); }

std::optional<Event> Event::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return Event{.position = field(key, 0)};
}

std::string UserInbox::encode() const { return pack({user_id, position}); }

std::optional<UserInbox> UserInbox::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return UserInbox{.user_id = field(key, 0), .position = field(key, 1)};
}

std::string UserInbox::prefix(uint64_t user_id) { return pack({user_id}); }

std::string User::encode() const { return pack({user_id}); }

std::optional<User> User::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return User{.user_id = field(key, 0)};
}

std::string Username::encode() const {
  std::string out(username);
  for (char& c : out) {
    if (is_ascii_upper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<Username> Username::decode(std::string_view key) {
  if (key.empty()) return std::nullopt;
  for (char c : key) {
    if (is_ascii_upper(c)) return std::nullopt;
  }
  return Username{.username = key};
}

std::string Token::encode() const {
  assert(token_hash.size() == kSize);
  return std::string(token_hash);
}

std::optional<Token> Token::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return Token{.token_hash = key};
}

std::string UserToken::encode() const {
  assert(token_hash.size() == Token::kSize);
  return pack({user_id}, token_hash);
}

std::optional<UserToken> UserToken::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return UserToken{.user_id = field(key, 0), .token_hash = key.substr(8)};
}

std::string UserToken::prefix(uint64_t user_id) { return pack({user_id}); }

std::string MentorProfile::encode() const { return pack({mentor_id}); }

std::optional<MentorProfile> MentorProfile::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return MentorProfile{.mentor_id = field(key, 0)};
}

std::string Mentorship::encode() const { return pack({mentorship_id}); }

std::optional<Mentorship> Mentorship::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return Mentorship{.mentorship_id = field(key, 0)};
}

std::string UserMentorship::encode() const { return pack({user_id, mentorship_id}); }

std::optional<UserMentorship> UserMentorship::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return UserMentorship{.user_id = field(key, 0), .mentorship_id = field(key, 1)};
}

std::string UserMentorship::prefix(uint64_t user_id) { return pack({user_id}); }

std::string OpenPair::encode() const { return pack({mentee_id, mentor_id, purpose}); }

std::optional<OpenPair> OpenPair::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return OpenPair{.mentee_id = field(key, 0), .mentor_id = field(key, 1), .purpose = field(key, 2)};
}

std::string Conversation::encode() const { return pack({conversation_id}); }

std::optional<Conversation> Conversation::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return Conversation{.conversation_id = field(key, 0)};
}

std::string Message::encode() const { return pack({conversation_id, seq}); }

std::optional<Message> Message::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return Message{.conversation_id = field(key, 0), .seq = field(key, 1)};
}

std::string Message::prefix(uint64_t conversation_id) { return pack({conversation_id}); }

std::string ClientMessageId::encode() const {
  assert(!client_message_id.empty());
  return pack({conversation_id, sender_id}, client_message_id);
}

std::optional<ClientMessageId> ClientMessageId::decode(std::string_view key) {
  if (key.size() <= kFixedSize) return std::nullopt;
  return ClientMessageId{.conversation_id = field(key, 0),
                         .sender_id = field(key, 1),
                         .client_message_id = key.substr(kFixedSize)};
}

std::string ReadMarker::encode() const { return pack({user_id, conversation_id}); }

std::optional<ReadMarker> ReadMarker::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return ReadMarker{.user_id = field(key, 0), .conversation_id = field(key, 1)};
}

std::string UserUsage::encode() const { return pack({user_id}); }

std::optional<UserUsage> UserUsage::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return UserUsage{.user_id = field(key, 0)};
}

std::string UserByRole::encode() const { return pack({role, user_id}); }

std::optional<UserByRole> UserByRole::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return UserByRole{.role = field(key, 0), .user_id = field(key, 1)};
}

std::string UserByRole::prefix(uint64_t role) { return pack({role}); }

std::string MentorshipByDue::encode() const { return pack({due_ms, mentorship_id}); }

std::optional<MentorshipByDue> MentorshipByDue::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return MentorshipByDue{.due_ms = field(key, 0), .mentorship_id = field(key, 1)};
}

std::string Audit::encode() const { return pack({sequence}); }

std::optional<Audit> Audit::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return Audit{.sequence = field(key, 0)};
}

std::string Meeting::encode() const { return pack({meeting_id}); }

std::optional<Meeting> Meeting::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return Meeting{.meeting_id = field(key, 0)};
}

std::string UserMeeting::encode() const { return pack({user_id, start_ms, meeting_id}); }

std::optional<UserMeeting> UserMeeting::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return UserMeeting{.user_id = field(key, 0), .start_ms = field(key, 1), .meeting_id = field(key, 2)};
}

std::string UserMeeting::prefix(uint64_t user_id) { return pack({user_id}); }

std::string MeetingPrivateNotes::encode() const { return pack({meeting_id, user_id}); }

std::optional<MeetingPrivateNotes> MeetingPrivateNotes::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return MeetingPrivateNotes{.meeting_id = field(key, 0), .user_id = field(key, 1)};
}

std::string MeetingCounts::encode() const { return pack({mentorship_id}); }

std::optional<MeetingCounts> MeetingCounts::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return MeetingCounts{.mentorship_id = field(key, 0)};
}

std::string FitAnswer::encode() const { return pack({mentorship_id, user_id}); }

std::optional<FitAnswer> FitAnswer::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return FitAnswer{.mentorship_id = field(key, 0), .user_id = field(key, 1)};
}

std::string MentorKey::encode() const { return pack({mentor_id}); }

std::optional<MentorKey> MentorKey::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return MentorKey{.mentor_id = field(key, 0)};
}

std::string SlotBooking::encode() const { return pack({mentor_id, start_ms}); }

std::optional<SlotBooking> SlotBooking::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return SlotBooking{.mentor_id = field(key, 0), .start_ms = field(key, 1)};
}

std::string SlotBooking::prefix(uint64_t mentor_id) { return pack({mentor_id}); }

std::string UserPreferences::encode() const { return pack({user_id}); }

std::optional<UserPreferences> UserPreferences::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return UserPreferences{.user_id = field(key, 0)};
}

std::string CalendarFeed::encode() const {
  assert(secret_hash.size() == kSize);
  return std::string(secret_hash);
}

std::optional<CalendarFeed> CalendarFeed::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return CalendarFeed{.secret_hash = key};
}

std::string ReminderByDue::encode() const { return pack({due_ms, meeting_id, user_id, minutes_before}); }

std::optional<ReminderByDue> ReminderByDue::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return ReminderByDue{.due_ms = field(key, 0),
                       .meeting_id = field(key, 1),
                       .user_id = field(key, 2),
                       .minutes_before = field(key, 3)};
}

std::string IdKey::encode() const { return pack({id}); }

std::optional<IdKey> IdKey::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return IdKey{.id = field(key, 0)};
}

std::string PairKey::encode() const { return pack({parent, child}); }

std::optional<PairKey> PairKey::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return PairKey{.parent = field(key, 0), .child = field(key, 1)};
}

std::string PairKey::prefix(uint64_t parent) { return pack({parent}); }

std::string WorkDue::encode() const { return pack({due_ms, kind, id}); }

std::optional<WorkDue> WorkDue::decode(std::string_view key) {
  if (key.size() != kSize) return std::nullopt;
  return WorkDue{.due_ms = field(key, 0), .kind = field(key, 1), .id = field(key, 2)};
}

}  // namespace keys
}  // namespace preceptor::storage
