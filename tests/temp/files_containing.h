#pragma once

// Which files under a folder hold some bytes: a test's `grep -rl`, for
// checking that text left the disk (every file, whatever its kind: table,
// blob, write-ahead log, MANIFEST, info LOG, OPTIONS). Header-only, like
// temp_dir.h.

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
// digits. Nothing else: RocksDB compresses table blocks (Snappy), which
// replaces a run repeated from earlier in the block with a back-reference,
// so a shared prefix or suffix would hide a canary from the grep.
inline std::string random_canary() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 24; ++i) out.push_back(kAlphabet[rd() % kAlphabet.size()]);
  return out;
}

}  // namespace preceptor::testing
