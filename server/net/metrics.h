#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace google::protobuf {
class Descriptor;
}

namespace preceptor::server {

// Process-wide counters of the network layer for /metrics. Lock-free; any
// thread. The app appends the committer's and the hub's figures.
class Metrics {
 public:
  Metrics();

  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> http_requests_total{0};
  std::atomic<uint64_t> slow_client_disconnects_total{0};
  std::atomic<uint64_t> connections_refused_total{0};  // over a connection or per-user session limit
  std::atomic<uint64_t> bad_frame_disconnects_total{0};
  std::atomic<uint64_t> auth_timeout_disconnects_total{0};
  std::atomic<uint64_t> rate_limited_total{0};

  // request kind = ClientFrame oneof field number (0 = undecodable or none)
  void frame_in(int request_kind);
  // reply kind = Response oneof field number; events use event_out
  void frame_out(int reply_kind);
  void event_out(int event_kind);
  void error(ErrorCode code);

  // Prometheus text exposition format, version 0.0.4.
  std::string render() const;

  // Counts by oneof field number, sized from the message's descriptor so
  // that every field number it has gets its own counter.
  class ByKind {
   public:
    explicit ByKind(const google::protobuf::Descriptor* d);
    void add(int kind);  // unknown numbers count as 0
    uint64_t at(int kind) const { return counts_[static_cast<size_t>(kind)].load(std::memory_order_relaxed); }
    int size() const { return size_; }
    const google::protobuf::Descriptor* descriptor() const { return d_; }

   private:
    const google::protobuf::Descriptor* d_;
    int size_;
    std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  };

 private:
  static constexpr int kErrorCodes = 17;
  ByKind frames_in_;
  ByKind frames_out_;
  ByKind events_out_;
  std::unique_ptr<std::atomic<uint64_t>[]> errors_;
};

// One Prometheus gauge or counter line with its HELP and TYPE.
void write_scalar(std::string& out, const char* name, const char* type, const char* help, double v);

}  // namespace preceptor::server
