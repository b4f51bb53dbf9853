#pragma once

#include <rocksdb/db.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/column_families.h"

namespace preceptor::storage {

struct StoreOptions {
  std::string path;                 // data folder; created if missing
  bool create_if_missing = true;
  size_t block_cache_bytes = 64 << 20;  // default 64 MiB
};

// The RocksDB database and its column families. Open it once per process;
// reads (get, iterators) are safe from any thread; writes go only through
// the Committer, which owns the write path.
class Store {
 public:
  // Opens or creates the store. Refuses (FAILED_PRECONDITION, with a sentence
  // naming both versions) a store whose schema version is newer than
  // kSchemaVersion; creates the meta records on first open. A folder locked
  // by another process gives UNAVAILABLE saying so.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);

  ~Store();  // closes the database
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf cf) const { return handles_[static_cast<size_t>(cf)]; }

  // Point read; nullopt when absent. Errors carry the RocksDB message.
  Result<std::optional<std::string>> get(Cf cf, std::string_view key) const;

  // Random identity written at creation; positions are only meaningful
  // within one store (a client holding a position from another store must refetch).
  uint64_t store_id() const { return store_id_; }
  uint64_t schema_version() const { return kSchemaVersion; }

  // Highest position in `events` at open (0 when empty). Used by the Committer.
  uint64_t last_position_at_open() const { return last_position_at_open_; }

  const std::string& path() const { return path_; }

 private:
  Store() = default;
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
