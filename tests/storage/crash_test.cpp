// The kill -9 test: a child process commits events as fast as it can and
// reports each acknowledged position; the parent kills it mid-stream and
// checks, on reopen, that nothing acknowledged was lost and that the log has
// no gaps and no half-written mutations.

#include <gtest/gtest.h>
#include <rocksdb/iterator.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/storage/storage_test_util.h"

namespace preceptor::storage {
namespace {

constexpr uint64_t kAudienceUser = 7;
constexpr size_t kProducers = 4;
constexpr size_t kWantedAcks = 2000;
constexpr std::chrono::seconds kCommitPhase{20};

// Child: commits events from kProducers threads, each waiting for its
// previous commit, and writes every acknowledged position (8 bytes,
// big-endian; atomic on a pipe) to `pipe_fd`. Runs until killed.
int crash_committer_child(const std::string& path, int pipe_fd) {
  Result<std::unique_ptr<Store>> store = Store::open(StoreOptions{.path = path});
  if (!store.is_ok()) {
    std::fprintf(stderr, "crash child: %s\n", store.status().to_string().c_str());
    return 1;
  }
  SystemClock clock;
  Committer committer(**store, clock);
  std::vector<std::thread> producers;
  for (size_t t = 0; t < kProducers; ++t) {
    producers.emplace_back([&committer, pipe_fd, t] {
      for (;;) {
        uint64_t position = 0;
        std::promise<Status> acknowledged;
        std::future<Status> result = acknowledged.get_future();
        committer.submit(
            [&position, t](CommitContext& ctx) {
              position =
                  ctx.append_event(testing::test_event("producer " + std::to_string(t)), {kAudienceUser});
              return Status::ok();
            },
            [&acknowledged](const Status& s) { acknowledged.set_value(s); });
        const Status status = result.get();
        if (!status.is_ok()) {
          std::fprintf(stderr, "crash child: %s\n", status.to_string().c_str());
          std::_Exit(3);
        }
        const std::string ack = encode_u64(position);
        if (::write(pipe_fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) std::_Exit(4);
      }
    });
  }
  for (std::thread& p : producers) p.join();  // never returns: the parent kills us
  return 0;
}
const bool kCrashChildRegistered = testing::register_child("crash-committer", &crash_committer_child);

// Reads 8-byte acks from `fd` until `wanted` arrived, EOF, or the deadline.
void read_acks(int fd, std::string& bytes, size_t wanted, std::chrono::steady_clock::time_point deadline) {
  char buf[4096];
  while (bytes.size() / 8 < wanted) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EOF: the child ended
    bytes.append(buf, static_cast<size_t>(n));
  }
}

TEST(Crash, AcknowledgedEventsSurviveKill9AndTheLogHasNoGaps) {
  ASSERT_TRUE(kCrashChildRegistered);
  testing::TempDir dir;

  std::optional<testing::Child> child = testing::spawn_child("crash-committer", dir.data());
  ASSERT_TRUE(child.has_value());
  std::string bytes;
  read_acks(child->read_fd, bytes, kWantedAcks, std::chrono::steady_clock::now() + kCommitPhase);
  ::kill(child->pid, SIGKILL);
  // Acks written before the kill are still in the pipe.
  const bool eof = testing::read_until_eof(child->read_fd, bytes);
  ::close(child->read_fd);
  std::optional<int> wstatus = testing::wait_child(child->pid);
  ASSERT_TRUE(eof);
  ASSERT_TRUE(wstatus.has_value());
  ASSERT_TRUE(WIFSIGNALED(*wstatus) && WTERMSIG(*wstatus) == SIGKILL)
      << "the child ended on its own (wait status " << *wstatus << "); see its stderr above";
  ASSERT_EQ(bytes.size() % 8, 0u) << "a torn ack";

  std::vector<uint64_t> acks;
  for (size_t i = 0; i < bytes.size(); i += 8) acks.push_back(*decode_u64(bytes, i));
  ASSERT_FALSE(acks.empty()) << "the child acknowledged nothing in " << kCommitPhase.count() << " s";
  ::testing::Test::RecordProperty("acknowledged", static_cast<int>(acks.size()));
  std::printf("acknowledged %zu commits before kill -9\n", acks.size());
  std::vector<uint64_t> sorted = acks;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end())
      << "a position acknowledged twice";

  Result<std::unique_ptr<Store>> reopened = Store::open(StoreOptions{.path = dir.data()});
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  Store& store = **reopened;

  // events: exactly 1..last, each a readable record at its own position.
  uint64_t last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(StoreTestAccess::db(store)->NewIterator(
        rocksdb::ReadOptions(), StoreTestAccess::cf(store, Cf::kEvents)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      ASSERT_EQ(decode_u64(key), last + 1) << "a gap in the log after position " << last;
      last += 1;
      v1::EventRecord record;
      ASSERT_TRUE(record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())));
      ASSERT_EQ(record.event().position(), last);
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }
  EXPECT_EQ(store.last_position_at_open(), last);
  EXPECT_GE(last, sorted.back()) << "acknowledged positions are missing after the crash";

  // user_inbox: written in the same batches, so exactly the same positions.
  {
    std::unique_ptr<rocksdb::Iterator> it(StoreTestAccess::db(store)->NewIterator(
        rocksdb::ReadOptions(), StoreTestAccess::cf(store, Cf::kUserInbox)));
    uint64_t expected = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::optional<keys::UserInbox> key = keys::UserInbox::decode(it->key().ToStringView());
      ASSERT_TRUE(key.has_value());
      ASSERT_EQ(key->user_id, kAudienceUser);
      ASSERT_EQ(key->position, expected + 1) << "inbox and events disagree";
      expected += 1;
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    EXPECT_EQ(expected, last);
  }

  // And the log goes on from where it stopped.
  ManualClock clock;
  Committer committer(store, clock);
  uint64_t next = 0;
  ASSERT_TRUE(testing::commit_and_wait(committer, [&next](CommitContext& ctx) {
                next = ctx.append_event(testing::test_event("after"), {kAudienceUser});
                return Status::ok();
              }).is_ok());
  EXPECT_EQ(next, last + 1);
}

}  // namespace
}  // namespace preceptor::storage
