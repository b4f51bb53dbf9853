#include "storage/message_text.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "storage/redactor.h"
#include "tests/storage/storage_test_util.h"
#include "tests/temp/files_containing.h"

namespace preceptor::storage {
namespace {

using preceptor::testing::files_containing;
using preceptor::testing::random_canary;
using testing::commit_and_wait;
using testing::TempDir;

v1::Message text_message(uint64_t conv, uint64_t seq, const std::string& body) {
  v1::Message m;
  m.set_conversation_id(conv);
  m.set_seq(seq);
  m.set_sender_id(7);
  m.set_client_message_id("c-" + std::to_string(seq));
  m.set_kind(v1::MESSAGE_KIND_TEXT);
  m.set_body(body);
  m.set_sent_at_ms(1000);
  return m;
}

v1::Event posted(const v1::Message& m, uint64_t position) {
  v1::Event e;
  *e.mutable_message_posted()->mutable_message() = m;
  e.set_position(position);
  return e;
}

TEST(MessageText, StripKeepsTheReferenceAndDropsWhatTheUserTyped) {
  v1::Message m = text_message(3, 4, "the patient in bed 12");
  m.mutable_check_in()->set_status(v1::CHECK_IN_STATUS_BLOCKED);
  m.mutable_check_in()->set_note("stuck on the protocol");
  v1::Event e = posted(m, 9);
  EXPECT_TRUE(has_message_text(e));
  EXPECT_TRUE(strip_message_text(e));
  const v1::Message& s = e.message_posted().message();
  EXPECT_EQ(s.body(), "");
  EXPECT_FALSE(s.has_check_in());
  EXPECT_EQ(s.conversation_id(), 3u);
  EXPECT_EQ(s.seq(), 4u);
  EXPECT_EQ(s.sender_id(), 7u);
  EXPECT_EQ(e.position(), 9u);
  EXPECT_FALSE(strip_message_text(e));  // idempotent

  v1::Event other;
  other.mutable_message_deleted()->set_conversation_id(3);
  EXPECT_FALSE(strip_message_text(other));
}

class MessageTextStore : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    committer_.reset();
    store_.reset();
    Result<std::unique_ptr<Store>> store = Store::open(StoreOptions{.path = dir_.data()});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
    committer_ = std::make_unique<Committer>(*store_, clock_);
  }
  std::optional<v1::Event> inbox_event(uint64_t user, uint64_t position) {
    auto raw = store_->get(Cf::kUserInbox, keys::UserInbox{.user_id = user, .position = position}.encode());
    EXPECT_TRUE(raw.is_ok());
    if (!raw.is_ok() || !raw->has_value()) return std::nullopt;
    v1::Event e;
    EXPECT_TRUE(e.ParseFromString(**raw));
    return e;
  }
  std::optional<v1::EventRecord> event_record(uint64_t position) {
    auto raw = store_->get(Cf::kEvents, keys::Event{.position = position}.encode());
    EXPECT_TRUE(raw.is_ok());
    if (!raw.is_ok() || !raw->has_value()) return std::nullopt;
    v1::EventRecord r;
    EXPECT_TRUE(r.ParseFromString(**raw));
    return r;
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Committer> committer_;
};

TEST_F(MessageTextStore, AppendEventStoresNoTextButTheSinkGetsItWhole) {
  std::vector<CommittedEvent> sunk;
  committer_->set_event_sink(
      [&](std::span<const CommittedEvent> events) { sunk.insert(sunk.end(), events.begin(), events.end()); });
  const v1::Message m = text_message(5, 1, "canary-append-7f3a9c");
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                ctx.put(Cf::kMessages, keys::Message{.conversation_id = 5, .seq = 1}.encode(),
                        m.SerializeAsString());
                v1::Event e;
                *e.mutable_message_posted()->mutable_message() = m;
                ctx.append_event(std::move(e), {7, 8});
                return Status::ok();
              }).is_ok());
  ASSERT_EQ(sunk.size(), 1u);
  v1::Event live;
  ASSERT_TRUE(live.ParseFromString(*sunk[0].bytes));
  EXPECT_EQ(live.message_posted().message().body(), "canary-append-7f3a9c");
  EXPECT_EQ(sunk[0].event->message_posted().message().body(), "canary-append-7f3a9c");

  const uint64_t position = live.position();
  auto record = event_record(position);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->event().message_posted().message().body(), "");
  EXPECT_EQ(record->event().message_posted().message().seq(), 1u);
  for (uint64_t user : {7u, 8u}) {
    auto e = inbox_event(user, position);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message_posted().message().body(), "");
    EXPECT_EQ(e->message_posted().message().conversation_id(), 5u);
  }

  // Readers get the text back from `messages`.
  v1::Event stored = *inbox_event(7, position);
  v1::Event* one[] = {&stored};
  ASSERT_TRUE(hydrate_message_events(*store_, one).is_ok());
  EXPECT_EQ(stored.message_posted().message().body(), "canary-append-7f3a9c");
}

// A store written before this change: full bodies in events and both inbox
// copies. Opening it strips them, once, and compacts the text off the disk.
TEST_F(MessageTextStore, OpeningAnOldStoreStripsTheTextFromEventsAndInboxes) {
  const std::string canary = random_canary();
  const std::string earlier = random_canary();
  const v1::Message m = text_message(5, 1, canary);
  const v1::Message edited = text_message(5, 2, earlier);
  v1::Message edited_now = edited;
  edited_now.set_body("the latest text");
  ASSERT_TRUE(
      commit_and_wait(*committer_, [&](CommitContext& ctx) {
        // The old layout, written as it was: the text in every copy.
        ctx.put(Cf::kMessages, keys::Message{.conversation_id = 5, .seq = 1}.encode(), m.SerializeAsString());
        ctx.put(Cf::kMessages, keys::Message{.conversation_id = 5, .seq = 2}.encode(),
                edited_now.SerializeAsString());
        uint64_t position = 1;
        for (const v1::Message* msg : {&m, &edited}) {
          v1::EventRecord record;
          *record.mutable_event() = posted(*msg, position);
          record.add_audience(7);
          record.add_audience(8);
          ctx.put(Cf::kEvents, keys::Event{.position = position}.encode(), record.SerializeAsString());
          for (uint64_t user : {7u, 8u}) {
            ctx.put(Cf::kUserInbox, keys::UserInbox{.user_id = user, .position = position}.encode(),
                    record.event().SerializeAsString());
          }
          ++position;
        }
        // And an edit event of the old form, with the latest text.
        v1::EventRecord record;
        *record.mutable_event()->mutable_message_edited()->mutable_message() = edited_now;
        record.mutable_event()->set_position(3);
        ctx.put(Cf::kEvents, keys::Event{.position = 3}.encode(), record.SerializeAsString());
        ctx.put(Cf::kUserInbox, keys::UserInbox{.user_id = 7, .position = 3}.encode(),
                record.event().SerializeAsString());
        // Not upgraded yet: as a store of the old binary would be (schema version 1).
        ctx.del(Cf::kMeta, keys::kUpgradeMessageTextKey);
        ctx.put(Cf::kMeta, keys::kSchemaVersionKey, encode_u64(1));
        return Status::ok();
      }).is_ok());
  committer_.reset();
  store_.reset();  // the close flushes: the old form is in table files now
  EXPECT_FALSE(files_containing(dir_.data(), earlier).empty()) << "the grep must be able to see the text";

  reopen();
  auto marker = store_->get(Cf::kMeta, keys::kUpgradeMessageTextKey);
  ASSERT_TRUE(marker.is_ok());
  EXPECT_TRUE(marker->has_value());
  // Upgraded: a binary that would send message events without their text now refuses the folder.
  auto version = store_->get(Cf::kMeta, keys::kSchemaVersionKey);
  ASSERT_TRUE(version.is_ok() && version->has_value());
  EXPECT_EQ(**version, encode_u64(kSchemaVersion));
  EXPECT_EQ(kSchemaVersion, 2u);
  for (uint64_t position : {1u, 2u, 3u}) {
    auto record = event_record(position);
    ASSERT_TRUE(record);
    EXPECT_FALSE(has_message_text(record->event())) << record->DebugString();
  }
  for (uint64_t user : {7u, 8u}) {
    for (uint64_t position : {1u, 2u, 3u}) {
      auto e = inbox_event(user, position);
      if (e) {
        EXPECT_FALSE(has_message_text(*e)) << e->DebugString();
      }
    }
  }
  // The current text is where it belongs, and readers get it.
  v1::Event a = *inbox_event(7, 1), b = *inbox_event(7, 2), c = *inbox_event(7, 3);
  v1::Event* all[] = {&a, &b, &c};
  ASSERT_TRUE(hydrate_message_events(*store_, all).is_ok());
  EXPECT_EQ(a.message_posted().message().body(), canary);
  EXPECT_EQ(b.message_posted().message().body(), "the latest text");
  EXPECT_EQ(c.message_edited().message().body(), "the latest text");

  // The earlier text was only in the old events: gone from every file.
  EXPECT_EQ(files_containing(dir_.data(), earlier), std::vector<std::string>());

  // Idempotent: a second open finds the marker and changes nothing.
  reopen();
  auto again = event_record(1);
  ASSERT_TRUE(again);
  EXPECT_FALSE(has_message_text(again->event()));
}

TEST_F(MessageTextStore, RedactorCompactsAnOverwrittenValueOffTheDisk) {
  const std::string key = keys::Message{.conversation_id = 9, .seq = 1}.encode();
  const std::string canary = random_canary();
  const std::string in_the_log = random_canary();
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                ctx.put(Cf::kMessages, key, text_message(9, 1, canary).SerializeAsString());
                return Status::ok();
              }).is_ok());
  reopen();  // into a table file
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                ctx.put(Cf::kMessages, keys::Message{.conversation_id = 9, .seq = 2}.encode(),
                        text_message(9, 2, in_the_log).SerializeAsString());
                return Status::ok();
              }).is_ok());
  EXPECT_FALSE(files_containing(dir_.data(), canary).empty());
  EXPECT_FALSE(files_containing(dir_.data(), in_the_log).empty());

  Redactor redactor(*store_);
  committer_->set_redaction_sink(
      [&](std::span<const std::pair<Cf, std::string>> keys) { redactor.note(keys); });
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                for (uint64_t seq : {1u, 2u}) {
                  const std::string k = keys::Message{.conversation_id = 9, .seq = seq}.encode();
                  v1::Message tombstone = text_message(9, seq, "");
                  tombstone.set_deleted(true);
                  ctx.put(Cf::kMessages, k, tombstone.SerializeAsString());
                  ctx.redact(Cf::kMessages, k);
                }
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(redactor.pending(), 2u);
  ASSERT_TRUE(redactor.run_once().is_ok());
  EXPECT_EQ(redactor.pending(), 0u);
  EXPECT_EQ(redactor.runs_total(), 1u);
  EXPECT_EQ(files_containing(dir_.data(), canary), std::vector<std::string>());
  EXPECT_EQ(files_containing(dir_.data(), in_the_log), std::vector<std::string>());
}

// The server dies after a deletion is durable but before the redactor ran:
// the redaction was written with the deletion, so the next start carries it
// out, and a finished run removes its durable note.
TEST_F(MessageTextStore, ARedactionCutShortByACrashIsCarriedOutAtTheNextStart) {
  const std::string key = keys::Message{.conversation_id = 9, .seq = 1}.encode();
  const std::string canary = random_canary();
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                ctx.put(Cf::kMessages, key, text_message(9, 1, canary).SerializeAsString());
                return Status::ok();
              }).is_ok());
  reopen();  // into a table file
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                v1::Message tombstone = text_message(9, 1, "");
                tombstone.set_deleted(true);
                ctx.put(Cf::kMessages, key, tombstone.SerializeAsString());
                ctx.redact(Cf::kMessages, key);
                return Status::ok();
              }).is_ok());
  // No redaction sink and no run: what a crash right after the write leaves.
  reopen();
  EXPECT_FALSE(files_containing(dir_.data(), canary).empty()) << "the grep must be able to see the text";

  Redactor redactor(*store_, committer_.get());
  ASSERT_TRUE(redactor.load_pending().is_ok());
  EXPECT_EQ(redactor.pending(), 1u);
  ASSERT_TRUE(redactor.run_once().is_ok());
  EXPECT_EQ(files_containing(dir_.data(), canary), std::vector<std::string>());
  // Its durable note is gone once the run's removal is committed.
  ASSERT_TRUE(commit_and_wait(*committer_, [](CommitContext&) { return Status::ok(); }).is_ok());
  Redactor after(*store_, committer_.get());
  ASSERT_TRUE(after.load_pending().is_ok());
  EXPECT_EQ(after.pending(), 0u);
}

TEST_F(MessageTextStore, ARejectedMutationRedactsNothing) {
  Redactor redactor(*store_);
  committer_->set_redaction_sink(
      [&](std::span<const std::pair<Cf, std::string>> keys) { redactor.note(keys); });
  Status st = commit_and_wait(*committer_, [&](CommitContext& ctx) {
    ctx.redact(Cf::kMessages, keys::Message{.conversation_id = 1, .seq = 1}.encode());
    return invalid_argument("no");
  });
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(redactor.pending(), 0u);
}

}  // namespace
}  // namespace preceptor::storage
