// storage/blob_writer: documents' bytes in document_chunks, written without
// the write-ahead log and made durable by a flush; read back by offset.

#include "storage/blob_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "storage/keys.h"
#include "tests/storage/storage_test_util.h"

namespace preceptor::storage {
namespace {

constexpr uint64_t kDoc = 42;

// Byte `i` of a test document `seed`: no short period, so a piece read at
// the wrong offset shows.
std::string bytes_of(uint64_t seed, uint64_t offset, size_t length) {
  std::string out(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    const uint64_t at = offset + i;
    out[i] = static_cast<char>((at * 131 + at / 4099 + seed * 7) & 0xff);
  }
  return out;
}

std::unique_ptr<Store> open_store(const std::string& path) {
  auto store = Store::open(StoreOptions{.path = path});
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  return store.is_ok() ? std::move(store.value()) : nullptr;
}

// Everything `reader` gives from `offset` on, in steps of `step` bytes.
std::string read_all(BlobReader& reader, uint64_t offset, size_t step) {
  std::string out;
  std::string buf(step, '\0');
  for (;;) {
    auto got = reader.read_at(offset + out.size(), buf.data(), buf.size());
    EXPECT_TRUE(got.is_ok()) << got.status().to_string();
    if (!got.is_ok() || *got == 0) return out;
    out.append(buf.data(), *got);
  }
}

size_t blob_files(const std::string& path) {
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path))
    n += entry.path().extension() == ".blob";
  return n;
}

TEST(BlobWriter, PiecesReadBackByOffsetInAnyStep) {
  testing::TempDir dir;
  auto store = open_store(dir.data());
  ASSERT_NE(store, nullptr);
  BlobWriter writer(*store);
  // Pieces of uneven sizes, one below the blob threshold (kept inline).
  const uint64_t sizes[] = {256 * 1024, 100, 70'001, 300 * 1024};
  uint64_t at = 0;
  for (uint64_t size : sizes) {
    ASSERT_TRUE(writer.append(kDoc, at, bytes_of(1, at, size)).is_ok());
    at += size;
  }
  ASSERT_TRUE(writer.append(kDoc + 1, 0, bytes_of(2, 0, 5000)).is_ok());  // a neighbour
  EXPECT_EQ(writer.unflushed_bytes(), at + 5000);
  ASSERT_TRUE(writer.make_durable().is_ok());
  EXPECT_EQ(writer.unflushed_bytes(), 0u);
  EXPECT_GE(blob_files(dir.data()), 1u) << "large pieces live in blob files";

  const std::string whole = bytes_of(1, 0, at);
  for (size_t step : {size_t{1000}, size_t{65536}, size_t{1 << 20}}) {
    BlobReader reader(*store, kDoc);
    EXPECT_TRUE(read_all(reader, 0, step) == whole) << "step " << step;
  }
  // From the middle of a piece, and backwards jumps.
  BlobReader reader(*store, kDoc);
  EXPECT_TRUE(read_all(reader, 256 * 1024 + 50, 4096) == whole.substr(256 * 1024 + 50));
  char c = 0;
  ASSERT_TRUE(reader.read_at(7, &c, 1).is_ok());
  EXPECT_EQ(c, whole[7]);
  auto past = reader.read_at(at, &c, 1);
  ASSERT_TRUE(past.is_ok());
  EXPECT_EQ(*past, 0u) << "nothing past the end";
  BlobReader neighbour(*store, kDoc + 1);
  EXPECT_EQ(read_all(neighbour, 0, 4096), bytes_of(2, 0, 5000));
  BlobReader none(*store, kDoc + 2);
  EXPECT_EQ(read_all(none, 0, 4096), "");
}

TEST(BlobWriter, TruncateDropsAStaleTailBeforeNewPieces) {
  testing::TempDir dir;
  auto store = open_store(dir.data());
  ASSERT_NE(store, nullptr);
  BlobWriter writer(*store);
  ASSERT_TRUE(writer.append(kDoc, 0, bytes_of(1, 0, 100'000)).is_ok());
  ASSERT_TRUE(writer.append(kDoc, 100'000, bytes_of(1, 100'000, 200'000)).is_ok());
  ASSERT_TRUE(writer.append(kDoc, 300'000, bytes_of(1, 300'000, 50'000)).is_ok());
  ASSERT_TRUE(writer.make_durable().is_ok());

  // An upload that recorded 100 000 bytes resumes there with other pieces.
  auto stale = writer.has_pieces_from(kDoc, 100'000);
  ASSERT_TRUE(stale.is_ok());
  EXPECT_TRUE(*stale);
  ASSERT_TRUE(writer.truncate(kDoc, 100'000).is_ok());
  stale = writer.has_pieces_from(kDoc, 100'000);
  ASSERT_TRUE(stale.is_ok());
  EXPECT_FALSE(*stale);
  ASSERT_TRUE(writer.append(kDoc, 100'000, bytes_of(9, 100'000, 150'000)).is_ok());
  ASSERT_TRUE(writer.make_durable().is_ok());

  BlobReader reader(*store, kDoc);
  const std::string got = read_all(reader, 0, 65536);
  EXPECT_EQ(got.size(), 250'000u) << "the stale piece at 300 000 is gone";
  EXPECT_TRUE(got == bytes_of(1, 0, 100'000) + bytes_of(9, 100'000, 150'000));
}

TEST(BlobWriter, RemoveDropsOneDocumentDurably) {
  testing::TempDir dir;
  {
    auto store = open_store(dir.data());
    ASSERT_NE(store, nullptr);
    BlobWriter writer(*store);
    ASSERT_TRUE(writer.append(kDoc, 0, bytes_of(1, 0, 200'000)).is_ok());
    ASSERT_TRUE(writer.append(kDoc + 1, 0, bytes_of(2, 0, 200'000)).is_ok());
    ASSERT_TRUE(writer.make_durable().is_ok());
    ASSERT_TRUE(writer.remove(kDoc).is_ok());
  }
  auto store = open_store(dir.data());
  ASSERT_NE(store, nullptr);
  BlobReader gone(*store, kDoc);
  EXPECT_EQ(read_all(gone, 0, 65536), "");
  BlobReader kept(*store, kDoc + 1);
  EXPECT_TRUE(read_all(kept, 0, 65536) == bytes_of(2, 0, 200'000));
}

// Child: appends one piece and makes it durable, says so, appends a second
// piece without flushing, says so, and waits to be killed.
int blob_writer_child(const std::string& path, int pipe_fd) {
  auto store = Store::open(StoreOptions{.path = path});
  if (!store.is_ok()) return 1;
  BlobWriter writer(**store);
  if (!writer.append(kDoc, 0, bytes_of(1, 0, 1 << 20)).is_ok() || !writer.make_durable().is_ok()) return 2;
  if (::write(pipe_fd, "D", 1) != 1) return 3;
  if (!writer.append(kDoc, 1 << 20, bytes_of(1, 1 << 20, 1 << 20)).is_ok()) return 4;
  if (::write(pipe_fd, "W", 1) != 1) return 5;
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}
const bool kBlobChildRegistered = testing::register_child("blob-writer", &blob_writer_child);

TEST(BlobWriter, Kill9KeepsWhatWasMadeDurableAndNothingLoggedBeyond) {
  ASSERT_TRUE(kBlobChildRegistered);
  testing::TempDir dir;
  std::optional<testing::Child> child = testing::spawn_child("blob-writer", dir.data());
  ASSERT_TRUE(child.has_value());
  std::string said;
  const auto deadline = std::chrono::steady_clock::now() + testing::kWaitTimeout;
  while (said.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    char c;
    const ssize_t n = ::read(child->read_fd, &c, 1);
    if (n == 1) said.push_back(c);
    if (n == 0) break;
  }
  ::kill(child->pid, SIGKILL);
  ::close(child->read_fd);
  std::optional<int> status = testing::wait_child(child->pid);
  ASSERT_EQ(said, "DW") << "the child did not get through its writes";
  ASSERT_TRUE(status.has_value());

  auto store = open_store(dir.data());
  ASSERT_NE(store, nullptr);
  BlobReader reader(*store, kDoc);
  EXPECT_TRUE(read_all(reader, 0, 65536) == bytes_of(1, 0, 1 << 20))
      << "the durable piece is whole, and the unflushed one (never in the write-ahead log) is gone";
}

}  // namespace
}  // namespace preceptor::storage
