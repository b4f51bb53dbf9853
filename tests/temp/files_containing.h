#pragma once

// Which files under a folder hold some bytes: a test's `grep -rl`, for
// checking that text left the disk (every file, whatever its kind: table,
// blob, write-ahead log, MANIFEST, info LOG, OPTIONS). Header-only, like
// temp_dir.h.

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace preceptor::testing {

// The paths (relative to `folder`) of the regular files under it whose bytes
// contain `needle`. Files that vanish while it reads (RocksDB deletes
// obsolete ones in the background) are skipped.
inline std::vector<std::string> files_containing(const std::filesystem::path& folder,
                                                 std::string_view needle) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) continue;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos)
      found.push_back(std::filesystem::relative(it->path(), folder).string());
  }
  return found;
}

// A string no other bytes in the folder will hold: 24 random letters and
// digits. RocksDB compresses table blocks (Snappy), which replaces a run
// repeated from earlier in the block with a back-reference, and a match
// found on the bytes just before a canary (a record's common field header)
// runs on into the canary for as long as it equals the other's. So two
// canaries of one process never share their first letter nor their last
// (a shared one hid a canary from the grep in 1 run out of 62), and nothing
// else is fixed: a shared prefix or suffix would do the same.
inline std::string random_canary() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  // Consecutive canaries take consecutive first and last letters, from a
  // random start: distinct for any 62 in a row.
  static std::atomic<std::size_t> next{rd()};
  const std::size_t n = next.fetch_add(1);
  std::string out;
  out.push_back(kAlphabet[n % kAlphabet.size()]);
  for (int i = 1; i < 23; ++i) out.push_back(kAlphabet[rd() % kAlphabet.size()]);
  out.push_back(kAlphabet[(n + kAlphabet.size() / 2) % kAlphabet.size()]);
  return out;
}

}  // namespace preceptor::testing
