#include "server/services/busy_mirror.h"

#include <algorithm>

#include "storage/keys.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

std::string busy_key(uint64_t user, int64_t start_ms) {
  return keys::UserMeeting{
      .user_id = user, .start_ms = static_cast<uint64_t>(std::max<int64_t>(0, start_ms)), .meeting_id = 0}
      .encode();
}

// A user_busy value: end_ms(u64be), then for a shared slot entry holders(u64be).
std::optional<BusyEntry> decode_entry(const keys::UserMeeting& key, std::string_view value) {
  auto end = storage::decode_u64(value);
  if (!end) return std::nullopt;
  return BusyEntry{.start_ms = static_cast<int64_t>(key.start_ms),
                   .meeting_id = key.meeting_id,
                   .end_ms = static_cast<int64_t>(*end),
                   .holders = value.size() >= 16 ? storage::decode_u64(value, 8).value_or(0) : 0};
}

}  // namespace

Result<std::vector<BusyEntry>> BusyMirror::read_store(uint64_t user, int64_t from_ms, int64_t to_ms,
                                                      size_t max_entries) const {
  std::vector<BusyEntry> out;
  const std::string begin = busy_key(user, from_ms);
  const std::string end = busy_key(user, to_ms);
  auto scanned = store_.scan(Cf::kUserBusy, {.begin = begin, .end = end},
                             [&](std::string_view k, std::string_view v) {
                               auto key = keys::UserMeeting::decode(k);
                               if (!key) return true;
                               if (auto e = decode_entry(*key, v)) out.push_back(*e);
                               return true;
                             },
                             {.max_entries = max_entries});
  if (!scanned) return scanned.status();
  return out;
}

std::vector<BusyEntry> BusyMirror::copy_range(const Copy& c, int64_t from_ms, int64_t to_ms) {
  std::vector<BusyEntry> out;
  for (auto it = c.entries.lower_bound(Key{from_ms, 0}); it != c.entries.end() && it->first.first < to_ms;
       ++it) {
    out.push_back(BusyEntry{.start_ms = it->first.first,
                            .meeting_id = it->first.second,
                            .end_ms = it->second.end_ms,
                            .holders = it->second.holders});
  }
  return out;
}

void BusyMirror::set(Copy& c, const Key& key, const std::optional<Value>& value) {
  if (value) {
    auto [it, inserted] = c.entries.insert_or_assign(key, *value);
    if (inserted) ++total_;
  } else if (c.entries.erase(key) > 0) {
    --total_;
  }
}

void BusyMirror::drop(uint64_t user) {
  auto it = copies_.find(user);
  if (it == copies_.end()) return;
  total_ -= it->second.entries.size();
  lru_.erase(it->second.lru);
  copies_.erase(it);
}

void BusyMirror::trim() {
  // From the least recently used end; a copy being loaded stays (its loader finishes it).
  auto it = lru_.end();
  while ((copies_.size() > kMaxUsers || total_ > kMaxEntries) && it != lru_.begin()) {
    --it;
    const uint64_t user = *it;
    if (copies_.at(user).state == Copy::State::kLoading) continue;
    it = std::next(it);  // drop() erases the element before it
    drop(user);
  }
}

void BusyMirror::apply(std::span<const storage::WatchedWrite> writes) {
  std::lock_guard lock(mu_);
  if (copies_.empty()) return;
  for (const storage::WatchedWrite& w : writes) {
    if (w.cf != Cf::kUserBusy) continue;
    auto key = keys::UserMeeting::decode(w.key);
    if (!key) continue;
    auto it = copies_.find(key->user_id);
    if (it == copies_.end()) continue;
    Copy& c = it->second;
    const auto start = static_cast<int64_t>(key->start_ms);
    if (c.state == Copy::State::kTooLarge || !covers(c, start, start)) continue;
    std::optional<Value> value;
    if (w.value) {
      auto e = decode_entry(*key, *w.value);
      if (e) value = Value{.end_ms = e->end_ms, .holders = e->holders};
    }
    const Key k{start, key->meeting_id};
    if (c.state == Copy::State::kLoading) {
      c.pending.emplace_back(k, value);
    } else {
      set(c, k, value);
    }
  }
  trim();
}

Result<std::vector<BusyEntry>> BusyMirror::entries(uint64_t user, int64_t from_ms, int64_t to_ms) {
  if (to_ms - from_ms > kCoverMs) return read_store(user, from_ms, to_ms, storage::ScanLimits::kUnlimited);
  bool from_store = false;  // another request is loading the copy, or it is too large to keep
  {
    std::lock_guard lock(mu_);
    auto it = copies_.find(user);
    if (it != copies_.end() && it->second.state == Copy::State::kLoading) {
      from_store = true;
    } else if (it != copies_.end() && covers(it->second, from_ms, to_ms)) {
      Copy& c = it->second;
      lru_.splice(lru_.begin(), lru_, c.lru);
      if (c.state == Copy::State::kReady) return copy_range(c, from_ms, to_ms);
      from_store = true;
    } else {
      // None yet, or one that does not cover the range: load one starting here.
      drop(user);
      lru_.push_front(user);
      Copy& c = copies_[user];
      c.from_ms = from_ms;
      c.lru = lru_.begin();
    }
  }
  if (from_store) return read_store(user, from_ms, to_ms, storage::ScanLimits::kUnlimited);

  // Loading, outside the lock: the committer keeps writing meanwhile, and
  // apply() keeps what it writes for this user in `pending`.
  auto loaded = read_store(user, from_ms, from_ms + kCoverMs, kMaxUserEntries + 1);
  if (loaded_hook_) loaded_hook_();

  {
    std::lock_guard lock(mu_);
    Copy& c = copies_.at(user);  // trim() never drops a copy being loaded
    if (!loaded) {
      drop(user);
      return loaded.status();
    }
    if (loaded->size() <= kMaxUserEntries) {
      for (const BusyEntry& e : *loaded) {
        c.entries.emplace(Key{e.start_ms, e.meeting_id}, Value{.end_ms = e.end_ms, .holders = e.holders});
      }
      total_ += c.entries.size();
      for (const auto& [key, value] : c.pending) set(c, key, value);
      c.pending = {};
      c.state = Copy::State::kReady;
      std::vector<BusyEntry> out = copy_range(c, from_ms, to_ms);
      trim();
      return out;
    }
    c.state = Copy::State::kTooLarge;
    c.pending = {};
  }
  // Too many to keep. What was read answers when it reaches past the range.
  std::vector<BusyEntry> out;
  for (const BusyEntry& e : *loaded) {
    if (e.start_ms >= to_ms) return out;
    out.push_back(e);
  }
  return read_store(user, from_ms, to_ms, storage::ScanLimits::kUnlimited);
}

size_t BusyMirror::users() const {
  std::lock_guard lock(mu_);
  return copies_.size();
}

size_t BusyMirror::total_entries() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace preceptor::services
