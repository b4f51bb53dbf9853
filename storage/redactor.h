#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <utility>

#include "common/status.h"
#include "storage/column_families.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::storage {

// Makes overwritten values leave the disk. A deleted or edited message is
// one overwrite in `messages` (storage/message_text.h), but RocksDB keeps the
// earlier value in the write-ahead log and in table files until a flush and
// a compaction drop it. The committer notes each such key once its write is
// durable (CommitContext::redact); run_once(), called by the server every
// --redaction-interval-ms, flushes and compacts the noted key ranges away in
// one go (Store::compact_away), so the cost is paid at most once an
// interval, however many deletions came in. Thread-safe; run_once() blocks
// for the flush and compactions, so it runs on a timer thread.
//
// The noted keys are also durable: the mutation that calls redact() writes
// meta "redaction/<family byte><key>" in its own batch, and a run deletes
// those entries (through `committer`) once it has compacted their keys. At
// start-up load_pending() notes what a crash left, so the text still goes.
class Redactor {
 public:
  explicit Redactor(const Store& store, Committer* committer = nullptr)
      : store_(store), committer_(committer) {}

  // Notes every key whose redaction was written but not yet carried out
  // (the server stopped or crashed first). Before the first run.
  Status load_pending();

  // The earlier values of `key` in `cf` must go.
  void note(Cf cf, std::string_view key);
  void note(std::span<const std::pair<Cf, std::string>> keys);

  // Flushes and compacts the ranges of every key noted so far; nothing when
  // none. Keys of one conversation (the same leading 8 bytes) form one
  // range. On failure the keys stay noted for the next run.
  Status run_once();

  size_t pending() const;                                     // keys noted, not yet compacted away
  uint64_t runs_total() const { return runs_total_.load(); }  // run_once calls that compacted something
  uint64_t keys_total() const { return keys_total_.load(); }  // keys compacted away

 private:
  const Store& store_;
  Committer* committer_;
  mutable std::mutex mu_;
  std::set<std::pair<Cf, std::string>> pending_;  // guarded by mu_
  std::mutex run_mu_;                             // one run at a time
  std::atomic<uint64_t> runs_total_{0};
  std::atomic<uint64_t> keys_total_{0};
};

// meta "redaction/<family byte><key>": the durable note of one redaction.
inline constexpr std::string_view kPendingRedactionPrefix = "redaction/";
std::string pending_redaction_key(Cf cf, std::string_view key);

}  // namespace preceptor::storage
