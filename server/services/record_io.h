#pragma once

// Small typed helpers for reading and writing protobuf records, shared by the
// services. Internal to server/services. Keys come from the named codecs in
// storage/keys.h; ranges are read with Store::scan and CommitContext::scan.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace preceptor::services {

// The serialized items one page of a reply that lists things (Sync, History,
// ListMentors, ListMentorships) may carry, about: a page stops before the
// item that would pass it, but always holds at least one so paging makes
// progress. Well inside the 1 MiB a connection may have waiting to be sent.
inline constexpr size_t kMaxPageBytes = 256 * 1024;

// Reads a record inside a mutation (sees the group's earlier writes).
// nullopt when absent; DATA_LOSS when the bytes do not parse.
template <class M>
Result<std::optional<M>> load(storage::CommitContext& ctx, storage::Cf cf, std::string_view key) {
  auto raw = ctx.get(cf, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw))
    return data_loss("A stored record in " + std::string(storage::cf_name(cf)) + " is damaged.");
  return std::optional<M>(std::move(m));
}

// Reads committed data outside the committer.
template <class M>
Result<std::optional<M>> load(const storage::Store& store, storage::Cf cf, std::string_view key) {
  auto raw = store.get(cf, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw))
    return data_loss("A stored record in " + std::string(storage::cf_name(cf)) + " is damaged.");
  return std::optional<M>(std::move(m));
}

template <class M>
void save(storage::CommitContext& ctx, storage::Cf cf, std::string_view key, const M& m) {
  ctx.put(cf, key, m.SerializeAsString());
}

// Runs `apply` on the committer and hands `done` the value it produced.
// `origin`: see storage::Committer::submit.
template <class T>
void commit_with_result(storage::Committer& committer,
                        std::function<Status(storage::CommitContext&, T&)> apply,
                        std::function<void(Result<T>)> done, uint64_t origin = 0) {
  auto out = std::make_shared<T>();
  committer.submit([apply = std::move(apply), out](storage::CommitContext& ctx) { return apply(ctx, *out); },
                   [out, done = std::move(done)](const Status& st) {
                     if (!st) return done(st);
                     done(std::move(*out));
                   },
                   origin);
}

// Submits the mutations of timed work (reminders, nudges, expiries) with at
// most `max_in_flight` of them waiting in the committer at once: a pass with
// thousands due must not queue them all ahead of people's requests (each
// group would then be timed work only, and a message sent meanwhile would
// wait for all of it). submit() blocks while the limit is reached; wait_all()
// and the destructor return once every submitted mutation is done. For the
// scheduler's thread, never a network thread or the committer's.
class BoundedSubmitter {
 public:
  BoundedSubmitter(storage::Committer& committer, size_t max_in_flight)
      : committer_(committer), max_in_flight_(max_in_flight) {}
  BoundedSubmitter(const BoundedSubmitter&) = delete;
  BoundedSubmitter& operator=(const BoundedSubmitter&) = delete;
  ~BoundedSubmitter() { wait_all(); }

  // `done` (optional) gets the write's status on the committer's thread. A
  // failed write is logged by the committer; timed work leaves its entry due
  // and the next pass tries again.
  void submit(storage::ApplyFn apply, storage::DoneFn done = {}) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ < max_in_flight_; });
      ++in_flight_;
    }
    committer_.submit(std::move(apply), [this, done = std::move(done)](const Status& st) {
      if (done) {
        done(st);
      } else {
        st.ignore_error();
      }
      std::lock_guard lock(mu_);
      --in_flight_;
      cv_.notify_all();
    });
  }

  void wait_all() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
  }

 private:
  storage::Committer& committer_;
  const size_t max_in_flight_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t in_flight_ = 0;
};

}  // namespace preceptor::services
