#pragma once

// Internal to storage/: the RocksDB options the store opens with. Tests use
// them to check that each family is tuned as its row in kCfTable says.

#include <rocksdb/options.h>

#include "storage/column_families.h"

namespace preceptor::storage {

struct StoreOptions;

// Database-wide options: level compaction, the WAL as the durability of
// every synced group, one block cache shared by every family.
rocksdb::Options db_options(const StoreOptions& options);

// A family's options: the database's, plus what its row asks for (memtable
// insert hint, whole-key memtable bloom filter, blob files).
rocksdb::ColumnFamilyOptions family_options(const rocksdb::Options& db_options, const CfSpec& spec);

}  // namespace preceptor::storage
