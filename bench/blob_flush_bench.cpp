// How fast documents' bytes can be made durable in RocksDB blob files on
// this disk, without HTTP, hashing or the committer: the storage ceiling of
// the upload scenario (bench/results/issue-13), against the disk itself in
// the same run.
//
//   build-bench/bench/preceptor-blob-flush-bench
//
// Each iteration is one 25 MiB document:
// - BM_DiskWrite: written to a new file in 1 MiB write()s, one fdatasync at
//   the end (what preceptor-bench calls the disk ceiling).
// - BM_BlobFlush/<flush MiB>/<flushes at once>: appended through
//   storage::BlobWriter in 256 KiB pieces (the documents service's piece),
//   with make_durable() every <flush MiB> on up to <flushes at once>
//   threads, and one at the end; durable when the iteration ends. 2/2 is
//   what the server does (kUploadFlushBytes, kUploadFlushesInFlight); the
//   larger ones show what more memory would buy.
// Compare bytes_per_second of the two as a ratio in one run. The store lives
// in a fresh folder under $PRECEPTOR_BENCH_DIR (default: the system temp
// folder), removed afterwards.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <string>

#include "storage/blob_writer.h"
#include "storage/store.h"

namespace preceptor::storage {
namespace {

constexpr size_t kMiB = 1 << 20;
constexpr size_t kDocumentBytes = 25 * kMiB;
constexpr size_t kPieceBytes = 256 * 1024;

std::filesystem::path bench_root() {
  const char* dir = std::getenv("PRECEPTOR_BENCH_DIR");
  return dir != nullptr && *dir != '\0' ? std::filesystem::path(dir) : std::filesystem::temp_directory_path();
}

std::filesystem::path fresh_path(const char* what) {
  return bench_root() /
         (std::string("preceptor-blob-flush-bench-") + what + "-" + std::to_string(std::random_device()()));
}

// Pseudo-random bytes (the disk and RocksDB see no pattern to compress).
std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  std::mt19937_64 rng(13);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  return s;
}

void BM_DiskWrite(benchmark::State& state) {
  const std::string bytes = random_bytes(kDocumentBytes);
  const std::filesystem::path path = fresh_path("disk");
  for (auto _ : state) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      state.SkipWithError(std::strerror(errno));
      break;
    }
    bool ok = true;
    for (size_t off = 0; ok && off < bytes.size(); off += kMiB) {
      ok = ::write(fd, bytes.data() + off, kMiB) == static_cast<ssize_t>(kMiB);
    }
    ok = ok && ::fdatasync(fd) == 0;
    ::close(fd);
    if (!ok) {
      state.SkipWithError("the write or fdatasync failed");
      break;
    }
  }
  std::filesystem::remove(path);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kDocumentBytes));
}

void BM_BlobFlush(benchmark::State& state) {
  const size_t flush_bytes = static_cast<size_t>(state.range(0)) * kMiB;
  const size_t at_once = static_cast<size_t>(state.range(1));
  const std::string bytes = random_bytes(kDocumentBytes);
  const std::filesystem::path dir = fresh_path("store");
  Result<std::unique_ptr<Store>> opened = Store::open(StoreOptions{.path = dir.string()});
  if (!opened.is_ok()) {
    state.SkipWithError(opened.status().to_string().c_str());
    return;
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  BlobWriter blobs(*store);
  uint64_t document = 0;
  for (auto _ : state) {
    ++document;
    std::deque<std::future<Status>> flushes;
    Status failed = Status::ok();
    auto wait_oldest = [&] {
      Status s = flushes.front().get();
      flushes.pop_front();
      if (!s.is_ok()) failed = s;
    };
    size_t since_flush = 0;
    for (size_t off = 0; failed.is_ok() && off < bytes.size(); off += kPieceBytes) {
      if (Status s = blobs.append(document, off, std::string_view(bytes).substr(off, kPieceBytes));
          !s.is_ok()) {
        failed = s;
        break;
      }
      since_flush += kPieceBytes;
      if (since_flush >= flush_bytes) {
        if (flushes.size() >= at_once) wait_oldest();
        flushes.push_back(std::async(std::launch::async, [&blobs] { return blobs.make_durable(); }));
        since_flush = 0;
      }
    }
    while (!flushes.empty()) wait_oldest();
    if (Status s = blobs.make_durable(); !s.is_ok()) failed = s;
    if (!failed.is_ok()) {
      state.SkipWithError(failed.to_string().c_str());
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kDocumentBytes));
  store.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

BENCHMARK(BM_DiskWrite)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_BlobFlush)
    ->ArgNames({"flush_mib", "at_once"})
    ->Args({2, 1})
    ->Args({2, 2})
    ->Args({8, 2})
    ->Args({25, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2);

}  // namespace
}  // namespace preceptor::storage

BENCHMARK_MAIN();
