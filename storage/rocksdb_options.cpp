#include "storage/rocksdb_options.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include "storage/store.h"

namespace preceptor::storage {

rocksdb::Options db_options(const StoreOptions& options) {
  rocksdb::Options o;
  o.IncreaseParallelism(2);
  o.create_if_missing = options.create_if_missing;
  // Our families are created after the schema check, never by Open.
  o.create_missing_column_families = false;
  // The WAL is our durability: every group is written with sync=true and
  // must reach the log without a manual flush.
  o.manual_wal_flush = false;
  // A deleted message's text must leave the disk (storage/redactor.h): a WAL
  // file no memtable needs any more is deleted, not archived (no TTL, no
  // size limit) nor recycled for new writes (a recycled file keeps its old
  // bytes until overwritten). These are RocksDB's defaults, spelled out.
  o.WAL_ttl_seconds = 0;
  o.WAL_size_limit_MB = 0;
  o.recycle_log_file_num = 0;
  // Two flushes at once (IncreaseParallelism gives one): uploads keep two
  // flushes of document_chunks under way to overlap their syncs, and the
  // other families' flushes are not held behind them. Compactions: one, as
  // IncreaseParallelism gives.
  o.max_background_flushes = 2;
  o.max_background_compactions = 1;
  o.compaction_style = rocksdb::kCompactionStyleLevel;
  o.level_compaction_dynamic_level_bytes = true;
  // RocksDB's own info LOG: keep it from growing without bound. It holds
  // options, file numbers and key ranges (ids), never values.
  o.max_log_file_size = 16 << 20;
  // Each file being written keeps a buffer up to this size (1 MiB by
  // default): an upload has two blob files and two table files in flight,
  // and larger appends (a document's 256 KiB pieces) go straight to the
  // file. 3.5 MiB less memory growth in the first upload, the same rate.
  o.writable_file_max_buffer_size = 256 << 10;
  o.keep_log_file_num = 4;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks live in (and are bounded by) the block cache.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // One factory, so every family shares the one cache.
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

rocksdb::ColumnFamilyOptions family_options(const rocksdb::Options& db_options, const CfSpec& spec) {
  rocksdb::ColumnFamilyOptions o(db_options);
  switch (spec.insert_hint.kind) {
    case InsertHint::Kind::kNone:
      break;
    case InsertHint::Kind::kWholeFamily:
      o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
      break;
    case InsertHint::Kind::kLeadingBytes:
      o.memtable_insert_with_hint_prefix_extractor.reset(
          rocksdb::NewFixedPrefixTransform(spec.insert_hint.leading_bytes));
      break;
  }
  if (spec.memtable_whole_key_bloom) {
    o.memtable_prefix_bloom_size_ratio = 0.02;
    o.memtable_whole_key_filtering = true;
  }
  if (spec.blob_values) {
    o.enable_blob_files = true;
    o.min_blob_size = kMinBlobBytes;
    // Compactions move the live values out of old blob files, so the space
    // of overwritten and deleted values comes back.
    o.enable_blob_garbage_collection = true;
    // Flushes under way plus the memtable being filled, and one to spare:
    // a manual flush that would stall the database's writes waits instead.
    o.max_write_buffer_number = 4;
  }
  return o;
}

}  // namespace preceptor::storage
