#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace preceptor::bench {

// What a ledger (or several, added up) found.
struct DeliveryTally {
  uint64_t acked = 0;         // messages acknowledged to their sender
  uint64_t expected = 0;      // acked x recipients: deliveries that must happen
  uint64_t delivered = 0;     // first sightings of acknowledged messages
  uint64_t lost = 0;          // acknowledged, never seen by a recipient
  uint64_t duplicates = 0;    // extra sightings of a message already seen
  uint64_t out_of_order = 0;  // first sightings with a seq below one already seen
  uint64_t unacked_seen = 0;  // seen, but never acknowledged in this run

  DeliveryTally& operator+=(const DeliveryTally& o);
  bool clean() const { return lost == 0 && duplicates == 0 && out_of_order == 0; }
};

// The delivery record of one conversation for a run: which seqs were
// acknowledged, and which each of its two recipients (member 0 and 1) saw in
// live MessagePosted events, so that the end of the run can say whether every
// recipient saw every acknowledged message exactly once and in seq order.
// Seqs are gap-free from 1 per conversation, so the record is a few bytes per
// seq. Seqs stored before the run are neither expected nor counted.
//
// Not thread-safe: both members of a conversation are driven by one thread.
class DeliveryLedger {
 public:
  void acked(uint64_t seq);
  // Returns true on the first sighting of `seq` by `member` (0 or 1).
  bool seen(int member, uint64_t seq);
  DeliveryTally tally() const;

 private:
  static void grow(std::vector<uint8_t>& v, uint64_t seq);

  std::vector<uint8_t> acked_;                // by seq: 1 if acknowledged
  std::array<std::vector<uint8_t>, 2> seen_;  // by seq: sightings, saturating at 255
  std::array<uint64_t, 2> highest_{0, 0};     // highest seq each member has seen
  std::array<uint64_t, 2> duplicates_{0, 0};
  std::array<uint64_t, 2> out_of_order_{0, 0};
};

}  // namespace preceptor::bench
