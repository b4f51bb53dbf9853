#pragma once

// The vocabulary of range scans, shared by Store::scan (committed data) and
// CommitContext::scan (inside a mutation).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <type_traits>

namespace preceptor::storage {

// The keys k with begin <= k < end, bytewise. An empty `begin` starts at the
// family's first key; an empty `end` runs to its last (see keys::prefix_end).
// Both are borrowed for the call.
struct KeyRange {
  std::string_view begin = {};
  std::string_view end = {};
};

// Where a scan stops at the latest. Default: nowhere.
struct ScanLimits {
  static constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
  size_t max_entries = kUnlimited;  // entries handed to fn
  // Key plus value bytes handed to fn. The first entry is always handed
  // over, however large, so a page always makes progress.
  size_t max_bytes = kUnlimited;
};

// How a scan ended.
enum class ScanEnd : uint8_t {
  kEndOfRange,    // every entry of the range went to fn
  kStoppedByFn,   // fn returned false
  kLimitReached,  // a limit stopped it with entries of the range left: has_more; page on after the last key
};

class ScanFn;

// What a scan calls: bool(std::string_view key, std::string_view value).
template <class F>
concept ScanCallable = !std::is_same_v<std::remove_cvref_t<F>, ScanFn> &&
                       std::is_invocable_r_v<bool, F&, std::string_view, std::string_view>;

// A borrowed ScanCallable, called for each entry in key order; returning
// false stops the scan. The views are valid only during the call. Cheap to
// pass by value (no allocation, unlike std::function); must not outlive the
// callable it was made from, which a scan's argument never does.
class ScanFn {
 public:
  template <ScanCallable F>
  ScanFn(F&& f)  // NOLINT: implicit, so a lambda can be passed as it is
      : callable_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_(&call<std::remove_reference_t<F>>) {}

  bool operator()(std::string_view key, std::string_view value) const { return call_(callable_, key, value); }

 private:
  template <class F>
  static bool call(void* callable, std::string_view key, std::string_view value) {
    return (*static_cast<F*>(callable))(key, value);
  }
  void* callable_;
  bool (*call_)(void*, std::string_view, std::string_view);
};

namespace internal {

// Counts what a scan hands out against its limits.
class ScanBudget {
 public:
  explicit ScanBudget(ScanLimits limits) : limits_(limits) {}
  // False when the entries limit is reached (checked before the value is read).
  bool entries_left() const { return entries_ < limits_.max_entries; }
  bool counts_bytes() const { return limits_.max_bytes != ScanLimits::kUnlimited; }
  // Takes one entry of `bytes` (key plus value); false, taking nothing, when
  // it would go past max_bytes. REQUIRES: entries_left()
  bool take(size_t bytes) {
    if (entries_ > 0 && (bytes_ >= limits_.max_bytes || bytes > limits_.max_bytes - bytes_)) return false;
    ++entries_;
    bytes_ += bytes;
    return true;
  }

 private:
  ScanLimits limits_;
  size_t entries_ = 0;
  size_t bytes_ = 0;
};

}  // namespace internal
}  // namespace preceptor::storage
