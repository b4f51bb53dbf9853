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

std::string pending_redaction_key(Cf cf, std::string_view key) {
  std::string out(kPendingRedactionPrefix);
  out.push_back(static_cast<char>(cf));
  out.append(key);
  return out;
}

Status Redactor::load_pending() {
  std::vector<std::pair<Cf, std::string>> found;
  auto scanned =
      store_.scan_prefix(Cf::kMeta, kPendingRedactionPrefix, [&](std::string_view key, std::string_view) {
        key.remove_prefix(kPendingRedactionPrefix.size());
        if (key.size() >= 2 && static_cast<uint8_t>(key[0]) < kCfCount) {
          found.emplace_back(static_cast<Cf>(key[0]), std::string(key.substr(1)));
        }
        return true;
      });
  if (!scanned) return scanned.status();
  if (!found.empty())
    log::info("redactions_pending_at_start").kv("keys", static_cast<uint64_t>(found.size()));
  note(found);
  return Status::ok();
}

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
  if (committer_ != nullptr) {
    // The durable notes of what was just compacted away. A key redacted again
    // meanwhile is also noted in memory (after its write), for the next run.
    committer_->submit(
        [taken](CommitContext& ctx) {
          for (const auto& [cf, key] : taken) ctx.del(Cf::kMeta, pending_redaction_key(cf, key));
          return Status::ok();
        },
        nullptr);
  }
  runs_total_.fetch_add(1);
  keys_total_.fetch_add(taken.size());
  log::info("redacted").kv("keys", static_cast<uint64_t>(taken.size()));
  return Status::ok();
}

}  // namespace preceptor::storage
