#include "storage/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "storage/keys.h"
#include "storage/rocksdb_options.h"
#include "tests/storage/storage_test_util.h"

namespace preceptor::storage {
namespace {

using testing::TempDir;

std::unique_ptr<Store> open_ok(const std::string& path) {
  Result<std::unique_ptr<Store>> store = Store::open(StoreOptions{.path = path});
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  return store.is_ok() ? std::move(store).value() : nullptr;
}

// Opens `path` with plain RocksDB and every family on disk, for tests that
// play the part of another (older or newer) binary.
struct RawDb {
  explicit RawDb(const std::string& path, std::vector<std::string> extra_families = {}) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok())
      names = {rocksdb::kDefaultColumnFamilyName};
    for (std::string& extra : extra_families) names.push_back(std::move(extra));
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    status = rocksdb::DB::Open(options, path, descriptors, &handles, &raw);
    db.reset(raw);
    for (size_t i = 0; i < handles.size(); ++i) by_name[descriptors[i].name] = handles[i];
  }
  ~RawDb() {
    for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    if (db) db->Close().PermitUncheckedError();
  }
  rocksdb::Status status;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
};

TEST(Store, FirstOpenCreatesTheFolderAndItsIdentity) {
  TempDir dir;
  std::unique_ptr<Store> store = open_ok(dir.data());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(dir.data()));
  EXPECT_NE(store->store_id(), 0u);
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
  EXPECT_EQ(store->last_position_at_open(), 0u);
  EXPECT_EQ(store->path(), dir.data());
  for (const CfSpec& spec : kCfTable) EXPECT_NE(StoreTestAccess::cf(*store, spec.id), nullptr) << spec.name;

  Result<std::optional<std::string>> version = store->get(Cf::kMeta, "schema_version");
  ASSERT_TRUE(version.is_ok());
  EXPECT_EQ(*version, encode_u64(kSchemaVersion));
  Result<std::optional<std::string>> identity_bytes = store->get(Cf::kMeta, "store");
  ASSERT_TRUE(identity_bytes.is_ok() && identity_bytes->has_value());
  v1::StoreIdentity identity;
  ASSERT_TRUE(identity.ParseFromString(**identity_bytes));
  EXPECT_EQ(identity.store_id(), store->store_id());
  EXPECT_GT(identity.created_ms(), 0);
}

TEST(Store, ReopenKeepsDataAndStoreId) {
  TempDir dir;
  uint64_t store_id = 0;
  {
    std::unique_ptr<Store> store = open_ok(dir.data());
    ASSERT_NE(store, nullptr);
    store_id = store->store_id();
    ASSERT_TRUE(StoreTestAccess::db(*store)
                    ->Put(rocksdb::WriteOptions(), StoreTestAccess::cf(*store, Cf::kUsernames), "alice",
                          encode_u64(7))
                    .ok());
  }
  std::unique_ptr<Store> store = open_ok(dir.data());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->store_id(), store_id);
  Result<std::optional<std::string>> user = store->get(Cf::kUsernames, "alice");
  ASSERT_TRUE(user.is_ok());
  EXPECT_EQ(*user, encode_u64(7));
}

TEST(Store, TwoNewStoresHaveDifferentIds) {
  TempDir a;
  TempDir b;
  std::unique_ptr<Store> sa = open_ok(a.data());
  std::unique_ptr<Store> sb = open_ok(b.data());
  ASSERT_TRUE(sa && sb);
  EXPECT_NE(sa->store_id(), sb->store_id());
}

TEST(Store, GetOfAbsentKeyIsNullopt) {
  TempDir dir;
  std::unique_ptr<Store> store = open_ok(dir.data());
  ASSERT_NE(store, nullptr);
  Result<std::optional<std::string>> value = store->get(Cf::kUsers, encode_u64(1));
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  EXPECT_FALSE(value->has_value());
}

TEST(Store, LastPositionAtOpenIsTheHighestEvent) {
  TempDir dir;
  {
    std::unique_ptr<Store> store = open_ok(dir.data());
    ASSERT_NE(store, nullptr);
    for (uint64_t p : {1u, 2u, 255u, 256u, 300u}) {
      ASSERT_TRUE(
          StoreTestAccess::db(*store)
              ->Put(rocksdb::WriteOptions(), StoreTestAccess::cf(*store, Cf::kEvents), encode_u64(p), "x")
              .ok());
    }
    // Keys in a later family must not count.
    ASSERT_TRUE(StoreTestAccess::db(*store)
                    ->Put(rocksdb::WriteOptions(), StoreTestAccess::cf(*store, Cf::kUserInbox),
                          keys::UserInbox{.user_id = 1, .position = 9999}.encode(), "")
                    .ok());
  }
  std::unique_ptr<Store> store = open_ok(dir.data());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->last_position_at_open(), 300u);
}

TEST(Store, NewerSchemaVersionIsRefusedAndLeftAlone) {
  TempDir dir;
  {
    std::unique_ptr<Store> store = open_ok(dir.data());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(StoreTestAccess::db(*store)
                    ->Put(rocksdb::WriteOptions(), StoreTestAccess::cf(*store, Cf::kMeta), "schema_version",
                          encode_u64(kSchemaVersion + 2))
                    .ok());
  }
  Result<std::unique_ptr<Store>> refused = Store::open(StoreOptions{.path = dir.data()});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), v1::ERROR_CODE_FAILED_PRECONDITION);
  const std::string message = refused.status().message();
  EXPECT_NE(message.find(dir.data()), std::string::npos) << message;
  EXPECT_NE(message.find("schema version " + std::to_string(kSchemaVersion + 2)), std::string::npos)
      << message;
  EXPECT_NE(message.find("up to " + std::to_string(kSchemaVersion)), std::string::npos) << message;

  // The refusal wrote nothing: the version is still the newer one.
  RawDb raw(dir.data());
  ASSERT_TRUE(raw.status.ok()) << raw.status.ToString();
  std::string version;
  ASSERT_TRUE(raw.db->Get(rocksdb::ReadOptions(), raw.by_name.at("meta"), "schema_version", &version).ok());
  EXPECT_EQ(version, encode_u64(kSchemaVersion + 2));
}

TEST(Store, NewerSchemaIsRefusedBeforeCreatingFamilies) {
  // A store from a newer binary that has only some of our families: the
  // refusal must not add the missing ones.
  TempDir dir;
  {
    RawDb raw(dir.data(), {"meta"});
    ASSERT_TRUE(raw.status.ok()) << raw.status.ToString();
    ASSERT_TRUE(raw.db
                    ->Put(rocksdb::WriteOptions(), raw.by_name.at("meta"), "schema_version",
                          encode_u64(kSchemaVersion + 1))
                    .ok());
  }
  Result<std::unique_ptr<Store>> refused = Store::open(StoreOptions{.path = dir.data()});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), v1::ERROR_CODE_FAILED_PRECONDITION);
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.data(), &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{rocksdb::kDefaultColumnFamilyName, "meta"}));
}

TEST(Store, FamiliesThisBinaryDoesNotKnowAreOpenedAndKept) {
  TempDir dir;
  { ASSERT_NE(open_ok(dir.data()), nullptr); }
  {
    RawDb raw(dir.data(), {"from_the_future"});
    ASSERT_TRUE(raw.status.ok()) << raw.status.ToString();
    ASSERT_TRUE(raw.db->Put(rocksdb::WriteOptions(), raw.by_name.at("from_the_future"), "k", "v").ok());
  }
  { ASSERT_NE(open_ok(dir.data()), nullptr); }
  RawDb raw(dir.data());
  ASSERT_TRUE(raw.status.ok()) << raw.status.ToString();
  std::string value;
  ASSERT_TRUE(raw.db->Get(rocksdb::ReadOptions(), raw.by_name.at("from_the_future"), "k", &value).ok());
  EXPECT_EQ(value, "v");
}

TEST(Store, UnreadableSchemaVersionIsDataLoss) {
  TempDir dir;
  {
    std::unique_ptr<Store> store = open_ok(dir.data());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        StoreTestAccess::db(*store)
            ->Put(rocksdb::WriteOptions(), StoreTestAccess::cf(*store, Cf::kMeta), "schema_version", "one")
            .ok());
  }
  Result<std::unique_ptr<Store>> refused = Store::open(StoreOptions{.path = dir.data()});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), v1::ERROR_CODE_DATA_LOSS);
}

TEST(Store, MissingFolderWithoutCreateIsNotFound) {
  TempDir dir;
  Result<std::unique_ptr<Store>> store =
      Store::open(StoreOptions{.path = dir.data(), .create_if_missing = false});
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_FALSE(std::filesystem::exists(dir.data()));

  // An existing but empty folder is not a store either, and is left empty.
  std::filesystem::create_directory(dir.data());
  store = Store::open(StoreOptions{.path = dir.data(), .create_if_missing = false});
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_TRUE(std::filesystem::is_empty(dir.data()));
}

// Every file under `dir` (and `dir` itself) whose mode lets group or others in.
std::vector<std::string> readable_by_others(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const fs::perms others = fs::perms::group_all | fs::perms::others_all;
  std::vector<std::string> found;
  if ((fs::status(dir).permissions() & others) != fs::perms::none) found.push_back(dir.string());
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if ((entry.symlink_status().permissions() & others) != fs::perms::none)
      found.push_back(entry.path().string());
  }
  return found;
}

TEST(Store, FolderAndEveryFileAreTheOwnersAlone) {
  namespace fs = std::filesystem;
  const mode_t old_umask = ::umask(022);  // the usual default: files 0644, folders 0755
  TempDir dir;
  {
    std::unique_ptr<Store> store = open_ok(dir.data());
    ASSERT_NE(store, nullptr);
    ManualClock clock;
    Committer committer(*store, clock);
    std::promise<Status> done;
    committer.submit(
        [](CommitContext& ctx) {
          ctx.put(Cf::kUsers, "k", "private conversation");
          return Status::ok();
        },
        [&](const Status& st) { done.set_value(st); });
    EXPECT_TRUE(done.get_future().get().is_ok());
  }
  EXPECT_FALSE(fs::is_empty(dir.data()));
  EXPECT_EQ(readable_by_others(dir.data()), std::vector<std::string>{});

  // A folder left readable by an older version is made private at the next open.
  fs::permissions(
      dir.data(),
      fs::perms::group_read | fs::perms::others_read | fs::perms::group_exec | fs::perms::others_exec,
      fs::perm_options::add);
  std::ofstream(fs::path(dir.data()) / "LOG.old.1") << "old log";
  fs::permissions(fs::path(dir.data()) / "LOG.old.1", fs::perms::others_read, fs::perm_options::add);
  ASSERT_FALSE(readable_by_others(dir.data()).empty());
  EXPECT_NE(open_ok(dir.data()), nullptr);
  EXPECT_EQ(readable_by_others(dir.data()), std::vector<std::string>{});
  ::umask(old_umask);
}

TEST(Store, SecondOpenInTheSameProcessIsUnavailable) {
  TempDir dir;
  std::unique_ptr<Store> first = open_ok(dir.data());
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<Store>> second = Store::open(StoreOptions{.path = dir.data()});
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_NE(second.status().message().find("in use by another process"), std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find(dir.data()), std::string::npos);
  // The first one is unharmed.
  EXPECT_TRUE(first->get(Cf::kMeta, "store").is_ok());
}

// Child: tries to open the folder and reports the outcome on the pipe.
int try_open_child(const std::string& path, int pipe_fd) {
  Result<std::unique_ptr<Store>> store = Store::open(StoreOptions{.path = path});
  const std::string report = store.status().to_string();
  return ::write(pipe_fd, report.data(), report.size()) == static_cast<ssize_t>(report.size()) ? 0 : 1;
}
const bool kTryOpenRegistered = testing::register_child("try-open", &try_open_child);

TEST(Store, OpenFromAnotherProcessIsUnavailable) {
  ASSERT_TRUE(kTryOpenRegistered);
  TempDir dir;
  std::unique_ptr<Store> store = open_ok(dir.data());
  ASSERT_NE(store, nullptr);

  std::optional<testing::Child> child = testing::spawn_child("try-open", dir.data());
  ASSERT_TRUE(child.has_value());
  std::string report;
  const bool eof = testing::read_until_eof(child->read_fd, report);
  ::close(child->read_fd);
  std::optional<int> wstatus = testing::wait_child(child->pid);
  ASSERT_TRUE(eof);
  ASSERT_TRUE(wstatus.has_value());
  ASSERT_TRUE(WIFEXITED(*wstatus) && WEXITSTATUS(*wstatus) == 0) << *wstatus;
  EXPECT_EQ(report, "UNAVAILABLE: The data folder " + dir.data() +
                        " is in use by another process (is preceptor-server running?)");
}

TEST(Store, FolderIsFreeAgainAfterClose) {
  TempDir dir;
  { ASSERT_NE(open_ok(dir.data()), nullptr); }
  EXPECT_NE(open_ok(dir.data()), nullptr);
}

// ---- scans ----

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::string inbox(uint64_t user, uint64_t position) {
  return keys::UserInbox{.user_id = user, .position = position}.encode();
}

// A store with inbox entries of users 0, 1, 2, kMax - 1 and kMax, written
// directly (the committer is not under test here); each value names its key.
class StoreScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_ok(dir_.data());
    ASSERT_NE(store_, nullptr);
    for (auto [user, position] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, 5}, {1, 1}, {1, 2}, {1, 3}, {1, 256}, {2, 1}, {kMax - 1, 7}, {kMax, 1}, {kMax, kMax}}) {
      put(inbox(user, position), value_of(user, position));
    }
  }

  static std::string value_of(uint64_t user, uint64_t position) {
    return std::to_string(user) + "/" + std::to_string(position);
  }

  void put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(StoreTestAccess::db(*store_)
                    ->Put(rocksdb::WriteOptions(), StoreTestAccess::cf(*store_, Cf::kUserInbox), key, value)
                    .ok());
  }

  struct Scanned {
    std::vector<std::string> values;
    ScanEnd end = ScanEnd::kEndOfRange;
  };

  Scanned scan(KeyRange range, ScanLimits limits = {}) {
    Scanned out;
    Result<ScanEnd> end = store_->scan(
        Cf::kUserInbox, range,
        [&](std::string_view, std::string_view value) {
          out.values.emplace_back(value);
          return true;
        },
        limits);
    EXPECT_TRUE(end.is_ok()) << end.status().to_string();
    if (end.is_ok()) out.end = *end;
    return out;
  }

  Scanned scan_prefix(const std::string& prefix) {
    Scanned out;
    Result<ScanEnd> end =
        store_->scan_prefix(Cf::kUserInbox, prefix, [&](std::string_view, std::string_view value) {
          out.values.emplace_back(value);
          return true;
        });
    EXPECT_TRUE(end.is_ok()) << end.status().to_string();
    if (end.is_ok()) out.end = *end;
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreScanTest, RangeIsHalfOpenAndInKeyOrder) {
  const std::string begin = inbox(1, 2);
  const std::string end = inbox(1, 256);
  Scanned s = scan({.begin = begin, .end = end});
  EXPECT_EQ(s.values, (std::vector<std::string>{"1/2", "1/3"}));
  EXPECT_EQ(s.end, ScanEnd::kEndOfRange);
}

TEST_F(StoreScanTest, EmptyBoundsMeanTheWholeFamily) {
  Scanned s = scan({});
  EXPECT_EQ(s.values, (std::vector<std::string>{"0/5", "1/1", "1/2", "1/3", "1/256", "2/1",
                                                std::to_string(kMax - 1) + "/7", std::to_string(kMax) + "/1",
                                                std::to_string(kMax) + "/" + std::to_string(kMax)}));
  EXPECT_EQ(s.end, ScanEnd::kEndOfRange);
  const std::string end = inbox(1, 0);
  EXPECT_EQ(scan({.end = end}).values, (std::vector<std::string>{"0/5"}));
}

TEST_F(StoreScanTest, EmptyRangeCallsNothing) {
  const std::string key = inbox(1, 2);
  EXPECT_TRUE(scan({.begin = key, .end = key}).values.empty());
  const std::string past = inbox(3, 0);
  const std::string before_max = inbox(kMax - 1, 0);
  EXPECT_TRUE(scan({.begin = past, .end = before_max}).values.empty());
}

TEST_F(StoreScanTest, PrefixScanStaysInsideOneId) {
  EXPECT_EQ(scan_prefix(keys::UserInbox::prefix(1)).values,
            (std::vector<std::string>{"1/1", "1/2", "1/3", "1/256"}));
  EXPECT_EQ(scan_prefix(keys::UserInbox::prefix(0)).values, (std::vector<std::string>{"0/5"}));
  EXPECT_TRUE(scan_prefix(keys::UserInbox::prefix(3)).values.empty());
  // The last id has no key above its prefix: the scan runs to the family's end.
  EXPECT_EQ(scan_prefix(keys::UserInbox::prefix(kMax)).values,
            (std::vector<std::string>{std::to_string(kMax) + "/1",
                                      std::to_string(kMax) + "/" + std::to_string(kMax)}));
  EXPECT_EQ(scan_prefix(keys::UserInbox::prefix(kMax - 1)).values,
            (std::vector<std::string>{std::to_string(kMax - 1) + "/7"}));
}

TEST_F(StoreScanTest, MaxEntriesPagesAndSaysWhenMoreFollow) {
  const std::string end = keys::prefix_end(keys::UserInbox::prefix(1));
  std::string begin = keys::UserInbox::prefix(1);
  Scanned first = scan({.begin = begin, .end = end}, {.max_entries = 3});
  EXPECT_EQ(first.values, (std::vector<std::string>{"1/1", "1/2", "1/3"}));
  EXPECT_EQ(first.end, ScanEnd::kLimitReached);
  // The next page starts after the last key handed out; it ends the range
  // with room to spare, so nothing more follows.
  begin = inbox(1, 4);
  Scanned second = scan({.begin = begin, .end = end}, {.max_entries = 3});
  EXPECT_EQ(second.values, (std::vector<std::string>{"1/256"}));
  EXPECT_EQ(second.end, ScanEnd::kEndOfRange);
  // A page that takes exactly the range's last entries has nothing more either.
  begin = keys::UserInbox::prefix(1);
  Scanned exact = scan({.begin = begin, .end = end}, {.max_entries = 4});
  EXPECT_EQ(exact.values.size(), 4u);
  EXPECT_EQ(exact.end, ScanEnd::kEndOfRange);
}

TEST_F(StoreScanTest, MaxBytesCountsKeysAndValuesButAlwaysHandsOutOne) {
  const std::string begin = keys::UserInbox::prefix(1);
  const std::string end = keys::prefix_end(begin);
  // Each entry is a 16-byte key and a 3-byte value ("1/1").
  Scanned one = scan({.begin = begin, .end = end}, {.max_bytes = 1});
  EXPECT_EQ(one.values, (std::vector<std::string>{"1/1"}));
  EXPECT_EQ(one.end, ScanEnd::kLimitReached);
  Scanned two = scan({.begin = begin, .end = end}, {.max_bytes = 2 * 19});
  EXPECT_EQ(two.values, (std::vector<std::string>{"1/1", "1/2"}));
  EXPECT_EQ(two.end, ScanEnd::kLimitReached);
  Scanned all = scan({.begin = begin, .end = end}, {.max_bytes = 1000});
  EXPECT_EQ(all.values.size(), 4u);
  EXPECT_EQ(all.end, ScanEnd::kEndOfRange);
}

TEST_F(StoreScanTest, FnReturningFalseStopsTheScan) {
  std::vector<std::string> keys_seen;
  Result<ScanEnd> end = store_->scan_prefix(Cf::kUserInbox, keys::UserInbox::prefix(1),
                                            [&](std::string_view key, std::string_view) {
                                              keys_seen.emplace_back(key);
                                              return keys_seen.size() < 2;
                                            });
  ASSERT_TRUE(end.is_ok()) << end.status().to_string();
  EXPECT_EQ(*end, ScanEnd::kStoppedByFn);
  EXPECT_EQ(keys_seen, (std::vector<std::string>{inbox(1, 1), inbox(1, 2)}));
}

// ---- the table of column families ----

std::string hint_name(const rocksdb::ColumnFamilyOptions& o) {
  return o.memtable_insert_with_hint_prefix_extractor ? o.memtable_insert_with_hint_prefix_extractor->GetId()
                                                      : "";
}

// The tuning measured by the benchmarks: a change here is a change of the
// write path's cost, so it must be on purpose.
TEST(ColumnFamilies, TableKeepsTheTunedHintsBloomAndKeptFamilies) {
  std::map<std::string_view, std::string> hints;
  std::vector<std::string_view> kept;
  std::vector<std::string_view> bloom;
  std::vector<std::string_view> blob;
  const rocksdb::Options db = db_options(StoreOptions{});
  for (const CfSpec& spec : kCfTable) {
    const std::string hint = hint_name(family_options(db, spec));
    if (!hint.empty()) hints[spec.name] = hint;
    if (spec.kept_by_committer) kept.push_back(spec.name);
    if (spec.memtable_whole_key_bloom) bloom.push_back(spec.name);
    if (spec.blob_values) blob.push_back(spec.name);
  }
  EXPECT_EQ(hints, (std::map<std::string_view, std::string>{
                       {"events", "rocksdb.FixedPrefix.0"},
                       {"user_inbox", "rocksdb.FixedPrefix.8"},
                       {"conversations", "rocksdb.FixedPrefix.8"},
                       {"messages", "rocksdb.FixedPrefix.8"},
                       {"client_message_ids", "rocksdb.FixedPrefix.16"},
                       {"read_markers", "rocksdb.FixedPrefix.16"},
                       {"audit", "rocksdb.FixedPrefix.0"},
                   }));
  EXPECT_EQ(kept,
            (std::vector<std::string_view>{
                "meta", "users", "mentor_profiles", "mentorships", "conversations", "read_markers",
                "user_usage", "meetings", "meeting_counts", "office_hours", "slot_bookings", "queues",
                "user_preferences", "goals", "assignments", "reviews", "documents", "mentorship_work"}));
  EXPECT_EQ(bloom, (std::vector<std::string_view>{"client_message_ids"}));
  EXPECT_EQ(blob, (std::vector<std::string_view>{"document_chunks"}));
}

TEST(ColumnFamilies, StoreOpensEveryFamilyWithTheOptionsOfItsRow) {
  TempDir dir;
  std::unique_ptr<Store> store = open_ok(dir.data());
  ASSERT_NE(store, nullptr);
  const rocksdb::Options db = db_options(StoreOptions{});
  for (const CfSpec& spec : kCfTable) {
    const rocksdb::ColumnFamilyOptions expected = family_options(db, spec);
    const rocksdb::ColumnFamilyOptions opened =
        StoreTestAccess::db(*store)->GetOptions(StoreTestAccess::cf(*store, spec.id));
    EXPECT_EQ(hint_name(opened), hint_name(expected)) << spec.name;
    EXPECT_EQ(opened.memtable_whole_key_filtering, spec.memtable_whole_key_bloom) << spec.name;
    EXPECT_EQ(opened.memtable_prefix_bloom_size_ratio, expected.memtable_prefix_bloom_size_ratio)
        << spec.name;
    EXPECT_EQ(opened.enable_blob_files, spec.blob_values) << spec.name;
  }
}

TEST(ColumnFamilies, BlobFamilyStoresLargeValuesInBlobFiles) {
  // No family uses blob files yet; this one plays the part of the first.
  const CfSpec documents{.id = Cf::kCount, .name = "documents", .blob_values = true};
  TempDir dir;
  rocksdb::Options db = db_options(StoreOptions{.path = dir.data()});
  db.create_missing_column_families = true;
  const rocksdb::ColumnFamilyOptions options = family_options(db, documents);
  EXPECT_TRUE(options.enable_blob_files);
  EXPECT_EQ(options.min_blob_size, kMinBlobBytes);
  EXPECT_TRUE(options.enable_blob_garbage_collection);

  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ASSERT_TRUE(rocksdb::DB::Open(db, dir.data(),
                                {{rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(db)},
                                 {"documents", options}},
                                &handles, &raw)
                  .ok());
  std::unique_ptr<rocksdb::DB> owned(raw);
  const std::string large(64 << 10, 'd');
  ASSERT_TRUE(owned->Put(rocksdb::WriteOptions(), handles[1], "cv-draft-1", large).ok());
  ASSERT_TRUE(owned->Put(rocksdb::WriteOptions(), handles[1], "note", "small").ok());
  ASSERT_TRUE(owned->Flush(rocksdb::FlushOptions(), handles[1]).ok());
  size_t blob_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.data())) {
    if (entry.path().extension() == ".blob") ++blob_files;
  }
  EXPECT_EQ(blob_files, 1u);
  std::string value;
  ASSERT_TRUE(owned->Get(rocksdb::ReadOptions(), handles[1], "cv-draft-1", &value).ok());
  EXPECT_EQ(value, large);
  ASSERT_TRUE(owned->Get(rocksdb::ReadOptions(), handles[1], "note", &value).ok());
  EXPECT_EQ(value, "small");
  for (rocksdb::ColumnFamilyHandle* h : handles) owned->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  owned->Close().PermitUncheckedError();
}

}  // namespace
}  // namespace preceptor::storage
