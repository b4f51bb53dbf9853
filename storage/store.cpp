#include "storage/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <random>
#include <system_error>

#include "preceptor/v1/records.pb.h"
#include "storage/keys.h"

namespace preceptor::storage {
namespace {

constexpr std::string_view kSchemaVersionKey = "schema_version";
constexpr std::string_view kStoreKey = "store";

rocksdb::Slice to_slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// A RocksDB failure as a Status; `what` is the start of the sentence.
Status from_rocksdb(const rocksdb::Status& s, const std::string& what) {
  std::string msg = what + " (" + s.ToString() + ").";
  if (s.IsCorruption()) return data_loss(std::move(msg));
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return unavailable(std::move(msg));
  return internal_error(std::move(msg));
}

bool mentions_lock(const rocksdb::Status& s) {
  std::string text = s.ToString();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text.find("lock") != std::string::npos;
}

rocksdb::Options make_options(const StoreOptions& options) {
  rocksdb::Options o;
  o.IncreaseParallelism(2);
  o.create_if_missing = options.create_if_missing;
  // Our families are created after the schema check, never by Open.
  o.create_missing_column_families = false;
  // The WAL is our durability: every group is written with sync=true and
  // must reach the log without a manual flush.
  o.manual_wal_flush = false;
  o.compaction_style = rocksdb::kCompactionStyleLevel;
  o.level_compaction_dynamic_level_bytes = true;
  // RocksDB's own info LOG: keep it from growing without bound.
  o.max_log_file_size = 16 << 20;
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

// Options of one family. Families whose keys arrive in order within a
// prefix (events by position; inboxes, messages and client ids by their
// leading ids) insert into the memtable with a per-prefix hint, which turns
// the skip-list search of each insert into a step from the previous one.
rocksdb::ColumnFamilyOptions family_options(const rocksdb::Options& db_options, std::string_view name) {
  rocksdb::ColumnFamilyOptions o(db_options);
  size_t hint_prefix = 0;
  bool hinted = false;
  if (name == cf_name(Cf::kEvents)) {
    hinted = true;  // positions only grow: one hint for the whole family
  } else if (name == cf_name(Cf::kUserInbox) || name == cf_name(Cf::kMessages)) {
    hinted = true;
    hint_prefix = 8;  // user id / conversation id
  } else if (name == cf_name(Cf::kClientMessageIds)) {
    hinted = true;
    hint_prefix = 16;  // conversation id | sender
    // Every SendMessage looks its client_message_id up, and nearly every
    // lookup misses: a whole-key bloom filter in the memtable answers those
    // without searching the skip list.
    o.memtable_prefix_bloom_size_ratio = 0.02;
    o.memtable_whole_key_filtering = true;
  } else if (name == cf_name(Cf::kConversations)) {
    hinted = true;  // rewritten on every message: the new version goes next to the last one
    hint_prefix = 8;
  } else if (name == cf_name(Cf::kReadMarkers)) {
    hinted = true;
    hint_prefix = 16;
  }
  if (hinted) o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(hint_prefix));
  return o;
}

std::optional<Cf> cf_by_name(std::string_view name) {
  for (size_t i = 0; i < kCfCount; ++i) {
    if (kCfNames[i] == name) return static_cast<Cf>(i);
  }
  return std::nullopt;
}

uint64_t random_store_id() {
  std::random_device rd;
  uint64_t id = 0;
  while (id == 0) id = (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
  return id;
}

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  namespace fs = std::filesystem;
  const std::string& path = options.path;
  if (path.empty()) return invalid_argument("No data folder was given; set --data-dir.", "data_dir");

  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (ec) return unavailable("Could not look at the data folder " + path + ": " + ec.message() + ".");
  if (!exists) {
    if (!options.create_if_missing) {
      return not_found("The data folder " + path + " does not exist.", "data_dir");
    }
    fs::create_directories(path, ec);
    if (ec) {
      return failed_precondition("Could not create the data folder " + path + ": " + ec.message() + ".");
    }
  } else if (!fs::is_directory(path, ec)) {
    return failed_precondition("The data folder " + path + " is not a folder.");
  }

  rocksdb::Options db_options = make_options(options);

  // Open exactly the families already on disk (a newer binary may have added
  // some; RocksDB wants them all). Ours are created only after the schema
  // check, so a refused store gets no new families or records (RocksDB's own
  // open bookkeeping, such as a new MANIFEST and OPTIONS file, aside).
  std::vector<std::string> on_disk;
  if (fs::exists(fs::path(path) / "CURRENT", ec)) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, path, &on_disk);
    if (!s.ok()) return from_rocksdb(s, "Could not read the database in the data folder " + path);
  } else if (!options.create_if_missing) {
    return not_found("The data folder " + path + " holds no Preceptor store.", "data_dir");
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(db_options));
  for (const std::string& name : on_disk) {
    if (name != rocksdb::kDefaultColumnFamilyName) descriptors.emplace_back(name, family_options(db_options, name));
  }

  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && mentions_lock(s)) {
      return unavailable("The data folder " + path +
                         " is in use by another process (is preceptor-server running?)");
    }
    return from_rocksdb(s, "Could not open the database in the data folder " + path);
  }

  // From here on the Store owns the database, so every early return closes it.
  std::unique_ptr<Store> store(new Store());
  store->path_ = path;
  store->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) {
    const std::string& name = descriptors[i].name;
    if (name == rocksdb::kDefaultColumnFamilyName) {
      store->default_handle_ = handles[i];
    } else if (std::optional<Cf> cf = cf_by_name(name)) {
      store->handles_[static_cast<size_t>(*cf)] = handles[i];
    } else {
      store->unknown_handles_.push_back(handles[i]);
    }
  }

  // The schema check, before anything of ours is written.
  std::optional<uint64_t> version;
  if (store->cf(Cf::kMeta) != nullptr) {
    Result<std::optional<std::string>> stored = store->get(Cf::kMeta, kSchemaVersionKey);
    if (!stored.is_ok()) return stored.status();
    if (stored->has_value()) {
      const std::string& bytes = **stored;
      if (bytes.size() != 8) {
        return data_loss("The data folder " + path +
                         " has an unreadable schema version; restore it from a backup.");
      }
      version = decode_u64(bytes);
    }
  }
  if (version && *version > kSchemaVersion) {
    return failed_precondition(
        "The data folder " + path + " was written by a newer Preceptor (schema version " +
        std::to_string(*version) + "); this binary understands up to " + std::to_string(kSchemaVersion) +
        ". Upgrade preceptor-server or point --data-dir at another folder.");
  }
  // Migrations from older layouts go here, one step per version. None exist
  // yet, so an older version can only be a store this binary cannot read.
  if (version && *version < kSchemaVersion) {
    return failed_precondition("The data folder " + path + " has schema version " + std::to_string(*version) +
                               ", which this binary cannot upgrade to " + std::to_string(kSchemaVersion) +
                               ".");
  }

  for (size_t i = 0; i < kCfCount; ++i) {
    if (store->handles_[i] != nullptr) continue;
    s = store->db_->CreateColumnFamily(family_options(db_options, kCfNames[i]), std::string(kCfNames[i]), &store->handles_[i]);
    if (!s.ok()) {
      return from_rocksdb(
          s, "Could not create the table " + std::string(kCfNames[i]) + " in the data folder " + path);
    }
  }

  if (!version) {
    // First open: both meta records in one synced batch, so a store either
    // has its identity and version or neither.
    v1::StoreIdentity identity;
    identity.set_store_id(random_store_id());
    identity.set_created_ms(wall_clock_ms());
    rocksdb::WriteBatch batch;
    s = batch.Put(store->cf(Cf::kMeta), to_slice(kSchemaVersionKey), encode_u64(kSchemaVersion));
    if (s.ok()) s = batch.Put(store->cf(Cf::kMeta), to_slice(kStoreKey), identity.SerializeAsString());
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    if (s.ok()) s = store->db_->Write(write_options, &batch);
    if (!s.ok()) return from_rocksdb(s, "Could not initialize the data folder " + path);
    store->store_id_ = identity.store_id();
  } else {
    Result<std::optional<std::string>> stored = store->get(Cf::kMeta, kStoreKey);
    if (!stored.is_ok()) return stored.status();
    v1::StoreIdentity identity;
    if (!stored->has_value() || !identity.ParseFromString(**stored) || identity.store_id() == 0) {
      return data_loss("The data folder " + path +
                       " has no readable store identity; restore it from a backup.");
    }
    store->store_id_ = identity.store_id();
  }

  std::unique_ptr<rocksdb::Iterator> it(
      store->db_->NewIterator(rocksdb::ReadOptions(), store->cf(Cf::kEvents)));
  it->SeekToLast();
  if (it->Valid()) {
    std::optional<uint64_t> position = decode_u64(std::string_view(it->key().data(), it->key().size()));
    if (!position || it->key().size() != 8) {
      return data_loss("The data folder " + path + " has a malformed event key; restore it from a backup.");
    }
    store->last_position_at_open_ = *position;
  }
  if (!it->status().ok())
    return from_rocksdb(it->status(), "Could not read the events in the data folder " + path);

  return store;
}

Store::~Store() {
  if (!db_) return;
  // Flush memtables so the next open has no WAL to replay: a clean shutdown
  // then restarts in a fraction of a second instead of replaying every write
  // since the last flush. Best effort: the WAL already holds every commit.
  std::vector<rocksdb::ColumnFamilyHandle*> to_flush;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h != nullptr) to_flush.push_back(h);
  }
  if (!to_flush.empty()) db_->Flush(rocksdb::FlushOptions(), to_flush).PermitUncheckedError();
  for (rocksdb::ColumnFamilyHandle*& h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    h = nullptr;
  }
  for (rocksdb::ColumnFamilyHandle* h : unknown_handles_)
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  unknown_handles_.clear();
  if (default_handle_ != nullptr) db_->DestroyColumnFamilyHandle(default_handle_).PermitUncheckedError();
  default_handle_ = nullptr;
  // A destructor has no one to tell; every committed group was already synced.
  db_->Close().PermitUncheckedError();
  db_.reset();
}

Result<std::optional<std::string>> Store::get(Cf cf, std::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handles_[static_cast<size_t>(cf)], to_slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocksdb(s, "The database could not read from " + std::string(cf_name(cf)));
  return std::optional<std::string>(std::move(value));
}

}  // namespace preceptor::storage
