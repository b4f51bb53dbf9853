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

// How to test catching up. Every field: default and unit.
struct ResumeOptions {
  size_t clients = 1000;      // mentees that drop and come back
  size_t first_pair = 0;      // population.pairs[first_pair, first_pair + clients)
  size_t missed = 100;        // messages each counterpart sends while its mentee is away
  size_t lanes = 64;          // resumes in progress at once
  uint32_t sync_limit = 500;  // Sync page size
  size_t setup_lanes = 64;    // connections being set up at once
};

struct ResumeResult {
  uint64_t clients = 0;
  uint64_t resumed = 0;  // caught up with every missed message
  uint64_t failed = 0;
  std::string first_error;
  uint64_t missed_sent = 0;      // acknowledged while the clients were away
  uint64_t missed_received = 0;  // found by the clients' Sync
  uint64_t lost = 0;
  uint64_t duplicates = 0;
  uint64_t sync_pages = 0;
  double wall_seconds = 0;  // first reconnect to last caught up
  double resumes_per_second = 0;
  double pile_up_seconds = 0;  // time to get the missed messages acknowledged
  LatencyHistogram total;      // connect to caught up, per client
  LatencyHistogram connect;    // TCP + WebSocket upgrade
  LatencyHistogram authenticate;
  LatencyHistogram sync;  // every Sync page until has_more is false

  Json to_json() const;
};

// The resume scenario: K mentees learn their sync position, drop their
// connections, their mentors send `missed` messages each, then the mentees
// reconnect (`lanes` at a time), Authenticate and Sync until caught up. The
// time per client runs from the start of the connect to the last page, and
// every missed message must come back exactly once.
ResumeResult run_resume(const Endpoint& endpoint, const Population& population, const ResumeOptions& options,
                        const LoadObserver& observer = {});

}  // namespace preceptor::bench
