#include "storage/keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace preceptor::storage {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Values around every byte boundary, where a wrong byte order shows.
// clang-format off
const std::vector<uint64_t> kBoundaries = {
    0, 1, 2, 127, 128, 255, 256, 257, 65535, 65536,
    (1u << 24) - 1, 1u << 24,
    (1ull << 32) - 1, 1ull << 32, (1ull << 32) + 1,
    1ull << 40, (1ull << 56) - 1, 1ull << 56,
    (1ull << 63) - 1, 1ull << 63, kMax - 1, kMax,
};
// A few of them, for checks over every pair of two-field keys.
const std::vector<uint64_t> kSome = {0, 1, 255, 256, 1ull << 32, kMax - 1, kMax};
// clang-format on

const std::string kHash(32, '\xab');

// decode() accepts exactly the length encode() makes.
template <class Key>
void expect_only_exact_length(const std::string& good) {
  ASSERT_TRUE(Key::decode(good).has_value());
  EXPECT_EQ(Key::decode(""), std::nullopt);
  EXPECT_EQ(Key::decode(good.substr(0, good.size() - 1)), std::nullopt);
  EXPECT_EQ(Key::decode(good + '\0'), std::nullopt);
  EXPECT_EQ(Key::decode(good + good), std::nullopt);
}

// Every key made by `make(id, ...)` lies in [prefix(id), prefix_end(prefix(id))),
// and no key of a neighbouring id does: a prefix scan stays inside one id.
// `make(id, first)`: the smallest key of `id` when `first`, else the largest.
template <class Key, class Make>
void expect_prefix_holds_one_id(Make make) {
  for (uint64_t id : kBoundaries) {
    const std::string prefix = Key::prefix(id);
    const std::string end = keys::prefix_end(prefix);
    for (const std::string& key : {make(id, true), make(id, false)}) {
      EXPECT_TRUE(key.starts_with(prefix)) << id;
      EXPECT_LE(prefix, key) << id;
      if (!end.empty()) {
        EXPECT_LT(key, end) << id;
      }
    }
    if (id > 0) {
      EXPECT_LT(make(id - 1, false), prefix) << id;
    }
    if (id < kMax) {
      EXPECT_FALSE(make(id + 1, true).starts_with(prefix)) << id;
      EXPECT_GE(make(id + 1, true), end) << id;
    }
  }
}

TEST(Keys, U64IsEightBigEndianBytes) {
  EXPECT_EQ(encode_u64(0), std::string(8, '\0'));
  EXPECT_EQ(encode_u64(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(encode_u64(kMax), std::string(8, '\xff'));
}

TEST(Keys, U64RoundTrips) {
  for (uint64_t v : kBoundaries) {
    std::string key = encode_u64(v);
    ASSERT_EQ(key.size(), 8u);
    EXPECT_EQ(decode_u64(key), v) << v;
  }
}

TEST(Keys, BytewiseOrderIsNumericOrder) {
  for (uint64_t a : kBoundaries) {
    for (uint64_t b : kBoundaries) {
      EXPECT_EQ(encode_u64(a) < encode_u64(b), a < b) << a << " vs " << b;
    }
  }
}

TEST(Keys, DecodeOfShortKeyFails) {
  EXPECT_EQ(decode_u64(""), std::nullopt);
  EXPECT_EQ(decode_u64(std::string(7, '\x01')), std::nullopt);
  EXPECT_EQ(decode_u64(std::string(8, '\x01'), 1), std::nullopt);
  EXPECT_EQ(decode_u64(std::string(8, '\x01'), 9), std::nullopt);  // offset past the end
  EXPECT_EQ(decode_u64(std::string(16, '\x01'), 8), 0x0101010101010101ull);
}

TEST(Keys, PrefixEndIsTheFirstKeyPastThePrefix) {
  EXPECT_EQ(keys::prefix_end("ab"), "ac");
  EXPECT_EQ(keys::prefix_end(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(keys::prefix_end(std::string("a\xfe", 2)), std::string("a\xff", 2));
  EXPECT_EQ(keys::prefix_end(std::string(8, '\0')), std::string(7, '\0') + '\x01');
  // Nothing is above every key starting with these: no bound.
  EXPECT_EQ(keys::prefix_end(""), "");
  EXPECT_EQ(keys::prefix_end(std::string(8, '\xff')), "");
}

TEST(Keys, EveryFamilyHasACodecNamingIt) {
  EXPECT_EQ(cf_name(keys::NextId::kFamily), "meta");
  EXPECT_EQ(cf_name(keys::Event::kFamily), "events");
  EXPECT_EQ(cf_name(keys::UserInbox::kFamily), "user_inbox");
  EXPECT_EQ(cf_name(keys::User::kFamily), "users");
  EXPECT_EQ(cf_name(keys::Username::kFamily), "usernames");
  EXPECT_EQ(cf_name(keys::Token::kFamily), "tokens");
  EXPECT_EQ(cf_name(keys::UserToken::kFamily), "user_tokens");
  EXPECT_EQ(cf_name(keys::MentorProfile::kFamily), "mentor_profiles");
  EXPECT_EQ(cf_name(keys::Mentorship::kFamily), "mentorships");
  EXPECT_EQ(cf_name(keys::UserMentorship::kFamily), "user_mentorships");
  EXPECT_EQ(cf_name(keys::OpenPair::kFamily), "open_pairs");
  EXPECT_EQ(cf_name(keys::Conversation::kFamily), "conversations");
  EXPECT_EQ(cf_name(keys::Message::kFamily), "messages");
  EXPECT_EQ(cf_name(keys::ClientMessageId::kFamily), "client_message_ids");
  EXPECT_EQ(cf_name(keys::ReadMarker::kFamily), "read_markers");
  EXPECT_EQ(cf_name(keys::UserUsage::kFamily), "user_usage");
  EXPECT_EQ(cf_name(keys::UserByRole::kFamily), "users_by_role");
  EXPECT_EQ(cf_name(keys::MentorshipByDue::kFamily), "mentorships_by_due");
  EXPECT_EQ(cf_name(keys::Audit::kFamily), "audit");
}

// ---- meta ----

TEST(Keys, MetaRecordsKeepTheirStoredNames) {
  EXPECT_EQ(keys::kSchemaVersionKey, "schema_version");
  EXPECT_EQ(keys::kStoreKey, "store");
  EXPECT_EQ(keys::NextId{.kind = "user"}.encode(), "next_id/user");
}

TEST(Keys, NextIdRoundTripsAndRejectsOtherMetaKeys) {
  for (std::string_view kind : {"user", "conversation", "mentorship", "a/b"}) {
    const std::string key = keys::NextId{.kind = kind}.encode();
    EXPECT_EQ(keys::NextId::decode(key), keys::NextId{.kind = kind}) << kind;
  }
  EXPECT_EQ(keys::NextId::decode("next_id/"), std::nullopt);  // no kind
  EXPECT_EQ(keys::NextId::decode("next_id"), std::nullopt);
  EXPECT_EQ(keys::NextId::decode(keys::kSchemaVersionKey), std::nullopt);
  EXPECT_EQ(keys::NextId::decode(keys::kStoreKey), std::nullopt);
  EXPECT_EQ(keys::NextId::decode(""), std::nullopt);
}

TEST(Keys, UpgradeDoneRoundTripsAndRejectsOtherMetaKeys) {
  EXPECT_EQ(keys::UpgradeDone{.name = "users_by_role"}.encode(), "upgrade/users_by_role");
  const std::string key = keys::UpgradeDone{.name = "mentorships_by_due"}.encode();
  EXPECT_EQ(keys::UpgradeDone::decode(key), keys::UpgradeDone{.name = "mentorships_by_due"});
  EXPECT_EQ(keys::UpgradeDone::decode("upgrade/"), std::nullopt);  // no name
  EXPECT_EQ(keys::UpgradeDone::decode(keys::NextId{.kind = "user"}.encode()), std::nullopt);
  EXPECT_EQ(keys::UpgradeDone::decode(keys::kSchemaVersionKey), std::nullopt);
  EXPECT_EQ(keys::NextId::decode(key), std::nullopt);
}

// ---- one-number keys ----

template <class Key>
void expect_one_number_codec(uint64_t Key::*field) {
  for (uint64_t v : kBoundaries) {
    Key key{};
    key.*field = v;
    const std::string bytes = key.encode();
    EXPECT_EQ(bytes, encode_u64(v));
    const std::optional<Key> decoded = Key::decode(bytes);
    ASSERT_TRUE(decoded.has_value()) << v;
    EXPECT_EQ((*decoded).*field, v);
  }
  Key one{};
  one.*field = 1;
  expect_only_exact_length<Key>(one.encode());
}

TEST(Keys, EventIsThePosition) { expect_one_number_codec(&keys::Event::position); }
TEST(Keys, UserIsTheUserId) { expect_one_number_codec(&keys::User::user_id); }
TEST(Keys, MentorProfileIsTheMentorId) { expect_one_number_codec(&keys::MentorProfile::mentor_id); }
TEST(Keys, MentorshipIsTheMentorshipId) { expect_one_number_codec(&keys::Mentorship::mentorship_id); }
TEST(Keys, ConversationIsTheConversationId) { expect_one_number_codec(&keys::Conversation::conversation_id); }
TEST(Keys, UserUsageIsTheUserId) { expect_one_number_codec(&keys::UserUsage::user_id); }
TEST(Keys, AuditIsTheSequence) {
  expect_one_number_codec(&keys::Audit::sequence);
  // Later entries sort after earlier ones, so the oldest are first and retention sweeps a prefix.
  EXPECT_LT(keys::Audit{.sequence = 255}.encode(), keys::Audit{.sequence = 256}.encode());
}

// ---- two-number keys ----

// Round trips, sorts by (first, second) numerically, rejects other lengths.
template <class Key>
void expect_two_number_codec(uint64_t Key::*first, uint64_t Key::*second) {
  auto make = [&](uint64_t a, uint64_t b) {
    Key key{};
    key.*first = a;
    key.*second = b;
    return key;
  };
  for (uint64_t a : kBoundaries) {
    for (uint64_t b : kSome) {
      const std::string bytes = make(a, b).encode();
      ASSERT_EQ(bytes.size(), Key::kSize);
      EXPECT_EQ(bytes, encode_u64(a) + encode_u64(b));
      EXPECT_EQ(Key::decode(bytes), make(a, b)) << a << ", " << b;
    }
  }
  for (uint64_t a : kSome) {
    for (uint64_t b : kSome) {
      for (uint64_t c : kSome) {
        for (uint64_t d : kSome) {
          EXPECT_EQ(make(a, b).encode() < make(c, d).encode(), std::tie(a, b) < std::tie(c, d))
              << a << "," << b << " vs " << c << "," << d;
        }
      }
    }
  }
  expect_only_exact_length<Key>(make(1, 2).encode());
}

TEST(Keys, UserInboxIsUserThenPosition) {
  expect_two_number_codec(&keys::UserInbox::user_id, &keys::UserInbox::position);
  expect_prefix_holds_one_id<keys::UserInbox>([](uint64_t user, bool first) {
    return keys::UserInbox{.user_id = user, .position = first ? 0 : kMax}.encode();
  });
}

TEST(Keys, UserMentorshipIsUserThenMentorship) {
  expect_two_number_codec(&keys::UserMentorship::user_id, &keys::UserMentorship::mentorship_id);
  expect_prefix_holds_one_id<keys::UserMentorship>([](uint64_t user, bool first) {
    return keys::UserMentorship{.user_id = user, .mentorship_id = first ? 0 : kMax}.encode();
  });
}

TEST(Keys, MessageIsConversationThenSeq) {
  expect_two_number_codec(&keys::Message::conversation_id, &keys::Message::seq);
  expect_prefix_holds_one_id<keys::Message>([](uint64_t conv, bool first) {
    return keys::Message{.conversation_id = conv, .seq = first ? 0 : kMax}.encode();
  });
}

TEST(Keys, ReadMarkerIsUserThenConversation) {
  expect_two_number_codec(&keys::ReadMarker::user_id, &keys::ReadMarker::conversation_id);
  // The order of the fields is the layout: a swap gives another key.
  EXPECT_NE((keys::ReadMarker{.user_id = 1, .conversation_id = 2}.encode()),
            (keys::ReadMarker{.user_id = 2, .conversation_id = 1}.encode()));
}

TEST(Keys, UserByRoleIsRoleThenUser) {
  expect_two_number_codec(&keys::UserByRole::role, &keys::UserByRole::user_id);
  expect_prefix_holds_one_id<keys::UserByRole>([](uint64_t role, bool first) {
    return keys::UserByRole{.role = role, .user_id = first ? 0 : kMax}.encode();
  });
}

TEST(Keys, MentorshipByDueIsDueTimeThenMentorship) {
  expect_two_number_codec(&keys::MentorshipByDue::due_ms, &keys::MentorshipByDue::mentorship_id);
  // Everything due at `now` sorts below the first key of now + 1, whatever its id.
  const std::string bound = keys::MentorshipByDue{.due_ms = 1001, .mentorship_id = 0}.encode();
  EXPECT_LT((keys::MentorshipByDue{.due_ms = 1000, .mentorship_id = kMax}.encode()), bound);
  EXPECT_GE((keys::MentorshipByDue{.due_ms = 1001, .mentorship_id = 0}.encode()), bound);
}

TEST(Keys, WorkDueIsDueTimeThenKindThenId) {
  const std::string bound = keys::WorkDue{.due_ms = 1001, .kind = 0, .id = 0}.encode();
  EXPECT_LT((keys::WorkDue{.due_ms = 1000, .kind = kMax, .id = kMax}.encode()), bound);
  EXPECT_GE((keys::WorkDue{.due_ms = 1001, .kind = 0, .id = 0}.encode()), bound);
  const keys::WorkDue k{.due_ms = 5, .kind = keys::WorkDue::kReassessment, .id = 77};
  EXPECT_EQ(keys::WorkDue::decode(k.encode()), k);
  EXPECT_EQ(keys::WorkDue::decode("short"), std::nullopt);
}

TEST(Keys, IdAndPairKeysListChildrenByParent) {
  expect_two_number_codec(&keys::PairKey::parent, &keys::PairKey::child);
  const std::string prefix = keys::PairKey::prefix(7);
  EXPECT_TRUE((keys::PairKey{.parent = 7, .child = kMax}.encode().starts_with(prefix)));
  EXPECT_FALSE((keys::PairKey{.parent = 8, .child = 0}.encode().starts_with(prefix)));
  EXPECT_EQ(keys::IdKey::decode(keys::IdKey{.id = 42}.encode()), keys::IdKey{.id = 42});
  EXPECT_EQ(keys::IdKey::decode("123456789"), std::nullopt);
}

// ---- the other layouts ----

TEST(Keys, OpenPairIsMenteeMentorPurpose) {
  for (uint64_t mentee : kSome) {
    for (uint64_t mentor : kSome) {
      for (uint64_t purpose : {uint64_t{1}, uint64_t{5}, kMax}) {
        const keys::OpenPair pair{.mentee_id = mentee, .mentor_id = mentor, .purpose = purpose};
        const std::string bytes = pair.encode();
        EXPECT_EQ(bytes, encode_u64(mentee) + encode_u64(mentor) + encode_u64(purpose));
        EXPECT_EQ(keys::OpenPair::decode(bytes), pair);
      }
    }
  }
  EXPECT_LT((keys::OpenPair{.mentee_id = 1, .mentor_id = kMax, .purpose = kMax}.encode()),
            (keys::OpenPair{.mentee_id = 2, .mentor_id = 0, .purpose = 0}.encode()));
  EXPECT_LT((keys::OpenPair{.mentee_id = 1, .mentor_id = 255, .purpose = 1}.encode()),
            (keys::OpenPair{.mentee_id = 1, .mentor_id = 256, .purpose = 1}.encode()));
  expect_only_exact_length<keys::OpenPair>(
      keys::OpenPair{.mentee_id = 1, .mentor_id = 2, .purpose = 3}.encode());
}

TEST(Keys, TokenIsTheHashItself) {
  EXPECT_EQ(keys::Token{.token_hash = kHash}.encode(), kHash);
  EXPECT_EQ(keys::Token::decode(kHash), keys::Token{.token_hash = kHash});
  expect_only_exact_length<keys::Token>(kHash);
}

TEST(Keys, UserTokenIsUserThenHash) {
  const std::string key = keys::UserToken{.user_id = 5, .token_hash = kHash}.encode();
  ASSERT_EQ(key.size(), keys::UserToken::kSize);
  EXPECT_EQ(key, encode_u64(5) + kHash);
  EXPECT_EQ(keys::UserToken::decode(key), (keys::UserToken{.user_id = 5, .token_hash = kHash}));
  expect_only_exact_length<keys::UserToken>(key);
  EXPECT_LT((keys::UserToken{.user_id = 255, .token_hash = std::string(32, '\xff')}.encode()),
            (keys::UserToken{.user_id = 256, .token_hash = std::string(32, '\0')}.encode()));
  expect_prefix_holds_one_id<keys::UserToken>([](uint64_t user, bool first) {
    return keys::UserToken{.user_id = user, .token_hash = std::string(32, first ? '\0' : '\xff')}.encode();
  });
  // The older spelling makes the same key.
  EXPECT_EQ(user_token_key(5, kHash), key);
}

TEST(Keys, ClientMessageIdIsConversationSenderThenTheClientsId) {
  const keys::ClientMessageId id{.conversation_id = 7, .sender_id = 9, .client_message_id = "c-1"};
  const std::string key = id.encode();
  EXPECT_EQ(key, encode_u64(7) + encode_u64(9) + "c-1");
  EXPECT_EQ(keys::ClientMessageId::decode(key), id);
  const std::string longest(64, 'x');
  EXPECT_EQ(
      keys::ClientMessageId::decode(
          keys::ClientMessageId{.conversation_id = 1, .sender_id = 2, .client_message_id = longest}.encode()),
      (keys::ClientMessageId{.conversation_id = 1, .sender_id = 2, .client_message_id = longest}));
  // The client's id is never empty, so the fixed part alone is not a key.
  EXPECT_EQ(keys::ClientMessageId::decode(key.substr(0, 16)), std::nullopt);
  EXPECT_EQ(keys::ClientMessageId::decode(key.substr(0, 15)), std::nullopt);
  EXPECT_EQ(keys::ClientMessageId::decode(""), std::nullopt);
  // One sender's ids in one conversation sort together, before the next sender's.
  EXPECT_LT(
      (keys::ClientMessageId{.conversation_id = 1, .sender_id = 255, .client_message_id = "\xff"}.encode()),
      (keys::ClientMessageId{.conversation_id = 1, .sender_id = 256, .client_message_id = "\x01"}.encode()));
}

TEST(Keys, UsernameLowerCasesAsciiOnly) {
  EXPECT_EQ(keys::Username{.username = "Dr.Alice_Smith-42"}.encode(), "dr.alice_smith-42");
  EXPECT_EQ(keys::Username{.username = "ALICE"}.encode(), keys::Username{.username = "alice"}.encode());
  // UTF-8 bytes are left as they are ("É" stays "É"), whatever the locale.
  EXPECT_EQ(keys::Username{.username = "\xc3\x89milie"}.encode(), "\xc3\x89milie");
  EXPECT_EQ(keys::Username{.username = std::string_view("a\0B", 3)}.encode(), std::string("a\0b", 3));
  // The older spelling makes the same key.
  EXPECT_EQ(username_key("Dr.Alice"), "dr.alice");
  EXPECT_EQ(username_key(""), "");
}

TEST(Keys, UsernameDecodesCanonicalFormsOnly) {
  EXPECT_EQ(keys::Username::decode("dr.alice"), keys::Username{.username = "dr.alice"});
  EXPECT_EQ(keys::Username::decode("\xc3\x89milie"), keys::Username{.username = "\xc3\x89milie"});
  EXPECT_EQ(keys::Username::decode("Alice"), std::nullopt);
  EXPECT_EQ(keys::Username::decode(""), std::nullopt);
}

}  // namespace
}  // namespace preceptor::storage
