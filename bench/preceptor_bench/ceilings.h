#pragma once

#include <cstdint>
#include <string>

#include "bench/preceptor_bench/histogram.h"
#include "bench/preceptor_bench/json.h"

namespace preceptor::bench {

// The disk's durable-write ceiling: one thread appending `bytes` and calling
// fdatasync, again and again, on a temporary file in `dir` (use the data
// folder's file system). Nothing else the server does durably can beat
// 1 / (one fdatasync) per commit group.
struct FsyncResult {
  uint64_t syncs = 0;
  double seconds = 0;
  double per_second = 0;
  size_t bytes = 0;
  LatencyHistogram latency;  // one write + fdatasync

  Json to_json() const;
};

// Throws std::runtime_error when the file cannot be written.
FsyncResult measure_fdatasync(const std::string& dir, double seconds, size_t bytes = 4096);

}  // namespace preceptor::bench
