#pragma once

#include <sys/types.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/histogram.h"
#include "bench/preceptor_bench/http_client.h"
#include "bench/preceptor_bench/json.h"
#include "bench/preceptor_bench/ws_client.h"

// Issue 13's scenarios: documents uploaded over HTTP (against the disk's
// own sequential write rate, the server's memory during an upload, chat
// latency while uploads run) and the review round trip of an assignment.

namespace preceptor::bench {

// ------------------------------------------------------------------ disk

// The disk's sequential write rate where the server's data lives: `bytes`
// written in `piece`-byte write()s to a new file in `dir`, with an
// fdatasync every `sync_every` bytes (0: once, at the end). The time runs
// from the first write to the last fdatasync's return. The bytes are
// pseudo-random (nothing below can compress them).
struct DiskWriteResult {
  uint64_t bytes = 0;
  size_t piece = 0;
  uint64_t sync_every = 0;  // 0: one fdatasync at the end
  uint64_t syncs = 0;
  double seconds = 0;
  double mib_per_second = 0;
  double last_sync_seconds = 0;  // the final fdatasync alone

  Json to_json() const;
};

// Throws std::runtime_error when the file cannot be written.
DiskWriteResult measure_sequential_write(const std::string& dir, uint64_t bytes, size_t piece,
                                         uint64_t sync_every);

// --------------------------------------------------------------- uploads

// A document's bytes as a PDF would start and end ("%PDF-1.7" ... "%%EOF":
// the server decides the type from the content) around pseudo-random bytes
// from `seed`. REQUIRES: bytes >= 64.
std::string make_pdf_like(size_t bytes, uint64_t seed);
// Writes `n` into the content's comment line so no two uploads are alike.
void stamp_pdf_like(std::string& content, uint64_t n);

// Who uploads: a signed-in user and a mentorship of theirs.
struct Uploader {
  std::string token;
  uint64_t mentorship_id = 0;
};
// Both members of the pairs [first_pair, first_pair + pairs): 2 x pairs
// uploaders, so a long run spreads over their quotas.
std::vector<Uploader> uploaders_of(const Population& population, size_t first_pair, size_t pairs);

// One upload through the protocol: POST .../uploads, then PATCH the
// content in `piece`-byte bodies, each acknowledged once durable. Never
// throws: a failed connection is an outcome with its error.
struct UploadOutcome {
  bool ok = false;
  int status = 0;     // the last HTTP status
  std::string error;  // when !ok: which request and what the server said
  uint64_t document_id = 0;
  std::string content_type;
  uint64_t size = 0;
  uint64_t patches = 0;
  int64_t started_ns = 0;          // before the POST
  int64_t created_ns = 0;          // the POST's answer
  int64_t finished_ns = 0;         // the last PATCH's answer (201)
  LatencyHistogram patch_latency;  // each PATCH: request to answer
};
boost::asio::awaitable<UploadOutcome> upload_document(HttpClient& http, const Uploader& who,
                                                      const std::string& name, std::string_view content,
                                                      size_t piece);

// The server's resident memory, read from /proc every `interval` by a
// thread of its own, from construction to destruction.
class RssSampler {
 public:
  RssSampler(pid_t pid, int interval_ms);
  ~RssSampler();
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  // The largest sample in [from_ns, to_ns], KiB (-1: none).
  int64_t max_between(int64_t from_ns, int64_t to_ns) const;
  size_t samples_between(int64_t from_ns, int64_t to_ns) const;

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::pair<int64_t, int64_t>> samples_;  // now_ns, VmRSS KiB
  std::thread thread_;
};

// N uploads one after another (no other load), the server's RSS sampled
// around each, and the last document downloaded again and compared.
struct SequentialUploadOptions {
  size_t uploads = 8;
  uint64_t bytes = 25ull << 20;
  size_t piece = 8u << 20;  // PATCH body size
  pid_t server_pid = 0;     // 0: no memory figures
  int rss_interval_ms = 50;
  bool verify_download = true;
};

struct UploadMemory {
  int64_t rss_before_kib = -1;  // right before the POST
  int64_t rss_max_kib = -1;     // the largest 50 ms sample during the upload
  int64_t hwm_kib = -1;         // VmHWM after the upload, reset right before it (-1: no reset possible)
  int64_t rss_after_kib = -1;
  int64_t anon_before_kib = -1;  // RssAnon right before the POST and right after the last answer
  int64_t anon_after_kib = -1;
  size_t samples = 0;
  int64_t growth_kib() const { return rss_max_kib >= 0 ? rss_max_kib - rss_before_kib : -1; }
  int64_t hwm_growth_kib() const { return hwm_kib >= 0 ? hwm_kib - rss_before_kib : -1; }
};

struct SequentialUploadResult {
  SequentialUploadOptions options;
  uint64_t uploads_ok = 0;
  uint64_t bytes = 0;
  double seconds = 0;  // first POST to the last answer
  double mib_per_second = 0;
  LatencyHistogram upload_latency;  // POST to the 201 of the last PATCH
  LatencyHistogram patch_latency;
  std::vector<double> each_mib_per_second;
  std::vector<UploadMemory> memory;  // one per upload
  std::string content_type;          // as the server decided
  uint64_t failures = 0;
  std::string first_error;
  bool verified = false;  // the download of the last one equals what was sent
  std::string verify_problem;

  Json to_json() const;
};

// Call from the main thread.
SequentialUploadResult run_sequential_uploads(const Endpoint& endpoint,
                                              const std::vector<Uploader>& uploaders,
                                              const SequentialUploadOptions& options, uint64_t first_index);

// Uploads back to back on a thread of its own, from start() to stop(), each
// by the next uploader in turn (a 25 MiB upload every few hundred ms would
// fill one user's quota within seconds).
class BackgroundUploads {
 public:
  struct Result {
    uint64_t uploads_ok = 0;
    uint64_t bytes = 0;  // of the finished uploads
    double seconds = 0;  // start() to the end of the last one
    double mib_per_second = 0;
    LatencyHistogram upload_latency;
    uint64_t failures = 0;
    std::string first_error;
    Json to_json() const;
  };

  BackgroundUploads(Endpoint endpoint, std::vector<Uploader> uploaders, uint64_t bytes, size_t piece,
                    uint64_t first_index);
  ~BackgroundUploads();

  void start();
  // Lets the upload in progress finish, then stops. Returns what was done.
  Result stop();

 private:
  boost::asio::awaitable<void> loop(boost::asio::io_context& io);

  Endpoint endpoint_;
  std::vector<Uploader> uploaders_;
  uint64_t bytes_;
  size_t piece_;
  uint64_t next_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Result result_;
  int64_t t0_ = 0;
};

// ---------------------------------------------------------------- review

// The review round trip of an assignment between the two members of a pair:
//   1. the mentee uploads a small document (HTTP),
//   2. submits it as the next version (SubmitVersion) -> the mentor's
//      AssignmentChanged SUBMITTED arrives,
//   3. the mentor reviews it with comments, changes requested
//      (ReviewVersion) -> the mentee's ReviewChanged POSTED arrives,
//   4. the mentee replies to a comment (ReplyToComment) -> the mentor's
//      ReviewChanged REPLIED arrives.
// Every step is timed client-side from its request to the other member's
// event; the round trip from the upload's POST to the last event. Each pair
// works on one assignment (created by the mentor; withdrawn and replaced
// before it would pass 50 versions).
struct ReviewOptions {
  size_t first_pair = 0;
  size_t quiet_pairs = 10;     // the quiet phase cycles through these ...
  size_t quiet_rounds = 300;   // ... one round trip at a time
  size_t pairs = 200;          // the loaded phase: this many pairs at once ...
  size_t rounds_per_pair = 5;  // ... each doing this many round trips
  size_t document_bytes = 64 << 10;
  size_t comments = 3;  // per review, anchored to pages 1..N of the version
  int event_timeout_ms = 30000;
};

struct ReviewSteps {
  LatencyHistogram upload;        // POST to the 201 of the only PATCH
  LatencyHistogram submit_reply;  // SubmitVersion to its reply
  LatencyHistogram submit_event;  // SubmitVersion to the mentor's AssignmentChanged
  LatencyHistogram review_reply;  // ReviewVersion to its reply
  LatencyHistogram review_event;  // ReviewVersion to the mentee's ReviewChanged POSTED
  LatencyHistogram reply_reply;   // ReplyToComment to its reply
  LatencyHistogram reply_event;   // ReplyToComment to the mentor's ReviewChanged REPLIED
  LatencyHistogram round;         // the upload's POST to the last event
  uint64_t rounds = 0;
  double seconds = 0;  // first POST to the last event
  double rounds_per_second = 0;
  Json to_json() const;
};

struct ReviewResult {
  ReviewOptions options;
  ReviewSteps quiet;
  ReviewSteps loaded;
  uint64_t assignments_created = 0;
  uint64_t assignments_withdrawn = 0;
  uint64_t failures = 0;
  std::map<std::string, uint64_t> errors;
  std::string first_error;
  double setup_seconds = 0;
  Json to_json() const;
};

// Runs both phases on the population's pairs. `at_start`/`at_stop` bracket
// the loaded phase (the suite's server observer). Call from the main thread.
ReviewResult run_review(const Endpoint& endpoint, const Population& population, const ReviewOptions& options,
                        const std::function<void()>& at_start = {},
                        const std::function<void()>& at_stop = {});

}  // namespace preceptor::bench
