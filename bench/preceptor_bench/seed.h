#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/json.h"
#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// How to seed. Every field: default and unit.
struct SeedOptions {
  uint64_t messages = 2'000'000;  // to store in the conversation
  size_t window = 256;            // SendMessage in flight per connection
  size_t body_bytes = 64;         // message text size, bytes
  bool progress = true;           // a line on stderr every 10 s
  uint64_t return_after = 0;      // > 0: return as soon as this many are stored, the rest still in
                                  // flight (to crash the server mid-write); 0: wait for all
};

struct SeedResult {
  uint64_t requested = 0;
  uint64_t stored = 0;  // acknowledged
  uint64_t error_replies = 0;
  std::map<std::string, uint64_t> errors;
  double seconds = 0;
  double per_second = 0;

  Json to_json() const;
};

// The seeding mode: stores `messages` messages in one pair's conversation
// through the protocol, both members sending, `window` in flight each (the
// server's group commit sees many waiting at once). Event frames are not
// decoded. Call from the main thread.
SeedResult seed_conversation(const Endpoint& endpoint, const Population& population, const BenchPair& pair,
                             const SeedOptions& options);

}  // namespace preceptor::bench
