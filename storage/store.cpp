#include "storage/store.h"

#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <random>
#include <system_error>

#include "common/log.h"
#include "preceptor/v1/records.pb.h"
#include "storage/keys.h"
#include "storage/rocksdb_options.h"
#include "storage/rocksdb_status.h"

namespace preceptor::storage {
namespace {

bool mentions_lock(const rocksdb::Status& s) {
  std::string text = s.ToString();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text.find("lock") != std::string::npos;
}

// The store holds private conversations: its folder is the owner's alone
// (0700), and so is every file in it (no group or other bits), including
// those an older version left readable.
Status keep_to_owner(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    return failed_precondition("Could not make the data folder " + path +
                               " private to its owner: " + ec.message() + ".");
  }
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(path, ec)) {
    const fs::perms others = fs::perms::group_all | fs::perms::others_all;
    if (entry.is_symlink() || (entry.symlink_status().permissions() & others) == fs::perms::none) continue;
    fs::permissions(entry.path(), others, fs::perm_options::remove, ec);
    if (ec) {
      return failed_precondition("Could not make " + entry.path().string() +
                                 " private to its owner: " + ec.message() + ".");
    }
  }
  if (ec) return unavailable("Could not look at the data folder " + path + ": " + ec.message() + ".");
  // RocksDB creates its files with the process's umask (0644 under the usual
  // 022), so the process drops group and other bits for good: nothing a
  // Preceptor process writes is meant for other accounts.
  const mode_t previous = ::umask(077);
  ::umask(previous | 077);
  return Status::ok();
}

std::optional<Cf> cf_by_name(std::string_view name) {
  for (const CfSpec& spec : kCfTable) {
    if (spec.name == name) return spec.id;
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
  PRECEPTOR_RETURN_IF_ERROR(keep_to_owner(path));

  const rocksdb::Options rocksdb_options = db_options(options);

  // Open exactly the families already on disk (a newer binary may have added
  // some; RocksDB wants them all). Ours are created only after the schema
  // check, so a refused store gets no new families or records (RocksDB's own
  // open bookkeeping, such as a new MANIFEST and OPTIONS file, aside).
  std::vector<std::string> on_disk;
  if (fs::exists(fs::path(path) / "CURRENT", ec)) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb_options, path, &on_disk);
    if (!s.ok()) return from_rocksdb(s, "Could not read the database in the data folder " + path);
  } else if (!options.create_if_missing) {
    return not_found("The data folder " + path + " holds no Preceptor store.", "data_dir");
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(rocksdb_options));
  for (const std::string& name : on_disk) {
    if (name == rocksdb::kDefaultColumnFamilyName) continue;
    const std::optional<Cf> cf = cf_by_name(name);
    descriptors.emplace_back(name, cf ? family_options(rocksdb_options, cf_spec(*cf))
                                      : rocksdb::ColumnFamilyOptions(rocksdb_options));
  }

  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb_options, path, descriptors, &handles, &raw);
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
    Result<std::optional<std::string>> stored = store->get(Cf::kMeta, keys::kSchemaVersionKey);
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
  // Migrations from older layouts, one step per version:
  //   1 -> 2: message text leaves events and inboxes (upgrade_message_text, below).
  if (version && *version < 1) {
    return failed_precondition("The data folder " + path + " has schema version " + std::to_string(*version) +
                               ", which this binary cannot upgrade to " + std::to_string(kSchemaVersion) +
                               ".");
  }

  for (const CfSpec& spec : kCfTable) {
    rocksdb::ColumnFamilyHandle*& handle = store->handles_[static_cast<size_t>(spec.id)];
    if (handle != nullptr) continue;
    s = store->db_->CreateColumnFamily(family_options(rocksdb_options, spec), std::string(spec.name),
                                       &handle);
    if (!s.ok()) {
      return from_rocksdb(
          s, "Could not create the table " + std::string(spec.name) + " in the data folder " + path);
    }
  }

  if (!version) {
    // First open: both meta records in one synced batch, so a store either
    // has its identity and version or neither.
    v1::StoreIdentity identity;
    identity.set_store_id(random_store_id());
    identity.set_created_ms(wall_clock_ms());
    rocksdb::WriteBatch batch;
    s = batch.Put(store->cf(Cf::kMeta), keys::kSchemaVersionKey, encode_u64(kSchemaVersion));
    if (s.ok()) s = batch.Put(store->cf(Cf::kMeta), keys::kStoreKey, identity.SerializeAsString());
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    if (s.ok()) s = store->db_->Write(write_options, &batch);
    if (!s.ok()) return from_rocksdb(s, "Could not initialize the data folder " + path);
    store->store_id_ = identity.store_id();
  } else {
    Result<std::optional<std::string>> stored = store->get(Cf::kMeta, keys::kStoreKey);
    if (!stored.is_ok()) return stored.status();
    v1::StoreIdentity identity;
    if (!stored->has_value() || !identity.ParseFromString(**stored) || identity.store_id() == 0) {
      return data_loss("The data folder " + path +
                       " has no readable store identity; restore it from a backup.");
    }
    store->store_id_ = identity.store_id();
  }

  PRECEPTOR_RETURN_IF_ERROR(store->upgrade_message_text());
  if (version && *version < kSchemaVersion) {
    // Every step above is done: from now on a binary that does not know this
    // layout (it would send message events without their text) refuses the folder.
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    s = store->db_->Put(write_options, store->cf(Cf::kMeta), keys::kSchemaVersionKey,
                        encode_u64(kSchemaVersion));
    if (!s.ok()) return from_rocksdb(s, "Could not record the upgraded schema version in " + path);
    log::info("schema_upgraded").kv("from", *version).kv("to", kSchemaVersion);
  }

  std::unique_ptr<rocksdb::Iterator> it(
      store->db_->NewIterator(rocksdb::ReadOptions(), store->cf(Cf::kEvents)));
  it->SeekToLast();
  if (it->Valid()) {
    const std::optional<keys::Event> last = keys::Event::decode(it->key().ToStringView());
    if (!last) {
      return data_loss("The data folder " + path + " has a malformed event key; restore it from a backup.");
    }
    store->last_position_at_open_ = last->position;
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
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[static_cast<size_t>(cf)], key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocksdb(s, "The database could not read from " + std::string(cf_name(cf)));
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::optional<std::string>>> Store::multi_get(Cf cf,
                                                                 std::span<const std::string> keys) const {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), handles_[static_cast<size_t>(cf)], keys.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok())
      return from_rocksdb(statuses[i], "The database could not read from " + std::string(cf_name(cf)));
    out[i].emplace(values[i].ToStringView());
  }
  return out;
}

Status Store::compact_away(Cf cf, std::span<const KeyInterval> intervals) const {
  // Every family, not only `cf`: a WAL file is deleted only once no family's
  // memtable still needs it.
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h != nullptr) all.push_back(h);
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  rocksdb::Status s = db_->Flush(flush, all);
  if (!s.ok()) return from_rocksdb(s, "The database could not flush its memtables");
  rocksdb::CompactRangeOptions compact;
  // Rewrite the bottommost files too, or an older version there would stay;
  // "optimized" skips the files this very compaction just wrote there.
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  compact.exclusive_manual_compaction = false;  // background compactions go on meanwhile
  compact.allow_write_stall = true;             // never wait on a stall the writer is in
  rocksdb::ColumnFamilyHandle* handle = handles_[static_cast<size_t>(cf)];
  if (intervals.empty()) {
    s = db_->CompactRange(compact, handle, nullptr, nullptr);
  }
  for (const KeyInterval& interval : intervals) {
    if (!s.ok()) break;
    const rocksdb::Slice first(interval.first);
    const rocksdb::Slice last(interval.last);  // CompactRange's end is inclusive
    s = db_->CompactRange(compact, handle, &first, &last);
  }
  if (!s.ok()) return from_rocksdb(s, "The database could not compact " + std::string(cf_name(cf)));
  return Status::ok();
}

Result<ScanEnd> Store::scan(Cf cf, KeyRange range, ScanFn fn, ScanLimits limits) const {
  rocksdb::ReadOptions options;
  // The bound lets RocksDB stop at the range's end instead of reading on
  // into the next keys (and the tombstones between).
  rocksdb::Slice upper(range.end);
  if (!range.end.empty()) options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handles_[static_cast<size_t>(cf)]));
  internal::ScanBudget budget(limits);
  ScanEnd end = ScanEnd::kEndOfRange;
  for (it->Seek(range.begin); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (!budget.entries_left()) {
      end = ScanEnd::kLimitReached;
      break;
    }
    const std::string_view value = it->value().ToStringView();
    if (!budget.take(key.size() + value.size())) {
      end = ScanEnd::kLimitReached;
      break;
    }
    if (!fn(key, value)) {
      end = ScanEnd::kStoppedByFn;
      break;
    }
  }
  if (!it->status().ok()) {
    return from_rocksdb(it->status(), "The database could not read " + std::string(cf_name(cf)));
  }
  return end;
}

Result<ScanEnd> Store::scan_prefix(Cf cf, std::string_view prefix, ScanFn fn, ScanLimits limits) const {
  const std::string end = keys::prefix_end(prefix);
  return scan(cf, KeyRange{.begin = prefix, .end = end}, fn, limits);
}

}  // namespace preceptor::storage
