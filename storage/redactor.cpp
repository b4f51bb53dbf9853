#include "storage/redactor.h"

#include <vector>

#include "common/log.h"

namespace preceptor::storage {
namespace {

// Keys sharing their first 8 bytes (a conversation's messages) go in one
// interval; ranges of other prefixes would be needless rewrites.
constexpr size_t kGroupBytes = 8;

bool same_group(const std::string& a, const std::string& b) {
  return a.size() >= kGroupBytes && b.size() >= kGroupBytes &&
         a.compare(0, kGroupBytes, b, 0, kGroupBytes) == 0;
}

}  // namespace

void Redactor::note(Cf cf, std::string_view key) {
  std::lock_guard lock(mu_);
  pending_.emplace(cf, std::string(key));
}

void Redactor::note(std::span<const std::pair<Cf, std::string>> keys) {
  std::lock_guard lock(mu_);
  for (const auto& key : keys) pending_.insert(key);
}

size_t Redactor::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

Status Redactor::run_once() {
  std::lock_guard run_lock(run_mu_);
  std::set<std::pair<Cf, std::string>> taken;
  {
    std::lock_guard lock(mu_);
    taken.swap(pending_);
  }
  if (taken.empty()) return Status::ok();
  // The set is ordered by family, then key: consecutive keys of one group
  // extend the current interval.
  Status status;
  auto it = taken.begin();
  while (it != taken.end() && status) {
    const Cf cf = it->first;
    std::vector<Store::KeyInterval> intervals;
    for (; it != taken.end() && it->first == cf; ++it) {
      if (!intervals.empty() && same_group(intervals.back().last, it->second)) {
        intervals.back().last = it->second;
      } else {
        intervals.push_back(Store::KeyInterval{.first = it->second, .last = it->second});
      }
    }
    status = store_.compact_away(cf, intervals);
  }
  if (!status) {
    log::error("redaction_failed")
        .kv("error", status.message())
        .kv("keys", static_cast<uint64_t>(taken.size()));
    std::lock_guard lock(mu_);
    pending_.merge(taken);
    return status;
  }
  runs_total_.fetch_add(1);
  keys_total_.fetch_add(taken.size());
  log::info("redacted").kv("keys", static_cast<uint64_t>(taken.size()));
  return Status::ok();
}

}  // namespace preceptor::storage
