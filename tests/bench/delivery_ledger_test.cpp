// Tests bench/preceptor_bench/delivery_ledger.cpp: what the chat scenario
// reports as loss, duplicates and reordering.
#include "bench/preceptor_bench/delivery_ledger.h"

#include <gtest/gtest.h>

namespace preceptor::bench {
namespace {

TEST(DeliveryLedger, EveryAckedMessageSeenOnceByBothIsClean) {
  DeliveryLedger l;
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    l.acked(seq);
    EXPECT_TRUE(l.seen(0, seq));
    EXPECT_TRUE(l.seen(1, seq));
  }
  const DeliveryTally t = l.tally();
  EXPECT_EQ(t.acked, 5u);
  EXPECT_EQ(t.expected, 10u);
  EXPECT_EQ(t.delivered, 10u);
  EXPECT_TRUE(t.clean());
}

TEST(DeliveryLedger, AMessageOneRecipientNeverSawIsLost) {
  DeliveryLedger l;
  l.acked(1);
  l.acked(2);
  l.seen(0, 1);
  l.seen(0, 2);
  l.seen(1, 1);
  const DeliveryTally t = l.tally();
  EXPECT_EQ(t.lost, 1u);
  EXPECT_FALSE(t.clean());
}

TEST(DeliveryLedger, SeeingAMessageTwiceIsADuplicate) {
  DeliveryLedger l;
  l.acked(1);
  EXPECT_TRUE(l.seen(1, 1));
  EXPECT_FALSE(l.seen(1, 1));
  l.seen(0, 1);
  EXPECT_EQ(l.tally().duplicates, 1u);
}

TEST(DeliveryLedger, ALowerSeqAfterAHigherOneIsOutOfOrder) {
  DeliveryLedger l;
  for (uint64_t seq = 1; seq <= 3; ++seq) l.acked(seq);
  l.seen(0, 1);
  l.seen(0, 3);
  l.seen(0, 2);
  for (uint64_t seq = 1; seq <= 3; ++seq) l.seen(1, seq);
  const DeliveryTally t = l.tally();
  EXPECT_EQ(t.out_of_order, 1u);
  EXPECT_EQ(t.lost, 0u);
}

TEST(DeliveryLedger, MessagesStoredBeforeTheRunAreNotExpected) {
  DeliveryLedger l;
  l.acked(101);  // the conversation already had 100 messages
  l.seen(0, 101);
  l.seen(1, 101);
  const DeliveryTally t = l.tally();
  EXPECT_EQ(t.acked, 1u);
  EXPECT_EQ(t.lost, 0u);
  EXPECT_TRUE(t.clean());
}

TEST(DeliveryLedger, SeenButNeverAckedIsCountedSeparately) {
  DeliveryLedger l;
  l.seen(0, 7);
  EXPECT_EQ(l.tally().unacked_seen, 1u);
  EXPECT_TRUE(l.tally().clean());
}

}  // namespace
}  // namespace preceptor::bench
