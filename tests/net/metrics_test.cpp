// Per-type frame counters: every field number a message has gets its own
// counter, however large (new services take numbers of 64 and above).
#include "server/net/metrics.h"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "preceptor/v1/frames.pb.h"

namespace preceptor::server {
namespace {

TEST(Metrics, LargeFieldNumbersAreCountedUnderTheirOwnType) {
  // FileOptions has fields numbered up to 999.
  Metrics::ByKind counts(google::protobuf::FileOptions::descriptor());
  counts.add(999);
  counts.add(999);
  counts.add(5000);  // no such field: counted as unknown (0)
  EXPECT_EQ(counts.at(999), 2u);
  EXPECT_EQ(counts.at(0), 1u);
}

TEST(Metrics, EveryRequestTypeAppearsByNameOnMetrics) {
  Metrics metrics;
  const auto* requests = v1::ClientFrame::descriptor()->FindOneofByName("request");
  for (int i = 0; i < requests->field_count(); ++i) metrics.frame_in(requests->field(i)->number());
  const std::string text = metrics.render();
  for (int i = 0; i < requests->field_count(); ++i) {
    EXPECT_NE(text.find("preceptor_frames_in_total{type=\"" + requests->field(i)->name() + "\"} 1"),
              std::string::npos)
        << requests->field(i)->name();
  }
  EXPECT_EQ(text.find("undecodable"), std::string::npos);
}

}  // namespace
}  // namespace preceptor::server
