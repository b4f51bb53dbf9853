#include "server/metrics.h"

#include "preceptor/v1/frames.pb.h"
#include "server/hub/hub.h"
#include "storage/committer.h"

namespace preceptor::server {
namespace {

int clamp_kind(int kind) { return kind >= 0 && kind < Metrics::kMaxFrameKinds ? kind : 0; }

std::string field_name(const google::protobuf::Descriptor* d, int number, const char* none) {
  const auto* f = d->FindFieldByNumber(number);
  return f ? f->name() : none;
}

void counter_family(std::string& out, const char* name, const char* help,
                    const std::array<std::atomic<uint64_t>, Metrics::kMaxFrameKinds>& values,
                    const google::protobuf::Descriptor* d, const char* none) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (int i = 0; i < Metrics::kMaxFrameKinds; ++i) {
    uint64_t v = values[i].load(std::memory_order_relaxed);
    if (v == 0) continue;
    out += std::string(name) + "{type=\"" + field_name(d, i, none) + "\"} " + std::to_string(v) + "\n";
  }
}

void scalar(std::string& out, const char* name, const char* type, const char* help, double v) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " ";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
  out += "\n";
}

}  // namespace

void Metrics::frame_in(int kind) { frames_in_[clamp_kind(kind)].fetch_add(1, std::memory_order_relaxed); }
void Metrics::frame_out(int kind) { frames_out_[clamp_kind(kind)].fetch_add(1, std::memory_order_relaxed); }
void Metrics::event_out(int kind) { events_out_[clamp_kind(kind)].fetch_add(1, std::memory_order_relaxed); }
void Metrics::error(ErrorCode code) {
  int c = static_cast<int>(code);
  errors_[c >= 0 && c < 17 ? c : 2].fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const storage::Committer* committer, const hub::Hub* hub) const {
  std::string out;
  out.reserve(8192);
  scalar(out, "preceptor_connections_open", "gauge", "WebSocket connections open now.", connections_open.load());
  scalar(out, "preceptor_connections_total", "counter", "WebSocket connections accepted.", connections_total.load());
  scalar(out, "preceptor_http_requests_total", "counter", "HTTP requests served (not WebSocket frames).",
         http_requests_total.load());
  scalar(out, "preceptor_slow_client_disconnects_total", "counter",
         "Connections closed because they did not read and their outbound queue overflowed.",
         slow_client_disconnects_total.load());
  scalar(out, "preceptor_bad_frame_disconnects_total", "counter",
         "Connections closed for sending too many bad frames.", bad_frame_disconnects_total.load());
  scalar(out, "preceptor_auth_timeout_disconnects_total", "counter",
         "Connections closed for not authenticating in time.", auth_timeout_disconnects_total.load());
  scalar(out, "preceptor_rate_limited_total", "counter", "Requests refused by the per-connection rate limit.",
         rate_limited_total.load());
  if (hub) {
    scalar(out, "preceptor_sessions_authenticated", "gauge", "Authenticated sessions.", hub->session_count());
    scalar(out, "preceptor_users_online", "gauge", "Users with at least one session.", hub->user_count());
  }
  counter_family(out, "preceptor_frames_in_total", "Client frames received, by request type.", frames_in_,
                 v1::ClientFrame::descriptor(), "undecodable");
  counter_family(out, "preceptor_frames_out_total", "Replies sent, by result type.", frames_out_,
                 v1::Response::descriptor(), "none");
  counter_family(out, "preceptor_events_out_total", "Events pushed, by event type.", events_out_,
                 v1::Event::descriptor(), "none");
  out += "# HELP preceptor_errors_total Error replies sent, by code.\n# TYPE preceptor_errors_total counter\n";
  for (int i = 1; i < 17; ++i) {
    uint64_t v = errors_[i].load(std::memory_order_relaxed);
    if (v) out += std::string("preceptor_errors_total{code=\"") + error_code_name(static_cast<ErrorCode>(i)) + "\"} " +
                  std::to_string(v) + "\n";
  }
  if (committer) {
    scalar(out, "preceptor_commits_total", "counter", "Mutations made durable by the committer.",
           committer->commits_total());
    scalar(out, "preceptor_commit_groups_total", "counter", "Synced RocksDB writes (group commits).",
           committer->groups_total());
    scalar(out, "preceptor_last_position", "gauge", "Last durable event position.", committer->last_position());
    out += "# HELP preceptor_commit_batch_size Mutations per synced write.\n# TYPE preceptor_commit_batch_size histogram\n";
    committer->batch_sizes().write_prometheus(out, "preceptor_commit_batch_size");
    out += "# HELP preceptor_commit_latency_seconds From submit to durable, per mutation.\n# TYPE preceptor_commit_latency_seconds histogram\n";
    committer->commit_latency_seconds().write_prometheus(out, "preceptor_commit_latency_seconds");
    out += "# HELP preceptor_commit_write_seconds One synced RocksDB write.\n# TYPE preceptor_commit_write_seconds histogram\n";
    committer->write_seconds().write_prometheus(out, "preceptor_commit_write_seconds");
  }
  return out;
}

}  // namespace preceptor::server
