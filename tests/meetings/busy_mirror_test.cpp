// The busy mirror (server/services/busy_mirror.h) against a real store and
// committer: what it answers is what the store holds, while writes race its
// loads, and it stays inside its bounds.

#include "server/services/busy_mirror.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::services {
namespace {

using storage::Cf;
constexpr int64_t kDay = 24LL * 60 * 60 * 1000;
constexpr int64_t kBase = 1'780'000'000'000;  // June 2026

std::string key(uint64_t user, int64_t start, uint64_t meeting) {
  return storage::keys::UserMeeting{
      .user_id = user, .start_ms = static_cast<uint64_t>(start), .meeting_id = meeting}
      .encode();
}

class BusyMirrorTest : public ::testing::Test {
 protected:
  BusyMirrorTest() {
    auto store = storage::Store::open(storage::StoreOptions{.path = dir_.data()});
    if (!store) throw std::runtime_error(store.status().to_string());
    store_ = std::move(*store);
    mirror_ = std::make_unique<BusyMirror>(*store_);
    committer_ = std::make_unique<storage::Committer>(*store_, clock_);
    committer_->set_write_watcher(std::array{Cf::kUserBusy},
                                  [this](std::span<const storage::WatchedWrite> w) { mirror_->apply(w); });
  }
  ~BusyMirrorTest() override { committer_->stop(); }

  // Commits `apply` and waits for it.
  void commit(storage::ApplyFn apply) {
    std::promise<Status> done;
    committer_->submit(std::move(apply), [&](const Status& s) { done.set_value(s); });
    Status s = done.get_future().get();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  // What the store holds for `user` in [from, to), as BusyEntry.
  std::vector<BusyEntry> stored(uint64_t user, int64_t from, int64_t to) {
    std::vector<BusyEntry> out;
    auto scanned =
        store_->scan(Cf::kUserBusy, {.begin = key(user, from, 0), .end = key(user, to, 0)},
                     [&](std::string_view k, std::string_view v) {
                       auto parsed = storage::keys::UserMeeting::decode(k);
                       out.push_back(BusyEntry{.start_ms = static_cast<int64_t>(parsed->start_ms),
                                               .meeting_id = parsed->meeting_id,
                                               .end_ms = static_cast<int64_t>(*storage::decode_u64(v)),
                                               .holders = v.size() >= 16 ? *storage::decode_u64(v, 8) : 0});
                       return true;
                     });
    EXPECT_TRUE(scanned.is_ok());
    return out;
  }

  std::vector<BusyEntry> mirrored(uint64_t user, int64_t from, int64_t to) {
    auto got = mirror_->entries(user, from, to);
    EXPECT_TRUE(got.is_ok()) << got.status().to_string();
    return got.is_ok() ? *got : std::vector<BusyEntry>{};
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<BusyMirror> mirror_;
  std::unique_ptr<storage::Committer> committer_;
};

TEST_F(BusyMirrorTest, AnswersWhatTheStoreHoldsWhileWritesRaceItsLoads) {
  // A meeting at start s (end s + 30 min), and a shared slot entry whose
  // holders count goes up and down, for two users; the reader keeps forcing
  // the copy of user 7 to load again (two ranges no one copy covers).
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    std::mt19937_64 rng(12);
    for (int i = 0; i < 3000; ++i) {
      const uint64_t user = rng() % 4 == 0 ? 8 : 7;
      const int64_t start = kBase + static_cast<int64_t>(rng() % 40) * kDay / 4;
      const uint64_t meeting = rng() % 3;  // 0: the slot entry
      const int op = static_cast<int>(rng() % 3);
      const uint64_t holders = 1 + rng() % 25;
      commit([=](storage::CommitContext& ctx) {
        const std::string k = key(user, start, meeting);
        if (op == 0) {
          ctx.del(Cf::kUserBusy, k);
        } else {
          std::string v = storage::encode_u64(static_cast<uint64_t>(start + 1'800'000));
          if (meeting == 0) v += storage::encode_u64(holders);
          ctx.put(Cf::kUserBusy, k, v);
        }
        return Status::ok();
      });
    }
    writing = false;
  });
  int reads = 0;
  while (writing) {
    mirrored(7, kBase, kBase + 10 * kDay);
    mirrored(7, kBase + 70 * kDay, kBase + 80 * kDay);
    mirrored(8, kBase - kDay, kBase + 20 * kDay);
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
  const auto want7 = stored(7, kBase, kBase + 12 * kDay);
  ASSERT_FALSE(want7.empty());
  EXPECT_EQ(mirrored(7, kBase, kBase + 12 * kDay), want7);
  const auto want8 = stored(8, kBase - kDay, kBase + 20 * kDay);
  EXPECT_EQ(mirrored(8, kBase - kDay, kBase + 20 * kDay), want8);
  // And it stays current after the race: one more change of each kind.
  commit([&want8](storage::CommitContext& ctx) {
    ctx.put(Cf::kUserBusy, key(7, kBase + kDay, 99), storage::encode_u64(kBase + kDay + 1));
    ctx.del(Cf::kUserBusy, key(8, want8.front().start_ms, want8.front().meeting_id));
    return Status::ok();
  });
  EXPECT_EQ(mirrored(7, kBase, kBase + 12 * kDay), stored(7, kBase, kBase + 12 * kDay));
  EXPECT_EQ(mirrored(8, kBase - kDay, kBase + 20 * kDay), stored(8, kBase - kDay, kBase + 20 * kDay));
  EXPECT_EQ(mirror_->users(), 2u);
}

TEST_F(BusyMirrorTest, WritesMadeWhileACopyLoadsAreApplied) {
  commit([](storage::CommitContext& ctx) {
    ctx.put(Cf::kUserBusy, key(5, kBase, 1), storage::encode_u64(kBase + 60'000));
    ctx.put(Cf::kUserBusy, key(5, kBase + kDay, 0),
            storage::encode_u64(kBase + kDay + 60'000) + storage::encode_u64(3));
    return Status::ok();
  });
  // Between the store read and the merge: one removed, one changed, one new.
  bool once = false;
  mirror_->set_loaded_hook_for_test([&] {
    if (std::exchange(once, true)) return;
    commit([](storage::CommitContext& ctx) {
      ctx.del(Cf::kUserBusy, key(5, kBase, 1));
      ctx.put(Cf::kUserBusy, key(5, kBase + kDay, 0),
              storage::encode_u64(kBase + kDay + 60'000) + storage::encode_u64(4));
      ctx.put(Cf::kUserBusy, key(5, kBase + 2 * kDay, 9), storage::encode_u64(kBase + 2 * kDay + 60'000));
      return Status::ok();
    });
  });
  const auto want = std::vector<BusyEntry>{
      {.start_ms = kBase + kDay, .meeting_id = 0, .end_ms = kBase + kDay + 60'000, .holders = 4},
      {.start_ms = kBase + 2 * kDay, .meeting_id = 9, .end_ms = kBase + 2 * kDay + 60'000, .holders = 0}};
  EXPECT_EQ(mirrored(5, kBase, kBase + 3 * kDay), want);
  ASSERT_TRUE(once);
  EXPECT_EQ(stored(5, kBase, kBase + 3 * kDay), want);
  EXPECT_EQ(mirrored(5, kBase, kBase + 3 * kDay), want) << "from the copy now";
  EXPECT_EQ(mirror_->total_entries(), 2u);
}

TEST_F(BusyMirrorTest, AUserWithTooManyEntriesIsReadFromTheStore) {
  const size_t n = BusyMirror::kMaxUserEntries + 1;
  commit([&](storage::CommitContext& ctx) {
    for (size_t i = 0; i < n; ++i) {
      const int64_t start = kBase + static_cast<int64_t>(i) * 60'000;
      ctx.put(Cf::kUserBusy, key(3, start, i + 1), storage::encode_u64(start + 60'000));
    }
    return Status::ok();
  });
  const int64_t to = kBase + static_cast<int64_t>(n) * 60'000;
  auto all = mirrored(3, kBase, to);
  EXPECT_EQ(all.size(), n);
  EXPECT_EQ(mirror_->total_entries(), 0u) << "too many to copy";
  // Later writes still show (read from the store).
  commit([&](storage::CommitContext& ctx) {
    ctx.del(Cf::kUserBusy, key(3, kBase, 1));
    return Status::ok();
  });
  EXPECT_EQ(mirrored(3, kBase, to).size(), n - 1);
  EXPECT_EQ(mirrored(3, kBase + 60'000, kBase + 180'000), stored(3, kBase + 60'000, kBase + 180'000));
}

TEST_F(BusyMirrorTest, KeepsAtMostItsUsersAndForgetsTheLeastRecentlyUsed) {
  const uint64_t users = BusyMirror::kMaxUsers + 20;
  commit([&](storage::CommitContext& ctx) {
    for (uint64_t u = 1; u <= users; ++u) {
      ctx.put(Cf::kUserBusy, key(u, kBase + kDay, u), storage::encode_u64(kBase + kDay + 60'000));
    }
    return Status::ok();
  });
  for (uint64_t u = 1; u <= users; ++u) ASSERT_EQ(mirrored(u, kBase, kBase + 2 * kDay).size(), 1u);
  EXPECT_EQ(mirror_->users(), BusyMirror::kMaxUsers);
  EXPECT_EQ(mirror_->total_entries(), BusyMirror::kMaxUsers);
  // The first users were dropped; asking again loads them, with what changed meanwhile.
  commit([&](storage::CommitContext& ctx) {
    ctx.put(Cf::kUserBusy, key(1, kBase + kDay, 500), storage::encode_u64(kBase + kDay + 60'000));
    return Status::ok();
  });
  EXPECT_EQ(mirrored(1, kBase, kBase + 2 * kDay).size(), 2u);
  EXPECT_EQ(mirror_->users(), BusyMirror::kMaxUsers);
}

}  // namespace
}  // namespace preceptor::services
