#pragma once

// A fresh folder under the system temp folder, removed with everything in it
// when the object goes. Header-only, so every test target can use it without
// linking anything (storage tests must not link the server).

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace preceptor::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "preceptor-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // A child folder that does not exist yet, so a store opened there creates it.
  std::string data() const { return (path_ / "data").string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace preceptor::testing
