#include "storage/committer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "storage/keys.h"
#include "tests/storage/storage_test_util.h"

namespace preceptor::storage {
namespace {

using testing::commit_and_wait;
using testing::Completions;
using testing::ScriptedWrite;
using testing::TempDir;
using testing::test_event;

// Appends one event for `audience`, and reports its position in `*position`.
ApplyFn append(std::vector<uint64_t> audience = {1}, uint64_t* position = nullptr) {
  return [audience = std::move(audience), position](CommitContext& ctx) {
    const uint64_t p = ctx.append_event(test_event("test"), audience);
    if (position != nullptr) *position = p;
    return Status::ok();
  };
}

std::vector<uint64_t> stored_positions(const Store& store) {
  std::vector<uint64_t> positions;
  Result<ScanEnd> end = store.scan(Cf::kEvents, {}, [&](std::string_view key, std::string_view) {
    positions.push_back(keys::Event::decode(key).value_or(keys::Event{.position = 0}).position);
    return true;
  });
  EXPECT_TRUE(end.is_ok()) << end.status().to_string();
  return positions;
}

std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> v(n);
  std::iota(v.begin(), v.end(), 1);
  return v;
}

class CommitterTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  // Closes the committer and the store (if open) and opens both again.
  void reopen(CommitterOptions options = {}) {
    committer_.reset();
    store_.reset();
    Result<std::unique_ptr<Store>> store = Store::open(StoreOptions{.path = dir_.data()});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
    committer_ = std::make_unique<Committer>(*store_, clock_, options);
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Committer> committer_;
};

TEST_F(CommitterTest, PositionsFollowSubmitOrderFromOneThread) {
  constexpr size_t kCount = 200;
  std::vector<uint64_t> positions(kCount);
  Completions done(kCount);
  for (size_t i = 0; i < kCount; ++i) committer_->submit(append({1}, &positions[i]), done.slot(i));
  ASSERT_TRUE(done.wait_all());
  for (size_t i = 0; i < kCount; ++i) ASSERT_TRUE(done.at(i).is_ok()) << done.at(i).to_string();
  EXPECT_EQ(positions, one_to(kCount));
  EXPECT_EQ(committer_->last_position(), kCount);
  EXPECT_EQ(committer_->commits_total(), kCount);
  EXPECT_EQ(stored_positions(*store_), one_to(kCount));
}

TEST_F(CommitterTest, PositionsAreGapFreeAcrossThreads) {
  constexpr size_t kThreads = 8;
  constexpr size_t kPerThread = 50;
  std::vector<uint64_t> positions(kThreads * kPerThread);
  Completions done(positions.size());
  std::vector<std::thread> producers;
  for (size_t t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (size_t i = 0; i < kPerThread; ++i) {
        const size_t slot = t * kPerThread + i;
        committer_->submit(append({t + 1}, &positions[slot]), done.slot(slot));
      }
    });
  }
  for (std::thread& p : producers) p.join();
  ASSERT_TRUE(done.wait_all());
  for (size_t i = 0; i < positions.size(); ++i) ASSERT_TRUE(done.at(i).is_ok()) << done.at(i).to_string();
  // Each producer's own submissions keep their order.
  for (size_t t = 0; t < kThreads; ++t) {
    for (size_t i = 1; i < kPerThread; ++i) {
      EXPECT_LT(positions[t * kPerThread + i - 1], positions[t * kPerThread + i]);
    }
  }
  std::sort(positions.begin(), positions.end());
  EXPECT_EQ(positions, one_to(kThreads * kPerThread));
  EXPECT_EQ(stored_positions(*store_), one_to(kThreads * kPerThread));
  EXPECT_EQ(committer_->last_position(), kThreads * kPerThread);
}

TEST_F(CommitterTest, EventIsStoredWithItsAudienceAndIndexedInEachInbox) {
  uint64_t position = 0;
  ASSERT_TRUE(commit_and_wait(*committer_, append({4, 9}, &position)).is_ok());
  ASSERT_EQ(position, 1u);

  Result<std::optional<std::string>> bytes =
      store_->get(Cf::kEvents, keys::Event{.position = position}.encode());
  ASSERT_TRUE(bytes.is_ok() && bytes->has_value());
  v1::EventRecord record;
  ASSERT_TRUE(record.ParseFromString(**bytes));
  EXPECT_EQ(record.event().position(), position);
  EXPECT_EQ(record.event().time_ms(), clock_.now_ms());
  EXPECT_EQ(record.event().session_ended().reason(), "test");
  EXPECT_EQ(std::vector<uint64_t>(record.audience().begin(), record.audience().end()),
            (std::vector<uint64_t>{4, 9}));
  for (uint64_t user : {4u, 9u}) {
    Result<std::optional<std::string>> inbox =
        store_->get(Cf::kUserInbox, keys::UserInbox{.user_id = user, .position = position}.encode());
    ASSERT_TRUE(inbox.is_ok() && inbox->has_value());
    v1::Event copy;  // the inbox carries the event itself
    ASSERT_TRUE(copy.ParseFromString(**inbox));
    EXPECT_EQ(copy.SerializeAsString(), record.event().SerializeAsString());
  }
  Result<std::optional<std::string>> other =
      store_->get(Cf::kUserInbox, keys::UserInbox{.user_id = 5, .position = position}.encode());
  ASSERT_TRUE(other.is_ok());
  EXPECT_FALSE(other->has_value());
}

TEST_F(CommitterTest, MutationsWaitingDuringAWriteShareTheNextOne) {
  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());

  constexpr size_t kWaiting = 99;
  Completions done(1 + kWaiting);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());
  std::vector<std::thread> producers;
  for (size_t t = 0; t < 3; ++t) {
    producers.emplace_back([&, t] {
      for (size_t i = t; i < kWaiting; i += 3) committer_->submit(append(), done.slot(1 + i));
    });
  }
  for (std::thread& p : producers) p.join();
  write.release();
  ASSERT_TRUE(done.wait_all());
  for (size_t i = 0; i <= kWaiting; ++i) ASSERT_TRUE(done.at(i).is_ok()) << done.at(i).to_string();

  EXPECT_LT(committer_->groups_total(), committer_->commits_total());
  EXPECT_EQ(committer_->commits_total(), 1 + kWaiting);
  EXPECT_EQ(committer_->groups_total(), 2u);  // the held one, then everything that waited
  EXPECT_EQ(write.calls(), 2);
  const Histogram::Snapshot sizes = committer_->batch_sizes().snapshot();
  EXPECT_EQ(sizes.count, 2u);
  EXPECT_EQ(sizes.sum, 1.0 + kWaiting);
  EXPECT_EQ(committer_->commit_latency_seconds().snapshot().count, 1 + kWaiting);
  EXPECT_EQ(committer_->write_seconds().snapshot().count, 2u);
  EXPECT_EQ(stored_positions(*store_), one_to(1 + kWaiting));
}

TEST_F(CommitterTest, GroupsAreCappedAtMaxBatch) {
  reopen(CommitterOptions{.max_batch = 4});
  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());

  Completions done(11);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());
  for (size_t i = 1; i < 11; ++i) committer_->submit(append(), done.slot(i));
  write.release();
  ASSERT_TRUE(done.wait_all());
  EXPECT_EQ(committer_->commits_total(), 11u);
  EXPECT_EQ(committer_->groups_total(), 4u);  // 1, then 4 + 4 + 2
  EXPECT_EQ(stored_positions(*store_), one_to(11));
}

TEST_F(CommitterTest, FullQueueRefusesAtOnceWithRetryAfterAndLosesNothingTaken) {
  reopen(CommitterOptions{.max_batch = 4, .max_queue = 10});
  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());

  Completions done(1 + 10);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());  // the committer holds that group: the rest waits
  for (size_t i = 1; i <= 10; ++i) committer_->submit(append(), done.slot(i));

  // The eleventh waiting mutation is refused on the caller's thread.
  std::optional<Status> refused;
  committer_->submit(append(), [&](const Status& s) { refused = s; });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_GT(refused->retry_after_ms(), 0);
  EXPECT_NE(refused->message().find("busy"), std::string::npos) << refused->message();
  EXPECT_EQ(committer_->refused_busy_total(), 1u);

  write.release();
  ASSERT_TRUE(done.wait_all());
  for (size_t i = 0; i <= 10; ++i) EXPECT_TRUE(done.at(i).is_ok()) << i;
  EXPECT_EQ(stored_positions(*store_), one_to(11));
  EXPECT_TRUE(committer_->running());  // busy is not a failure: later work is taken again
  std::promise<Status> later;
  committer_->submit(append(), [&](const Status& s) { later.set_value(s); });
  EXPECT_TRUE(later.get_future().get().is_ok());
}

TEST_F(CommitterTest, RejectedMutationGivesBackItsPositionsIdsAndWrites) {
  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());

  // After the held group (position 1), one group: a (ok), b (appends, takes
  // an id, writes, then fails), c (ok).
  uint64_t pa = 0, pb = 0, pc = 0, ida = 0, idb = 0, idc = 0;
  Completions done(4);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());
  committer_->submit(
      [&](CommitContext& ctx) {
        pa = ctx.append_event(test_event("a"), {1});
        ida = ctx.next_id("user");
        return Status::ok();
      },
      done.slot(1));
  committer_->submit(
      [&](CommitContext& ctx) {
        pb = ctx.append_event(test_event("b"), {2});
        idb = ctx.next_id("user");
        ctx.put(Cf::kUsernames, "bob", encode_u64(idb));
        return already_exists("The username bob is taken.", "username");
      },
      done.slot(2));
  committer_->submit(
      [&](CommitContext& ctx) {
        pc = ctx.append_event(test_event("c"), {3});
        idc = ctx.next_id("user");
        return Status::ok();
      },
      done.slot(3));
  write.release();
  ASSERT_TRUE(done.wait_all());

  EXPECT_TRUE(done.at(1).is_ok());
  EXPECT_EQ(done.at(2).code(), v1::ERROR_CODE_ALREADY_EXISTS);
  EXPECT_EQ(done.at(2).message(), "The username bob is taken.");
  EXPECT_TRUE(done.at(3).is_ok());
  EXPECT_EQ(pa, 2u);
  EXPECT_EQ(pb, 3u);
  EXPECT_EQ(pc, 3u);  // b's position, given back
  EXPECT_EQ(ida, 1u);
  EXPECT_EQ(idb, 2u);
  EXPECT_EQ(idc, 2u);  // b's id, given back
  EXPECT_EQ(committer_->last_position(), 3u);
  EXPECT_EQ(committer_->commits_total(), 3u);  // the held one, a and c
  EXPECT_EQ(committer_->groups_total(), 2u);
  EXPECT_EQ(stored_positions(*store_), one_to(3));
  Result<std::optional<std::string>> bob = store_->get(Cf::kUsernames, "bob");
  ASSERT_TRUE(bob.is_ok());
  EXPECT_FALSE(bob->has_value());
  // The stored event at 3 is c's, indexed for c's audience only.
  Result<std::optional<std::string>> bytes = store_->get(Cf::kEvents, keys::Event{.position = 3}.encode());
  ASSERT_TRUE(bytes.is_ok() && bytes->has_value());
  v1::EventRecord record;
  ASSERT_TRUE(record.ParseFromString(**bytes));
  EXPECT_EQ(record.event().session_ended().reason(), "c");
  Result<std::optional<std::string>> b_inbox =
      store_->get(Cf::kUserInbox, keys::UserInbox{.user_id = 2, .position = 3}.encode());
  ASSERT_TRUE(b_inbox.is_ok());
  EXPECT_FALSE(b_inbox->has_value());
}

TEST_F(CommitterTest, ThrowingApplyIsInternalAndRejectsOnlyThatMutation) {
  Completions done(3);
  committer_->submit(append(), done.slot(0));
  committer_->submit(
      [](CommitContext& ctx) -> Status {
        ctx.append_event(test_event("x"), {1});
        throw std::runtime_error("boom");
      },
      done.slot(1));
  committer_->submit(append(), done.slot(2));
  ASSERT_TRUE(done.wait_all());
  EXPECT_TRUE(done.at(0).is_ok());
  EXPECT_EQ(done.at(1).code(), v1::ERROR_CODE_INTERNAL);
  EXPECT_EQ(done.at(1).message().find("boom"), std::string::npos) << "the client is not told internals";
  EXPECT_NE(done.at(1).detail().find("boom"), std::string::npos) << done.at(1).to_string();
  EXPECT_TRUE(done.at(2).is_ok());
  EXPECT_TRUE(committer_->running());
  EXPECT_EQ(stored_positions(*store_), one_to(2));
}

TEST_F(CommitterTest, GetSeesEarlierMutationsOfTheSameGroup) {
  ASSERT_TRUE(commit_and_wait(*committer_, [](CommitContext& ctx) {
                ctx.put(Cf::kUsernames, "on-disk", "d");
                return Status::ok();
              }).is_ok());

  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());
  Completions done(5);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());

  std::optional<std::string> seen_by_b, own_write_b, seen_by_d, disk_by_d;
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kUsernames, "k", "1");
        return Status::ok();
      },
      done.slot(1));
  committer_->submit(
      [&](CommitContext& ctx) {
        seen_by_b = ctx.get(Cf::kUsernames, "k").value();
        ctx.put(Cf::kUsernames, "k", "2");
        own_write_b = ctx.get(Cf::kUsernames, "k").value();
        return Status::ok();
      },
      done.slot(2));
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.del(Cf::kUsernames, "k");
        ctx.del(Cf::kUsernames, "on-disk");
        return Status::ok();
      },
      done.slot(3));
  committer_->submit(
      [&](CommitContext& ctx) {
        seen_by_d = ctx.get(Cf::kUsernames, "k").value();
        disk_by_d = ctx.get(Cf::kUsernames, "on-disk").value();
        return Status::ok();
      },
      done.slot(4));
  write.release();
  ASSERT_TRUE(done.wait_all());
  for (size_t i = 0; i < 5; ++i) ASSERT_TRUE(done.at(i).is_ok()) << done.at(i).to_string();
  EXPECT_EQ(committer_->groups_total(), 3u);  // the setup, the held write, then b..d together
  EXPECT_EQ(seen_by_b, "1");
  EXPECT_EQ(own_write_b, "2");
  EXPECT_EQ(seen_by_d, std::nullopt);
  EXPECT_EQ(disk_by_d, std::nullopt);
  Result<std::optional<std::string>> on_disk = store_->get(Cf::kUsernames, "on-disk");
  ASSERT_TRUE(on_disk.is_ok());
  EXPECT_FALSE(on_disk->has_value());
}

// The mentorship ids of user 1 (user_mentorships), as a mutation scanning
// them sees them; `limits` as for CommitContext::scan.
std::vector<uint64_t> mentorships_of_user_1(CommitContext& ctx, ScanEnd* end = nullptr,
                                            ScanLimits limits = {}) {
  std::vector<uint64_t> ids;
  Result<ScanEnd> scanned = ctx.scan_prefix(
      Cf::kUserMentorships, keys::UserMentorship::prefix(1),
      [&](std::string_view key, std::string_view) {
        ids.push_back(keys::UserMentorship::decode(key).value().mentorship_id);
        return true;
      },
      limits);
  EXPECT_TRUE(scanned.is_ok()) << scanned.status().to_string();
  if (end != nullptr && scanned.is_ok()) *end = *scanned;
  return ids;
}

std::string user_mentorship(uint64_t user, uint64_t mentorship) {
  return keys::UserMentorship{.user_id = user, .mentorship_id = mentorship}.encode();
}

TEST_F(CommitterTest, ScanSeesEarlierMutationsOfTheGroupInKeyOrderAmongStoredKeys) {
  // On disk: user 1's mentorships 2, 4 and 6, and user 2's 3 (outside the scan).
  ASSERT_TRUE(commit_and_wait(*committer_, [](CommitContext& ctx) {
                for (uint64_t id : {2, 4, 6}) ctx.put(Cf::kUserMentorships, user_mentorship(1, id), "");
                ctx.put(Cf::kUserMentorships, user_mentorship(2, 3), "");
                return Status::ok();
              }).is_ok());

  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());
  Completions done(5);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());

  // One group: a writes and deletes, b scans (and writes, and scans again),
  // c writes and is rejected, d scans.
  std::vector<uint64_t> seen_by_b, seen_by_b_after_own_write, seen_by_d;
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kUserMentorships, user_mentorship(1, 5), "");
        ctx.put(Cf::kUserMentorships, user_mentorship(1, 3), "");
        ctx.del(Cf::kUserMentorships, user_mentorship(1, 4));
        return Status::ok();
      },
      done.slot(1));
  committer_->submit(
      [&](CommitContext& ctx) {
        seen_by_b = mentorships_of_user_1(ctx);
        ctx.put(Cf::kUserMentorships, user_mentorship(1, 7), "");
        seen_by_b_after_own_write = mentorships_of_user_1(ctx);
        return Status::ok();
      },
      done.slot(2));
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kUserMentorships, user_mentorship(1, 1), "");
        return failed_precondition("rejected on purpose");
      },
      done.slot(3));
  committer_->submit(
      [&](CommitContext& ctx) {
        seen_by_d = mentorships_of_user_1(ctx);
        return Status::ok();
      },
      done.slot(4));
  write.release();
  ASSERT_TRUE(done.wait_all());
  EXPECT_EQ(committer_->groups_total(), 3u);  // the setup, the held write, then a..d together
  EXPECT_EQ(done.at(3).code(), v1::ERROR_CODE_FAILED_PRECONDITION);

  // 3 and 5 put earlier in the group, 4 deleted earlier in the group, in key order among 2 and 6 on disk.
  EXPECT_EQ(seen_by_b, (std::vector<uint64_t>{2, 3, 5, 6}));
  EXPECT_EQ(seen_by_b_after_own_write, (std::vector<uint64_t>{2, 3, 5, 6, 7}));
  EXPECT_EQ(seen_by_d, (std::vector<uint64_t>{2, 3, 5, 6, 7}));  // not c's 1: rejected
  // And the disk agrees once the group is written.
  std::vector<uint64_t> stored;
  ASSERT_TRUE(store_
                  ->scan_prefix(Cf::kUserMentorships, keys::UserMentorship::prefix(1),
                                [&](std::string_view key, std::string_view) {
                                  stored.push_back(keys::UserMentorship::decode(key)->mentorship_id);
                                  return true;
                                })
                  .is_ok());
  EXPECT_EQ(stored, seen_by_d);
}

TEST_F(CommitterTest, ScanInAMutationPagesOverTheMergedView) {
  ASSERT_TRUE(commit_and_wait(*committer_, [](CommitContext& ctx) {
                for (uint64_t id : {2, 4}) ctx.put(Cf::kUserMentorships, user_mentorship(1, id), "");
                return Status::ok();
              }).is_ok());
  ScanEnd first_end = ScanEnd::kEndOfRange;
  ScanEnd last_end = ScanEnd::kLimitReached;
  std::vector<uint64_t> first, last;
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                ctx.put(Cf::kUserMentorships, user_mentorship(1, 3), "");
                first = mentorships_of_user_1(ctx, &first_end, {.max_entries = 2});
                last = mentorships_of_user_1(ctx, &last_end, {.max_entries = 3});
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(first, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(first_end, ScanEnd::kLimitReached);
  EXPECT_EQ(last, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(last_end, ScanEnd::kEndOfRange);
}

// Revoking every token of a user reads the index and deletes as it goes.
TEST_F(CommitterTest, ScanInAMutationMayWriteAsItGoes) {
  ASSERT_TRUE(commit_and_wait(*committer_, [](CommitContext& ctx) {
                for (uint64_t id : {2, 4}) ctx.put(Cf::kUserMentorships, user_mentorship(1, id), "");
                return Status::ok();
              }).is_ok());
  std::vector<uint64_t> deleted, left;
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) -> Status {
                ctx.put(Cf::kUserMentorships, user_mentorship(1, 3), "");
                Result<ScanEnd> end =
                    ctx.scan_prefix(Cf::kUserMentorships, keys::UserMentorship::prefix(1),
                                    [&](std::string_view key, std::string_view) {
                                      ctx.del(Cf::kUserMentorships, key);
                                      deleted.push_back(keys::UserMentorship::decode(key)->mentorship_id);
                                      return true;
                                    });
                if (!end) return end.status();
                left = mentorships_of_user_1(ctx);
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(deleted, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_TRUE(left.empty());
  EXPECT_TRUE(store_
                  ->scan_prefix(Cf::kUserMentorships, "",
                                [](std::string_view, std::string_view) {
                                  ADD_FAILURE() << "a deleted entry is still stored";
                                  return true;
                                })
                  .is_ok());
}

// Kept families hold values of earlier groups in memory too; a scan merges
// those with the disk without showing anything twice.
TEST_F(CommitterTest, ScanOfAKeptFamilySeesEachKeyOnce) {
  static_assert(kept_by_committer(Cf::kConversations));
  auto conversation = [](uint64_t id) { return keys::Conversation{.conversation_id = id}.encode(); };
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                ctx.put(Cf::kConversations, conversation(1), "1a");
                ctx.put(Cf::kConversations, conversation(2), "2a");
                return Status::ok();
              }).is_ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) -> Status {
                ctx.put(Cf::kConversations, conversation(2), "2b");
                ctx.put(Cf::kConversations, conversation(3), "3b");
                Result<ScanEnd> end =
                    ctx.scan(Cf::kConversations, {}, [&](std::string_view, std::string_view value) {
                      seen.emplace_back(value);
                      return true;
                    });
                return end.status();
              }).is_ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"1a", "2b", "3b"}));
}

// Conversations are a family the committer keeps in memory across groups:
// a later group must read the last committed value, never one of a rejected
// mutation, and a reopened committer reads the disk.
TEST_F(CommitterTest, KeptFamiliesReadTheLastCommittedValueAcrossGroups) {
  static_assert(kept_by_committer(Cf::kConversations));
  auto write_value = [](std::string value, bool reject) {
    return [value = std::move(value), reject](CommitContext& ctx) {
      ctx.put(Cf::kConversations, "c", value);
      return reject ? failed_precondition("rejected on purpose") : Status::ok();
    };
  };
  auto read_value = [this] {
    std::optional<std::string> seen;
    EXPECT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                  seen = ctx.get(Cf::kConversations, "c").value();
                  return Status::ok();
                }).is_ok());
    return seen;
  };
  ASSERT_TRUE(commit_and_wait(*committer_, write_value("1", false)).is_ok());
  EXPECT_EQ(read_value(), "1");
  ASSERT_TRUE(commit_and_wait(*committer_, write_value("2", false)).is_ok());
  EXPECT_FALSE(commit_and_wait(*committer_, write_value("3", true)).is_ok());
  EXPECT_EQ(read_value(), "2");
  ASSERT_TRUE(commit_and_wait(*committer_, [](CommitContext& ctx) {
                ctx.del(Cf::kConversations, "c");
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(read_value(), std::nullopt);
  ASSERT_TRUE(commit_and_wait(*committer_, write_value("4", false)).is_ok());
  reopen();
  EXPECT_EQ(read_value(), "4");
}

TEST_F(CommitterTest, WriteErrorFailsItsGroupAndEverythingAfter) {
  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  write.fail_call(2);
  committer_->set_write_fn_for_test(write.fn());

  constexpr size_t kInFailedGroup = 5;
  Completions done(1 + kInFailedGroup);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());
  for (size_t i = 1; i <= kInFailedGroup; ++i) committer_->submit(append(), done.slot(i));
  write.release();
  ASSERT_TRUE(done.wait_all());

  EXPECT_TRUE(done.at(0).is_ok());
  for (size_t i = 1; i <= kInFailedGroup; ++i) {
    EXPECT_EQ(done.at(i).code(), v1::ERROR_CODE_UNAVAILABLE) << i;
    // The client reads a sentence that says what to do; the file and
    // RocksDB's words are only for the operator's log.
    v1::Error sent;
    done.at(i).to_proto(&sent);
    EXPECT_NE(sent.message().find("may still appear after the server restarts"), std::string::npos)
        << sent.message();
    EXPECT_EQ(sent.message().find("000042.log"), std::string::npos) << sent.message();
    EXPECT_EQ(sent.message().find("injected"), std::string::npos) << sent.message();
    EXPECT_NE(done.at(i).detail().find("/srv/preceptor/data/000042.log"), std::string::npos);
    EXPECT_NE(done.at(i).to_string().find("injected by the test"), std::string::npos);
  }
  EXPECT_FALSE(committer_->running());
  EXPECT_EQ(committer_->last_position(), 1u);

  // Later submissions fail at once, on the calling thread, without a write.
  std::optional<Status> later;
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id completed_on;
  committer_->submit(append(), [&](const Status& s) {
    later = s;
    completed_on = std::this_thread::get_id();
  });
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(completed_on, caller);
  EXPECT_EQ(later->code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_EQ(later->message(),
            "The server's database is not accepting writes after an I/O error; restart it.");
  EXPECT_EQ(write.calls(), 2);

  // After a restart only the first group is on disk, and positions go on from it.
  reopen();
  EXPECT_EQ(store_->last_position_at_open(), 1u);
  EXPECT_EQ(stored_positions(*store_), one_to(1));
  uint64_t position = 0;
  ASSERT_TRUE(commit_and_wait(*committer_, append({1}, &position)).is_ok());
  EXPECT_EQ(position, 2u);
}

TEST_F(CommitterTest, SinkGetsEventsInOrderOnceDurableAndBeforeDone) {
  std::mutex mu;
  std::vector<uint64_t> sunk;
  std::vector<std::string> problems;
  committer_->set_event_sink([&](std::span<const CommittedEvent> events) {
    std::lock_guard lock(mu);
    for (const CommittedEvent& e : events) {
      // Durable means readable by anyone, through the store, right now.
      Result<std::optional<std::string>> stored =
          store_->get(Cf::kEvents, keys::Event{.position = e.event->position()}.encode());
      if (!stored.is_ok() || !stored->has_value())
        problems.push_back("not readable: " + std::to_string(e.event->position()));
      if (e.event->time_ms() != clock_.now_ms()) problems.push_back("time_ms not set");
      if (!e.audience || e.audience->size() != 1) problems.push_back("audience missing");
      sunk.push_back(e.event->position());
    }
  });

  constexpr size_t kThreads = 4;
  constexpr size_t kPerThread = 50;
  std::vector<uint64_t> positions(kThreads * kPerThread);
  Completions done(positions.size());
  std::vector<std::thread> producers;
  for (size_t t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (size_t i = 0; i < kPerThread; ++i) {
        const size_t slot = t * kPerThread + i;
        DoneFn record = done.slot(slot);
        committer_->submit(append({t}, &positions[slot]), [&, slot, record](const Status& s) {
          {
            std::lock_guard lock(mu);
            if (std::find(sunk.begin(), sunk.end(), positions[slot]) == sunk.end()) {
              problems.push_back("done before sink: " + std::to_string(positions[slot]));
            }
          }
          record(s);
        });
      }
    });
  }
  for (std::thread& p : producers) p.join();
  ASSERT_TRUE(done.wait_all());
  std::lock_guard lock(mu);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(sunk, one_to(kThreads * kPerThread));
}

// Fan-out to live sessions can be slow (a user with many devices, slow
// strands); it must not hold back the next commit. The sink blocks on the
// first group's events; a later mutation must still become durable (readable
// through the store) meanwhile, and its reply follows the first one's.
TEST_F(CommitterTest, SlowFanOutDoesNotHoldBackTheNextCommit) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> sink_entered;
  std::atomic<bool> first = true;
  committer_->set_event_sink([&](std::span<const CommittedEvent>) {
    if (first.exchange(false)) {
      sink_entered.set_value();
      released.wait();
    }
  });
  std::mutex mu;
  std::vector<int> replies;
  auto reply = [&](int n) {
    return [&, n](const Status& s) {
      EXPECT_TRUE(s.is_ok()) << s.to_string();
      std::lock_guard lock(mu);
      replies.push_back(n);
    };
  };
  committer_->submit(append({1}), reply(1));
  sink_entered.get_future().wait();  // the first group is written; its fan-out is stuck

  std::promise<void> second_done;
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kMeta, "second", "written");
        return Status::ok();
      },
      [&, r = reply(2)](const Status& s) {
        r(s);
        second_done.set_value();
      });
  bool durable = false;
  for (int i = 0; i < 10000 && !durable; ++i) {  // up to 10 s
    Result<std::optional<std::string>> got = store_->get(Cf::kMeta, "second");
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    durable = got->has_value();
    if (!durable) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(durable) << "the second mutation waited for the first one's fan-out";
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(replies.empty()) << "a reply overtook the events before it";
  }
  release.set_value();
  second_done.get_future().wait();
  std::lock_guard lock(mu);
  EXPECT_EQ(replies, (std::vector<int>{1, 2}));
}

// A session must get the reply to its request between the events before and
// after it, and not the events its reply carries: the sink is called per
// mutation, just before that mutation's done, with the submitter's origin on
// the events appended `in_reply`.
TEST_F(CommitterTest, EachMutationsEventsReachTheSinkJustBeforeItsDoneWithItsOrigin) {
  std::mutex mu;
  std::vector<std::string> trail;
  committer_->set_event_sink([&](std::span<const CommittedEvent> events) {
    std::lock_guard lock(mu);
    for (const CommittedEvent& e : events) {
      trail.push_back("event " + std::to_string(e.event->position()) + " answered to " +
                      std::to_string(e.carried_in_reply_to));
    }
  });
  auto note_done = [&](std::string what, Completions& done, size_t slot) {
    DoneFn record = done.slot(slot);
    return [&, what, record](const Status& s) {
      {
        std::lock_guard lock(mu);
        trail.push_back(what);
      }
      record(s);
    };
  };
  Completions done(4);
  // The first mutation holds the committer until the other three wait, so
  // those three form one group.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  committer_->submit(
      [released](CommitContext&) {
        released.wait();
        return Status::ok();
      },
      note_done("done blocker", done, 0));
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.append_event(test_event("sent"), {1, 2}, InReply::kCarried);
        return Status::ok();
      },
      note_done("done 11", done, 1), /*origin=*/11);
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.append_event(test_event("first"), {1});
        ctx.append_event(test_event("second"), {2});
        return Status::ok();
      },
      note_done("done 12", done, 2), /*origin=*/12);
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kUsernames, "quiet", "1");
        return Status::ok();
      },
      note_done("done 13", done, 3), /*origin=*/13);
  release.set_value();
  ASSERT_TRUE(done.wait_all());

  std::lock_guard lock(mu);
  EXPECT_EQ(trail, (std::vector<std::string>{"done blocker", "event 1 answered to 11", "done 11",
                                             "event 2 answered to 0", "event 3 answered to 0", "done 12",
                                             "done 13"}));
}

TEST_F(CommitterTest, SinkIsNotCalledForRejectedEvents) {
  std::vector<uint64_t> sunk;  // committer thread only, read after done
  committer_->set_event_sink([&](std::span<const CommittedEvent> events) {
    for (const CommittedEvent& e : events) sunk.push_back(e.event->position());
  });
  Status rejected = commit_and_wait(*committer_, [](CommitContext& ctx) {
    ctx.append_event(test_event("no"), {1});
    return invalid_argument("no");
  });
  EXPECT_EQ(rejected.code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  ASSERT_TRUE(commit_and_wait(*committer_, append()).is_ok());
  EXPECT_EQ(sunk, one_to(1));
}

// What the watcher saw, as "put key=value" / "del key", in order.
struct Watched {
  std::mutex mu;
  std::vector<std::string> seen;
  void add(std::span<const WatchedWrite> writes) {
    std::lock_guard lock(mu);
    for (const WatchedWrite& w : writes) {
      EXPECT_EQ(w.cf, Cf::kUserBusy);
      seen.push_back(w.value ? "put " + w.key + "=" + *w.value : "del " + w.key);
    }
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mu);
    return seen;
  }
};

TEST_F(CommitterTest, WriteWatcherGetsTheDurableWritesOfItsFamiliesBeforeTheirDone) {
  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());
  Watched watched;
  committer_->set_write_watcher(std::array{Cf::kUserBusy},
                                [&](std::span<const WatchedWrite> writes) { watched.add(writes); });
  // The first group: a watched put, delete and put again; its `done` sees
  // them. The next: a rejected mutation's watched put, an unwatched family's put.
  Completions c(3);
  std::vector<std::string> seen_at_done;
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kUserBusy, "a", "1");
        ctx.del(Cf::kUserBusy, "b");
        ctx.put(Cf::kUserBusy, "a", "2");
        return Status::ok();
      },
      [&](const Status& s) {
        seen_at_done = watched.get();
        c.slot(0)(s);
      });
  ASSERT_TRUE(write.wait_held());
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kUserBusy, "c", "never");
        return invalid_argument("no");
      },
      c.slot(1));
  committer_->submit(
      [](CommitContext& ctx) {
        ctx.put(Cf::kUsernames, "d", "unwatched");
        ctx.put(Cf::kUserBusy, "e", "3");
        return Status::ok();
      },
      c.slot(2));
  EXPECT_TRUE(watched.get().empty()) << "nothing before the write is durable";
  write.release();
  ASSERT_TRUE(c.wait_all());
  EXPECT_TRUE(c.at(0).is_ok());
  EXPECT_EQ(c.at(1).code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_TRUE(c.at(2).is_ok());
  // `done` runs on the fan-out thread, so the next group's write may already
  // be durable and watched by then: the first group's writes come first.
  const std::vector<std::string> after_first = {"put a=1", "del b", "put a=2"};
  ASSERT_GE(seen_at_done.size(), after_first.size());
  EXPECT_EQ(std::vector<std::string>(seen_at_done.begin(), seen_at_done.begin() + std::ssize(after_first)),
            after_first);
  EXPECT_EQ(watched.get(), (std::vector<std::string>{"put a=1", "del b", "put a=2", "put e=3"}));

  // A failed write is not reported: the store never got it. (The next call,
  // not a numbered one: how the mutations above were grouped, and so how
  // many writes they took, depends on the machine's timing.)
  write.fail_next_call();
  EXPECT_FALSE(commit_and_wait(*committer_, [](CommitContext& ctx) {
                 ctx.put(Cf::kUserBusy, "f", "lost");
                 return Status::ok();
               }).is_ok());
  EXPECT_EQ(watched.get().size(), 4u);
}

TEST_F(CommitterTest, GroupWithoutWritesSkipsTheWrite) {
  ScriptedWrite write(StoreTestAccess::db(*store_));
  committer_->set_write_fn_for_test(write.fn());
  EXPECT_TRUE(commit_and_wait(*committer_, [](CommitContext&) { return Status::ok(); }).is_ok());
  EXPECT_EQ(commit_and_wait(*committer_,
                            [](CommitContext& ctx) {
                              ctx.put(Cf::kUsernames, "x", "y");
                              return not_found("nope");
                            })
                .code(),
            v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(write.calls(), 0);
  EXPECT_EQ(committer_->commits_total(), 1u);
  ASSERT_TRUE(commit_and_wait(*committer_, append()).is_ok());
  EXPECT_EQ(write.calls(), 1);
}

TEST_F(CommitterTest, NextIdCountsPerKindAndSurvivesReopen) {
  std::vector<uint64_t> ids;
  auto take = [&](std::string kind) {
    return [&ids, kind](CommitContext& ctx) {
      ids.push_back(ctx.next_id(kind));
      return Status::ok();
    };
  };
  ASSERT_TRUE(commit_and_wait(*committer_, take("user")).is_ok());
  ASSERT_TRUE(commit_and_wait(*committer_, take("user")).is_ok());
  ASSERT_TRUE(commit_and_wait(*committer_, take("conversation")).is_ok());
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                ids.push_back(ctx.next_id("user"));
                ids.push_back(ctx.next_id("user"));
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 1, 3, 4}));

  reopen();
  ids.clear();
  ASSERT_TRUE(commit_and_wait(*committer_, take("user")).is_ok());
  ASSERT_TRUE(commit_and_wait(*committer_, take("conversation")).is_ok());
  ASSERT_TRUE(commit_and_wait(*committer_, take("meeting")).is_ok());
  EXPECT_EQ(ids, (std::vector<uint64_t>{5, 2, 1}));
}

TEST_F(CommitterTest, UnreadableCounterRejectsOnlyThatMutation) {
  ASSERT_TRUE(commit_and_wait(*committer_, [](CommitContext& ctx) {
                ctx.put(Cf::kMeta, "next_id/user", "garbage");
                return Status::ok();
              }).is_ok());
  Status bad = commit_and_wait(*committer_, [](CommitContext& ctx) {
    ctx.append_event(test_event("x"), {1});
    ctx.next_id("user");
    return Status::ok();
  });
  EXPECT_EQ(bad.code(), v1::ERROR_CODE_DATA_LOSS);
  EXPECT_NE(bad.message().find("next_id/user"), std::string::npos) << bad.message();
  EXPECT_TRUE(committer_->running());
  uint64_t position = 0;
  ASSERT_TRUE(commit_and_wait(*committer_, append({1}, &position)).is_ok());
  EXPECT_EQ(position, 1u);
}

TEST_F(CommitterTest, PositionsContinueAfterReopen) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(commit_and_wait(*committer_, append()).is_ok());
  reopen();
  EXPECT_EQ(store_->last_position_at_open(), 3u);
  EXPECT_EQ(committer_->last_position(), 3u);
  uint64_t position = 0;
  ASSERT_TRUE(commit_and_wait(*committer_, append({1}, &position)).is_ok());
  EXPECT_EQ(position, 4u);
}

TEST_F(CommitterTest, StopCompletesQueuedWorkThenRefuses) {
  ScriptedWrite write(StoreTestAccess::db(*store_));
  write.hold_first_call();
  committer_->set_write_fn_for_test(write.fn());

  constexpr size_t kCount = 21;
  Completions done(kCount);
  committer_->submit(append(), done.slot(0));
  ASSERT_TRUE(write.wait_held());
  for (size_t i = 1; i < kCount; ++i) committer_->submit(append(), done.slot(i));

  std::thread stopper([&] { committer_->stop(); });
  // stop() has taken effect (no new work) while 20 mutations still wait.
  ASSERT_TRUE(testing::wait_until([&] { return !committer_->running(); }));
  EXPECT_EQ(done.completed(), 0u);
  write.release();
  stopper.join();

  // stop() returned only after everything queued was completed.
  EXPECT_EQ(done.completed(), kCount);
  for (size_t i = 0; i < kCount; ++i) EXPECT_TRUE(done.at(i).is_ok()) << done.at(i).to_string();
  EXPECT_EQ(stored_positions(*store_), one_to(kCount));

  std::optional<Status> later;
  committer_->submit(append(), [&](const Status& s) { later = s; });
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_EQ(later->message(), "The server is shutting down; try again in a moment.");
  committer_->stop();  // idempotent
}

TEST_F(CommitterTest, CommitTimeIsOneClockReadPerGroup) {
  uint64_t p1 = 0;
  ASSERT_TRUE(commit_and_wait(*committer_, append({1}, &p1)).is_ok());
  clock_.advance_ms(5000);
  int64_t seen = 0;
  ASSERT_TRUE(commit_and_wait(*committer_, [&](CommitContext& ctx) {
                seen = ctx.now_ms();
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(seen, clock_.now_ms());
}

}  // namespace
}  // namespace preceptor::storage
