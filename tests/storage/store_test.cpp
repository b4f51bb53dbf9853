#include "storage/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "storage/keys.h"
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
  for (size_t i = 0; i < kCfCount; ++i) EXPECT_NE(store->cf(static_cast<Cf>(i)), nullptr) << kCfNames[i];

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
    ASSERT_TRUE(
        store->db()->Put(rocksdb::WriteOptions(), store->cf(Cf::kUsernames), "alice", encode_u64(7)).ok());
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
      ASSERT_TRUE(store->db()->Put(rocksdb::WriteOptions(), store->cf(Cf::kEvents), encode_u64(p), "x").ok());
    }
    // Keys in a later family must not count.
    ASSERT_TRUE(store->db()
                    ->Put(rocksdb::WriteOptions(), store->cf(Cf::kUserInbox), user_inbox_key(1, 9999), "")
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
    ASSERT_TRUE(store->db()
                    ->Put(rocksdb::WriteOptions(), store->cf(Cf::kMeta), "schema_version",
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
        store->db()->Put(rocksdb::WriteOptions(), store->cf(Cf::kMeta), "schema_version", "one").ok());
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

}  // namespace
}  // namespace preceptor::storage
