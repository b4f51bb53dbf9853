#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace preceptor::storage {
class Committer;
}
namespace preceptor::hub {
class Hub;
}

namespace preceptor::server {

// Process-wide counters for /metrics. Lock-free; any thread.
class Metrics {
 public:
  static constexpr int kMaxFrameKinds = 64;  // oneof field numbers of ClientFrame / Response / Event

  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> http_requests_total{0};
  std::atomic<uint64_t> slow_client_disconnects_total{0};
  std::atomic<uint64_t> bad_frame_disconnects_total{0};
  std::atomic<uint64_t> auth_timeout_disconnects_total{0};
  std::atomic<uint64_t> rate_limited_total{0};

  // request kind = ClientFrame oneof field number (0 = undecodable/none)
  void frame_in(int request_kind);
  // reply kind = Response oneof field number; events use event_out
  void frame_out(int reply_kind);
  void event_out(int event_kind);
  void error(ErrorCode code);

  // Prometheus text exposition format, version 0.0.4.
  std::string render(const storage::Committer* committer, const hub::Hub* hub) const;

 private:
  std::array<std::atomic<uint64_t>, kMaxFrameKinds> frames_in_{};
  std::array<std::atomic<uint64_t>, kMaxFrameKinds> frames_out_{};
  std::array<std::atomic<uint64_t>, kMaxFrameKinds> events_out_{};
  std::array<std::atomic<uint64_t>, 17> errors_{};
};

}  // namespace preceptor::server
