// Synced commits per second through the Committer (group commit), with 1, 8
// and 64 producers in a closed loop: each producer submits one event,
// waits for its `done`, and repeats, like a session waiting for its ack.
//
//   build-storage/bench/preceptor-committer-bench
//
// The store lives in a fresh folder under $PRECEPTOR_BENCH_DIR (default: the
// system temp folder), removed afterwards; fsync cost depends on that disk.
// Counters: items_per_second = acknowledged commits/s; mean_batch = commits
// per group (per fsync); write_ms = mean time of one synced Write.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <semaphore>
#include <string>

#include "common/clock.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::storage {
namespace {

std::filesystem::path bench_root() {
  const char* dir = std::getenv("PRECEPTOR_BENCH_DIR");
  return dir != nullptr && *dir != '\0' ? std::filesystem::path(dir) : std::filesystem::temp_directory_path();
}

// One store and committer shared by every producer thread of a run.
struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<Store> store;
  SystemClock clock;
  std::unique_ptr<Committer> committer;
  uint64_t commits_at_start = 0;
  uint64_t groups_at_start = 0;
  Histogram::Snapshot writes_at_start;

  ~Fixture() {
    committer.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Set up by thread 0 before the timed loop and torn down after it; the loop
// itself starts and ends with a barrier across all threads of the run.
Fixture* fixture = nullptr;

void BM_SyncedCommits(benchmark::State& state) {
  if (state.thread_index() == 0) {
    fixture = new Fixture();
    fixture->dir = bench_root() / ("preceptor-committer-bench-" + std::to_string(std::random_device()()));
    Result<std::unique_ptr<Store>> store = Store::open(StoreOptions{.path = fixture->dir.string()});
    if (!store.is_ok()) {
      state.SkipWithError(store.status().to_string().c_str());
      delete fixture;
      fixture = nullptr;
    } else {
      fixture->store = std::move(store).value();
      fixture->committer = std::make_unique<Committer>(*fixture->store, fixture->clock);
      fixture->commits_at_start = fixture->committer->commits_total();
      fixture->groups_at_start = fixture->committer->groups_total();
      fixture->writes_at_start = fixture->committer->write_seconds().snapshot();
    }
  }

  const uint64_t user = static_cast<uint64_t>(state.thread_index()) + 1;
  v1::Event event;
  event.mutable_session_ended()->set_reason("benchmark");
  std::binary_semaphore acknowledged(0);
  Status last;
  for (auto _ : state) {
    if (fixture == nullptr) break;  // set-up failed; reported above
    fixture->committer->submit(
        [&event, user](CommitContext& ctx) {
          ctx.append_event(event, {user});
          return Status::ok();
        },
        [&](const Status& s) {
          last = s;
          acknowledged.release();
        });
    acknowledged.acquire();
    if (!last.is_ok()) {
      state.SkipWithError(last.to_string().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));

  if (state.thread_index() == 0 && fixture != nullptr) {
    Committer& c = *fixture->committer;
    const double commits = static_cast<double>(c.commits_total() - fixture->commits_at_start);
    const double groups = static_cast<double>(c.groups_total() - fixture->groups_at_start);
    const Histogram::Snapshot writes = c.write_seconds().snapshot();
    const double write_count = static_cast<double>(writes.count - fixture->writes_at_start.count);
    // Set by thread 0 only, so the per-thread sum is this value.
    state.counters["mean_batch"] = groups > 0 ? commits / groups : 0;
    state.counters["write_ms"] =
        write_count > 0 ? (writes.sum - fixture->writes_at_start.sum) * 1e3 / write_count : 0;
    delete fixture;
    fixture = nullptr;
  }
}

BENCHMARK(BM_SyncedCommits)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->MinTime(2);

}  // namespace
}  // namespace preceptor::storage

BENCHMARK_MAIN();
