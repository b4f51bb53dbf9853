#include "bench/preceptor_bench/delivery_ledger.h"

#include <algorithm>

namespace preceptor::bench {

DeliveryTally& DeliveryTally::operator+=(const DeliveryTally& o) {
  acked += o.acked;
  expected += o.expected;
  delivered += o.delivered;
  lost += o.lost;
  duplicates += o.duplicates;
  out_of_order += o.out_of_order;
  unacked_seen += o.unacked_seen;
  return *this;
}

void DeliveryLedger::grow(std::vector<uint8_t>& v, uint64_t seq) {
  if (seq >= v.size()) v.resize(std::max<size_t>(seq + 1, v.size() * 2), 0);
}

void DeliveryLedger::acked(uint64_t seq) {
  grow(acked_, seq);
  acked_[seq] = 1;
}

bool DeliveryLedger::seen(int member, uint64_t seq) {
  auto& seen = seen_[member];
  grow(seen, seq);
  const bool first = seen[seq] == 0;
  if (seen[seq] < 255) ++seen[seq];
  if (!first) {
    ++duplicates_[member];
    return false;
  }
  if (seq < highest_[member]) ++out_of_order_[member];
  if (seq > highest_[member]) highest_[member] = seq;
  return true;
}

DeliveryTally DeliveryLedger::tally() const {
  DeliveryTally t;
  for (uint64_t seq = 0; seq < acked_.size(); ++seq) {
    if (acked_[seq] != 0) ++t.acked;
  }
  t.expected = t.acked * 2;
  for (int m = 0; m < 2; ++m) {
    const auto& seen = seen_[m];
    for (uint64_t seq = 0; seq < std::max(acked_.size(), seen.size()); ++seq) {
      const bool acked = seq < acked_.size() && acked_[seq] != 0;
      const bool saw = seq < seen.size() && seen[seq] != 0;
      if (acked && saw) ++t.delivered;
      if (acked && !saw) ++t.lost;
      if (!acked && saw) ++t.unacked_seen;
    }
    t.duplicates += duplicates_[m];
    t.out_of_order += out_of_order_[m];
  }
  return t;
}

}  // namespace preceptor::bench
