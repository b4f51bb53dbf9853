// libFuzzer target: the storage key codecs (storage/keys.h).
//
// Two properties, for every codec:
//  - decode(bytes) of arbitrary bytes either refuses or gives a key whose
//    encode() is those very bytes (decode accepts exactly what encode makes);
//  - encode -> decode is the identity, and for the numeric keys the byte
//    order of two encoded keys is the numeric order of their fields (what
//    range scans rely on); prefix() starts the key and prefix_end() bounds it.
//
// Every decoder reads the whole input; the round trips then draw their fields
// from the same bytes with FuzzedDataProvider.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/keys.h"

namespace {

namespace keys = preceptor::storage::keys;
using preceptor::storage::decode_u64;
using preceptor::storage::encode_u64;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "keys_fuzz: %s\n", what);
  std::abort();
}

template <class K>
void check_decode(std::string_view bytes, const char* what) {
  if (auto key = K::decode(bytes)) require(key->encode() == bytes, what);
}

// `key`, made of the numbers `f` (and no tail), against `other` made of `g`.
template <class K, size_t N>
void check_numeric(const K& a, const uint64_t (&f)[N], const K& b, const uint64_t (&g)[N], const char* what) {
  const std::string ea = a.encode();
  const std::string eb = b.encode();
  require(ea.size() == K::kSize && ea.size() == 8 * N, what);
  require(K::decode(ea) == a, what);
  require(K::decode(eb) == b, what);
  const bool numeric_less = std::lexicographical_compare(f, f + N, g, g + N);
  const bool numeric_equal = std::equal(f, f + N, g);
  require((ea < eb) == numeric_less, what);
  require((ea == eb) == numeric_equal, what);
}

// `key` lies in the range of `prefix`: [prefix, prefix_end(prefix)).
void check_prefix(const std::string& key, const std::string& prefix, const char* what) {
  require(key.starts_with(prefix), what);
  const std::string end = keys::prefix_end(prefix);
  require(end.empty() || (key < end && prefix < end && !end.starts_with(prefix)), what);
}

template <size_t N>
void draw(FuzzedDataProvider& in, uint64_t (&f)[N]) {
  for (auto& v : f) v = in.ConsumeIntegral<uint64_t>();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Arbitrary bytes through every decoder.
  check_decode<keys::NextId>(bytes, "NextId::decode accepted a key encode() does not make");
  check_decode<keys::Event>(bytes, "Event::decode");
  check_decode<keys::UserInbox>(bytes, "UserInbox::decode");
  check_decode<keys::User>(bytes, "User::decode");
  check_decode<keys::Username>(bytes, "Username::decode accepted a key encode() does not make");
  check_decode<keys::Token>(bytes, "Token::decode");
  check_decode<keys::UserToken>(bytes, "UserToken::decode");
  check_decode<keys::MentorProfile>(bytes, "MentorProfile::decode");
  check_decode<keys::Mentorship>(bytes, "Mentorship::decode");
  check_decode<keys::UserMentorship>(bytes, "UserMentorship::decode");
  check_decode<keys::OpenPair>(bytes, "OpenPair::decode");
  check_decode<keys::Conversation>(bytes, "Conversation::decode");
  check_decode<keys::Message>(bytes, "Message::decode");
  check_decode<keys::ClientMessageId>(bytes, "ClientMessageId::decode");
  check_decode<keys::ReadMarker>(bytes, "ReadMarker::decode");
  check_decode<keys::UserByRole>(bytes, "UserByRole::decode");
  check_decode<keys::MentorshipByDue>(bytes, "MentorshipByDue::decode");
  check_decode<keys::Audit>(bytes, "Audit::decode");
  for (size_t offset = 0; offset <= size + 1 && offset < 24; ++offset) {
    if (auto v = decode_u64(bytes, offset)) {
      require(offset + 8 <= size, "decode_u64 read past the end");
      require(encode_u64(*v) == bytes.substr(offset, 8), "decode_u64 disagrees with encode_u64");
    } else {
      require(offset + 8 > size, "decode_u64 refused 8 available bytes");
    }
  }
  const std::string end = keys::prefix_end(bytes);
  require(end.empty() ? std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\xff'; })
                      : (std::string(bytes) < end && !end.starts_with(bytes)),
          "prefix_end");

  // Fields drawn from the input: encode -> decode, order, prefixes.
  FuzzedDataProvider in(data, size);
  uint64_t f1[1], g1[1], f2[2], g2[2], f3[3], g3[3];
  draw(in, f1), draw(in, g1), draw(in, f2), draw(in, g2), draw(in, f3), draw(in, g3);

  check_numeric(keys::Event{.position = f1[0]}, f1, keys::Event{.position = g1[0]}, g1, "Event");
  check_numeric(keys::User{.user_id = f1[0]}, f1, keys::User{.user_id = g1[0]}, g1, "User");
  check_numeric(keys::MentorProfile{.mentor_id = f1[0]}, f1, keys::MentorProfile{.mentor_id = g1[0]}, g1,
                "MentorProfile");
  check_numeric(keys::Mentorship{.mentorship_id = f1[0]}, f1, keys::Mentorship{.mentorship_id = g1[0]}, g1,
                "Mentorship");
  check_numeric(keys::Conversation{.conversation_id = f1[0]}, f1,
                keys::Conversation{.conversation_id = g1[0]}, g1, "Conversation");
  check_numeric(keys::Audit{.sequence = f1[0]}, f1, keys::Audit{.sequence = g1[0]}, g1, "Audit");
  const keys::UserInbox inbox{.user_id = f2[0], .position = f2[1]};
  check_numeric(inbox, f2, keys::UserInbox{.user_id = g2[0], .position = g2[1]}, g2, "UserInbox");
  check_prefix(inbox.encode(), keys::UserInbox::prefix(f2[0]), "UserInbox::prefix");
  const keys::UserMentorship um{.user_id = f2[0], .mentorship_id = f2[1]};
  check_numeric(um, f2, keys::UserMentorship{.user_id = g2[0], .mentorship_id = g2[1]}, g2, "UserMentorship");
  check_prefix(um.encode(), keys::UserMentorship::prefix(f2[0]), "UserMentorship::prefix");
  const keys::Message message{.conversation_id = f2[0], .seq = f2[1]};
  check_numeric(message, f2, keys::Message{.conversation_id = g2[0], .seq = g2[1]}, g2, "Message");
  check_prefix(message.encode(), keys::Message::prefix(f2[0]), "Message::prefix");
  check_numeric(keys::ReadMarker{.user_id = f2[0], .conversation_id = f2[1]}, f2,
                keys::ReadMarker{.user_id = g2[0], .conversation_id = g2[1]}, g2, "ReadMarker");
  const keys::UserByRole by_role{.role = f2[0], .user_id = f2[1]};
  check_numeric(by_role, f2, keys::UserByRole{.role = g2[0], .user_id = g2[1]}, g2, "UserByRole");
  check_prefix(by_role.encode(), keys::UserByRole::prefix(f2[0]), "UserByRole::prefix");
  check_numeric(keys::MentorshipByDue{.due_ms = f2[0], .mentorship_id = f2[1]}, f2,
                keys::MentorshipByDue{.due_ms = g2[0], .mentorship_id = g2[1]}, g2, "MentorshipByDue");
  check_numeric(keys::OpenPair{.mentee_id = f3[0], .mentor_id = f3[1], .purpose = f3[2]}, f3,
                keys::OpenPair{.mentee_id = g3[0], .mentor_id = g3[1], .purpose = g3[2]}, g3, "OpenPair");

  // The keys with a string part; the rest of the input is the string.
  const std::string hash = in.ConsumeBytesAsString(keys::Token::kSize);
  if (hash.size() == keys::Token::kSize) {
    const keys::Token token{.token_hash = hash};
    const std::string et = token.encode();
    require(et.size() == keys::Token::kSize && keys::Token::decode(et) == token, "Token round trip");
    const keys::UserToken ut{.user_id = f1[0], .token_hash = hash};
    const std::string eut = ut.encode();
    require(eut.size() == keys::UserToken::kSize && keys::UserToken::decode(eut) == ut,
            "UserToken round trip");
    check_prefix(eut, keys::UserToken::prefix(f1[0]), "UserToken::prefix");
    require(preceptor::storage::user_token_key(f1[0], hash) == eut, "user_token_key");
  }
  const std::string text = in.ConsumeRemainingBytesAsString();
  if (!text.empty()) {
    const keys::NextId next{.kind = text};
    const std::string en = next.encode();
    require(keys::NextId::decode(en) == next, "NextId round trip");
    const keys::ClientMessageId cm{.conversation_id = f2[0], .sender_id = f2[1], .client_message_id = text};
    const std::string ecm = cm.encode();
    require(keys::ClientMessageId::decode(ecm) == cm, "ClientMessageId round trip");
    const keys::ClientMessageId other{
        .conversation_id = g2[0], .sender_id = g2[1], .client_message_id = text};
    if (f2[0] != g2[0] || f2[1] != g2[1]) {
      require((ecm < other.encode()) == std::lexicographical_compare(f2, f2 + 2, g2, g2 + 2),
              "ClientMessageId order");
    }
  }
  // Usernames: encode canonicalizes (ASCII lower case, other bytes kept);
  // decode gives back the canonical form, and both spellings share a key.
  const std::string eu = keys::Username{.username = text}.encode();
  require(eu.size() == text.size(), "Username::encode changed the length");
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char want = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    require(eu[i] == want, "Username::encode is not ASCII lower-casing");
  }
  if (!eu.empty()) {
    auto decoded = keys::Username::decode(eu);
    require(decoded && decoded->username == eu && decoded->encode() == eu, "Username round trip");
    require(preceptor::storage::username_key(text) == eu, "username_key");
  }
  return 0;
}
