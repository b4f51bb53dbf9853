#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "bench/preceptor_bench/chat_load.h"
#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/histogram.h"
#include "bench/preceptor_bench/json.h"
#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// How to read history. Every field: default and unit.
struct HistoryOptions {
  size_t connections = 8;  // half as the mentor, half as the mentee of the seeded pair
  double rate = 5000;      // open loop phase: pages/s offered, over all connections; lowered to
                           // half the closed-loop maximum when that is less
  double seconds = 5;      // length of each phase, s
  size_t window = 8;       // closed loop phase: pages in flight per connection
  uint32_t limit = 50;     // messages per page, newest first
};

// One phase of history reading.
struct HistoryPhase {
  double offered_per_second = 0;  // 0 in the closed loop phase
  uint64_t requested = 0;
  uint64_t pages = 0;      // correct pages received
  uint64_t bad_pages = 0;  // wrong size, order or newest seq
  uint64_t error_replies = 0;
  double pages_per_second = 0;
  LatencyHistogram latency;  // open loop: from the scheduled time
  std::map<std::string, uint64_t> errors;
  Json to_json() const;
};

struct HistoryResult {
  uint64_t stored = 0;        // messages in the conversation (its newest seq)
  bool rate_reduced = false;  // the open loop ran at half the closed loop's pages/s, below options.rate
  HistoryPhase open_loop;
  HistoryPhase closed_loop;
  Json to_json() const;
};

// The history scenario on one seeded conversation: History{limit 50,
// newest first} from several connections, first with a fixed window in
// flight (the most pages/s), then at a fixed offered rate (latency). Every
// page is checked: `limit` messages, newest first, starting at the newest.
HistoryResult run_history(const Endpoint& endpoint, const Population& population, const BenchPair& pair,
                          const HistoryOptions& options, const LoadObserver& observer = {});

}  // namespace preceptor::bench
