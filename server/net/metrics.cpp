#include "server/net/metrics.h"

#include <algorithm>
#include <cstdio>

#include "preceptor/v1/frames.pb.h"

namespace preceptor::server {
namespace {

namespace pb = google::protobuf;

int max_field_number(const pb::Descriptor* d) {
  int max = 0;
  for (int i = 0; i < d->field_count(); ++i) max = std::max(max, d->field(i)->number());
  return max;
}

void counter_family(std::string& out, const char* name, const char* help, const Metrics::ByKind& values,
                    const char* none) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (int i = 0; i < values.size(); ++i) {
    const uint64_t v = values.at(i);
    if (v == 0) continue;
    const pb::FieldDescriptor* f = values.descriptor()->FindFieldByNumber(i);
    out += std::string(name) + "{type=\"" + (f ? f->name() : std::string(none)) + "\"} " + std::to_string(v) +
           "\n";
  }
}

}  // namespace

void write_scalar(std::string& out, const char* name, const char* type, const char* help, double v) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " ";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
  out += "\n";
}

Metrics::ByKind::ByKind(const pb::Descriptor* d)
    : d_(d),
      size_(max_field_number(d) + 1),
      counts_(new std::atomic<uint64_t>[static_cast<size_t>(size_)]()) {}

void Metrics::ByKind::add(int kind) {
  if (kind < 0 || kind >= size_) kind = 0;
  counts_[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
}

Metrics::Metrics()
    : frames_in_(v1::ClientFrame::descriptor()),
      frames_out_(v1::Response::descriptor()),
      events_out_(v1::Event::descriptor()),
      errors_(new std::atomic<uint64_t>[kErrorCodes]()) {}

void Metrics::frame_in(int kind) { frames_in_.add(kind); }
void Metrics::frame_out(int kind) { frames_out_.add(kind); }
void Metrics::event_out(int kind) { events_out_.add(kind); }
void Metrics::error(ErrorCode code) {
  int c = static_cast<int>(code);
  errors_[static_cast<size_t>(c >= 0 && c < kErrorCodes ? c : 2)].fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(8192);
  write_scalar(out, "preceptor_connections_open", "gauge", "WebSocket connections open now.",
               connections_open.load());
  write_scalar(out, "preceptor_connections_total", "counter", "WebSocket connections accepted.",
               connections_total.load());
  write_scalar(out, "preceptor_http_requests_total", "counter",
               "HTTP requests served (not WebSocket frames).", http_requests_total.load());
  write_scalar(out, "preceptor_slow_client_disconnects_total", "counter",
               "Connections closed because they did not read and their outbound queue overflowed.",
               slow_client_disconnects_total.load());
  write_scalar(out, "preceptor_connections_refused_total", "counter",
               "Connections refused or closed at once: over --max-connections, --max-connections-per-address "
               "or --max-sessions-per-user.",
               connections_refused_total.load());
  write_scalar(out, "preceptor_bad_frame_disconnects_total", "counter",
               "Connections closed for sending too many bad frames.", bad_frame_disconnects_total.load());
  write_scalar(out, "preceptor_auth_timeout_disconnects_total", "counter",
               "Connections closed for not authenticating in time.", auth_timeout_disconnects_total.load());
  write_scalar(out, "preceptor_rate_limited_total", "counter",
               "Requests refused by the per-connection rate limit.", rate_limited_total.load());
  counter_family(out, "preceptor_frames_in_total", "Client frames received, by request type.", frames_in_,
                 "undecodable");
  counter_family(out, "preceptor_frames_out_total", "Replies sent, by result type.", frames_out_, "none");
  counter_family(out, "preceptor_events_out_total", "Events pushed, by event type.", events_out_, "none");
  out +=
      "# HELP preceptor_errors_total Error replies sent, by code.\n# TYPE preceptor_errors_total counter\n";
  for (int i = 1; i < kErrorCodes; ++i) {
    const uint64_t v = errors_[static_cast<size_t>(i)].load(std::memory_order_relaxed);
    if (v) {
      out += std::string("preceptor_errors_total{code=\"") + error_code_name(static_cast<ErrorCode>(i)) +
             "\"} " + std::to_string(v) + "\n";
    }
  }
  return out;
}

}  // namespace preceptor::server
