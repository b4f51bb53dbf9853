#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/preceptor_bench/delivery_ledger.h"
#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/histogram.h"
#include "bench/preceptor_bench/json.h"
#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// How to load the chat path. Every field: default and unit.
struct ChatLoadOptions {
  size_t pairs = 1000;         // connected pairs: two connections each
  size_t first_pair = 0;       // the pairs used are population.pairs[first_pair, first_pair + pairs)
  double rate_per_member = 5;  // open loop: msgs/s each member sends, on a fixed schedule
  size_t window = 0;           // > 0: closed loop instead, this many in flight per member
  double seconds = 10;         // sending time, s
  double warmup_seconds = 1;   // sends scheduled in the first part are not in the latency histograms
  size_t body_bytes = 64;      // message text size, bytes
  double drain_seconds = 30;   // after sending, wait at most this long for acks and deliveries, s
  size_t client_threads = 1;   // shards; both members of a pair are on one shard
  bool echo = false;           // the target is the echo server: no sign-in; the echoed frame is the "ack"
  size_t connect_lanes = 64;   // connections being set up at once, per shard
};

// Called on the main thread right before the first scheduled send and right
// after the drain: lets the suite sample server CPU and metrics around the load.
struct LoadObserver {
  std::function<void()> at_start;
  std::function<void()> at_stop;
};

// What a chat load run measured.
struct ChatLoadResult {
  ChatLoadOptions options;
  double offered_per_second = 0;  // open loop: rate x members
  double send_seconds = 0;        // scheduled sending time
  double wall_seconds = 0;        // sending + drain
  uint64_t members = 0;           // connections that took part
  uint64_t connect_failures = 0;
  uint64_t connections_lost = 0;  // closed by the server or network during the run
  uint64_t sent = 0;
  uint64_t acked = 0;  // SendMessageResult (echo: the echoed frame)
  uint64_t error_replies = 0;
  std::map<std::string, uint64_t> errors;  // by error code or cause
  uint64_t delivered = 0;                  // first sightings by the counterpart
  uint64_t self_delivered = 0;             // first sightings by the sender's own session
  double acked_per_second = 0;             // acked / (last ack - start)
  double delivered_per_second = 0;
  double sent_per_second = 0;
  bool drained = false;  // every ack and delivery arrived before the drain timeout
  LatencyHistogram send_to_ack;
  LatencyHistogram send_to_delivery;  // to the counterpart
  DeliveryTally tally;
  std::vector<uint64_t> sent_by_second, acked_by_second, delivered_by_second;
  double client_cpu_seconds = 0;  // this process, over the load

  Json to_json() const;
};

// The chat scenario: P pairs, each member sending SendMessage at a fixed
// rate (open loop: latency counts from the scheduled send time, so a slow
// server shows up as latency, not as a slower client), or with a fixed
// window in flight (closed loop, for the maximum). Every recipient's
// MessagePosted events are checked against the acknowledged seqs: loss,
// duplicates and reordering are counted.
//
// Runs on its own client threads; call from the main thread. Throws
// std::runtime_error when no connection could be set up.
ChatLoadResult run_chat_load(const Endpoint& endpoint, const Population& population,
                             const ChatLoadOptions& options, const LoadObserver& observer = {});

}  // namespace preceptor::bench
