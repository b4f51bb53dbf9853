#pragma once

// An in-memory copy of the `user_busy` entries (each user's accepted
// meetings, see storage/column_families.h) of the users whose free slots
// are asked for: mentors with office hours. ListSlots reads it instead of
// the store. During a booking rush a popular mentor's range in the memtable
// holds one version of a slot's entry per seat booked, and reading that
// range again for every mentee's four-week listing was most of the network
// thread's time (bench/results/issue-12/README.md).
//
// Kept current by the committer's write watcher: every user_busy write of a
// group, after the group is durable and before its replies leave, so whoever
// was told "booked" sees the seat gone in their next listing. A user's copy
// is loaded from the store on first use, while the committer keeps writing:
// writes that arrive during the load are kept aside and applied over what
// the load read (each is the key's whole new value, so applying one the load
// already saw changes nothing).
//
// Bounded: a copy covers kCoverMs from the start asked for when it was
// loaded (a request outside it loads again); a user with more than
// kMaxUserEntries entries there is not copied (read from the store each
// time); at most kMaxUsers users and kMaxEntries entries in all, the least
// recently used user dropped first. Thread-safe.

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// One user_busy entry: a meeting (or, for a mentor's office hours, a slot
// whose bookings share it: meeting_id 0 and `holders` bookings).
struct BusyEntry {
  int64_t start_ms = 0;
  uint64_t meeting_id = 0;
  int64_t end_ms = 0;
  uint64_t holders = 0;  // for a shared slot entry; 0 otherwise
  bool operator==(const BusyEntry&) const = default;
};

class BusyMirror {
 public:
  static constexpr int64_t kCoverMs = 64LL * 24 * 60 * 60 * 1000;
  static constexpr size_t kMaxUserEntries = 16384;
  static constexpr size_t kMaxUsers = 4096;
  static constexpr size_t kMaxEntries = 131072;

  explicit BusyMirror(const storage::Store& store) : store_(store) {}
  BusyMirror(const BusyMirror&) = delete;
  BusyMirror& operator=(const BusyMirror&) = delete;

  // The committer's write watcher (set it for Cf::kUserBusy only).
  void apply(std::span<const storage::WatchedWrite> writes);

  // `user`'s entries starting in [from_ms, to_ms), by start then meeting id:
  // from the copy (loading it first when there is none, or it does not
  // cover the range), or from the store.
  Result<std::vector<BusyEntry>> entries(uint64_t user, int64_t from_ms, int64_t to_ms);

  // For tests: users with a copy, and entries in them; and a call made when
  // a copy has been read from the store, before what was written meanwhile
  // is applied to it (a test commits writes there).
  size_t users() const;
  size_t total_entries() const;
  void set_loaded_hook_for_test(std::function<void()> hook) { loaded_hook_ = std::move(hook); }

 private:
  using Key = std::pair<int64_t, uint64_t>;  // start, meeting id
  struct Value {
    int64_t end_ms;
    uint64_t holders;
  };
  struct Copy {
    enum class State { kLoading, kReady, kTooLarge } state = State::kLoading;
    int64_t from_ms = 0;  // covers starts in [from_ms, from_ms + kCoverMs)
    std::map<Key, Value> entries;
    // Writes that came while loading: key, value (nullopt: deleted), in order.
    std::vector<std::pair<Key, std::optional<Value>>> pending;
    std::list<uint64_t>::iterator lru;  // position in lru_
  };

  bool covers(const Copy& c, int64_t from_ms, int64_t to_ms) const {
    return from_ms >= c.from_ms && to_ms <= c.from_ms + kCoverMs;
  }
  Result<std::vector<BusyEntry>> read_store(uint64_t user, int64_t from_ms, int64_t to_ms,
                                            size_t max_entries) const;
  static std::vector<BusyEntry> copy_range(const Copy& c, int64_t from_ms, int64_t to_ms);
  void set(Copy& c, const Key& key, const std::optional<Value>& value);  // mu_ held
  void drop(uint64_t user);                                              // mu_ held
  void trim();                                                           // mu_ held

  const storage::Store& store_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Copy> copies_;  // guarded by mu_
  std::list<uint64_t> lru_;                    // most recently used first; guarded by mu_
  size_t total_ = 0;                           // entries in every copy; guarded by mu_
  std::function<void()> loaded_hook_;
};

}  // namespace preceptor::services
