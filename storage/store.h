#pragma once

#include <rocksdb/db.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/column_families.h"
#include "storage/scan.h"

namespace preceptor::storage {

struct StoreOptions {
  std::string path;  // data folder; created if missing
  bool create_if_missing = true;
  size_t block_cache_bytes = 64 << 20;  // default 64 MiB
};

// The RocksDB database and its column families. Open it once per process.
// Reads (get, scan) are safe from any thread and see committed data only;
// writes go only through the Committer, which owns the write path (a
// mutation reads through CommitContext instead, which also sees its group's
// writes), except documents' bytes, which BlobWriter writes to
// document_chunks (storage/blob_writer.h).
class Store {
 public:
  // Opens or creates the store. Refuses (FAILED_PRECONDITION, with a sentence
  // naming both versions) a store whose schema version is newer than
  // kSchemaVersion; creates the meta records on first open. A folder locked
  // by another process gives UNAVAILABLE saying so. The folder and every
  // file in it are made private to the owner (0700 / no group or other
  // bits), and the process's umask gains 077 so RocksDB's new files are too.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);

  ~Store();  // closes the database
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Point read; nullopt when absent. Errors carry the RocksDB message.
  Result<std::optional<std::string>> get(Cf cf, std::string_view key) const;

  // Calls fn(key, value) for the entries of `range`, in key order, until fn
  // returns false, a limit is reached or the range ends; says which. Reads
  // one consistent view of the family (an implicit snapshot): writes
  // committed during the scan are not seen. Errors carry the RocksDB message.
  //
  // Paging: ask for a page with ScanLimits{.max_entries = n}; kLimitReached
  // means more entries follow (has_more), and the next page begins after the
  // last key handed out. A page of exactly the range's last n entries ends
  // with kEndOfRange.
  Result<ScanEnd> scan(Cf cf, KeyRange range, ScanFn fn, ScanLimits limits = {}) const;
  // The keys starting with `prefix` (a keys::X::prefix(...)); "" is the whole family.
  Result<ScanEnd> scan_prefix(Cf cf, std::string_view prefix, ScanFn fn, ScanLimits limits = {}) const;

  // Point reads of many keys of one family in one batched lookup (RocksDB
  // MultiGet, which shares the work of finding their blocks): one result per
  // key, in the same order, nullopt when absent. Errors carry the RocksDB
  // message.
  Result<std::vector<std::optional<std::string>>> multi_get(Cf cf, std::span<const std::string> keys) const;

  // The keys first <= k <= last, bytewise.
  struct KeyInterval {
    std::string first;
    std::string last;
  };
  // Makes the earlier (overwritten or deleted) values of the keys in
  // `intervals` of `cf` leave the disk: flushes every family, so the write-
  // ahead log files that still hold them become obsolete and are deleted,
  // then compacts each interval through the bottommost level, so no table
  // file keeps an older version. No `intervals`: the whole family. Blocks
  // for the flush and the compactions (seconds on a large store); never call
  // it on the committer thread. Any other thread.
  Status compact_away(Cf cf, std::span<const KeyInterval> intervals) const;

  // Random identity written at creation; positions are only meaningful
  // within one store (a client holding a position from another store must refetch).
  uint64_t store_id() const { return store_id_; }
  uint64_t schema_version() const { return kSchemaVersion; }

  // Highest position in `events` at open (0 when empty). Used by the Committer.
  uint64_t last_position_at_open() const { return last_position_at_open_; }

  const std::string& path() const { return path_; }

 private:
  // The raw database: only the committer writes, and only storage/ (and the
  // storage tests, through StoreTestAccess) sees RocksDB types.
  friend class Committer;
  friend class CommitContext;
  friend class BlobWriter;  // document_chunks: written without the log (storage/blob_writer.h)
  friend class BlobReader;
  friend struct StoreTestAccess;
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf cf) const { return handles_[static_cast<size_t>(cf)]; }

  Store() = default;
  // The one-time rewrite of stores written before message text moved to
  // `messages` alone (storage/message_text.h): strips the text from every
  // stored MessagePosted / MessageEdited in `events` and `user_inbox`, then
  // compacts those families so the text leaves the disk. Idempotent, and
  // done once: meta[keys::kUpgradeMessageTextKey] records completion (an
  // interrupted run is simply run again). Called by open().
  Status upgrade_message_text();
  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kCfCount> handles_{};
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  // Families on disk that this binary does not know (written by a newer
  // one); RocksDB requires every family to be opened, so they are, unused.
  std::vector<rocksdb::ColumnFamilyHandle*> unknown_handles_;
  uint64_t store_id_ = 0;
  uint64_t last_position_at_open_ = 0;
};

}  // namespace preceptor::storage
