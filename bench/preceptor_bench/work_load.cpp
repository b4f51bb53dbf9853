#include "bench/preceptor_bench/work_load.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <random>
#include <stdexcept>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/process.h"
#include "bench/preceptor_bench/report.h"
#include "bench/preceptor_bench/shards.h"

// GCC 12 warns falsely (in sanitizer builds) where one Asio coroutine of this
// file calls another that it inlines (see meetings_load.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace preceptor::bench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// An assignment holds at most 50 versions (work.proto): a pair moves to a
// new assignment a little before.
constexpr uint32_t kVersionsPerAssignment = 48;

void fill_random(char* data, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(data + i, &v, 8);
  }
  for (; i < n; ++i) data[i] = static_cast<char>(rng());
}

uint64_t parse_u64(const std::string& s, bool* ok = nullptr) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ok) *ok = ec == std::errc() && end == s.data() + s.size() && !s.empty();
  return v;
}

std::string short_body(const std::string& body) {
  std::string b = body.substr(0, 300);
  for (char& c : b) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return b;
}

// Runs one coroutine to its end on a fresh io_context on this thread;
// rethrows what it threw.
void run_here(const std::function<asio::awaitable<void>(asio::io_context&)>& fn) {
  asio::io_context io(1);
  std::exception_ptr error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await fn(io);
        } catch (...) {
          error = std::current_exception();
        }
      },
      asio::detached);
  io.run();
  if (error) std::rethrow_exception(error);
}

// Resets the process's VmHWM to its current RSS (Linux: "5" into
// /proc/PID/clear_refs). False when not allowed.
bool reset_peak_rss(pid_t pid) {
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

// ------------------------------------------------------------------ disk

Json DiskWriteResult::to_json() const {
  Json j = Json::object();
  j["bytes"] = bytes;
  j["piece_bytes"] = static_cast<uint64_t>(piece);
  j["fdatasync_every_bytes"] = sync_every;
  j["fdatasyncs"] = syncs;
  j["seconds"] = seconds;
  j["mib_per_second"] = mib_per_second;
  j["last_fdatasync_seconds"] = last_sync_seconds;
  return j;
}

DiskWriteResult measure_sequential_write(const std::string& dir, uint64_t bytes, size_t piece,
                                         uint64_t sync_every) {
  DiskWriteResult r;
  r.bytes = bytes;
  r.piece = piece;
  r.sync_every = sync_every;
  const std::string path = dir + "/write-rate-probe.tmp";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  std::vector<char> block(piece);
  fill_random(block.data(), block.size(), 7);
  auto fail = [&](const char* what) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    ::unlink(path.c_str());
    throw std::runtime_error(std::string(what) + " on " + path + ": " + err);
  };
  uint64_t written = 0, since_sync = 0, n_piece = 0;
  const int64_t t0 = now_ns();
  while (written < bytes) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(piece, bytes - written));
    ++n_piece;
    std::memcpy(block.data(), &n_piece, std::min<size_t>(8, n));  // no two pieces alike
    size_t off = 0;
    while (off < n) {
      const ssize_t w = ::write(fd, block.data() + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail("write");
      off += static_cast<size_t>(w);
    }
    written += n;
    since_sync += n;
    if (sync_every > 0 && since_sync >= sync_every && written < bytes) {
      if (::fdatasync(fd) != 0) fail("fdatasync");
      ++r.syncs;
      since_sync = 0;
    }
  }
  const int64_t last = now_ns();
  if (::fdatasync(fd) != 0) fail("fdatasync");
  ++r.syncs;
  const int64_t t1 = now_ns();
  ::close(fd);
  ::unlink(path.c_str());
  r.seconds = static_cast<double>(t1 - t0) / 1e9;
  r.last_sync_seconds = static_cast<double>(t1 - last) / 1e9;
  r.mib_per_second = r.seconds > 0 ? static_cast<double>(bytes) / kMiB / r.seconds : 0;
  return r;
}

// --------------------------------------------------------------- uploads

namespace {
constexpr std::string_view kPdfHead = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n% preceptor-bench ";
constexpr size_t kStampDigits = 16;
constexpr std::string_view kPdfTail = "\n%%EOF\n";
}  // namespace

std::string make_pdf_like(size_t bytes, uint64_t seed) {
  if (bytes < 64) throw std::invalid_argument("a PDF-like document needs at least 64 bytes");
  std::string s(bytes, '\0');
  fill_random(s.data(), s.size(), seed);
  std::memcpy(s.data(), kPdfHead.data(), kPdfHead.size());
  std::memset(s.data() + kPdfHead.size(), '0', kStampDigits);
  s[kPdfHead.size() + kStampDigits] = '\n';
  std::memcpy(s.data() + s.size() - kPdfTail.size(), kPdfTail.data(), kPdfTail.size());
  return s;
}

void stamp_pdf_like(std::string& content, uint64_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < kStampDigits; ++i) {
    content[kPdfHead.size() + kStampDigits - 1 - i] = kHex[n & 15];
    n >>= 4;
  }
}

std::vector<Uploader> uploaders_of(const Population& population, size_t first_pair, size_t pairs) {
  if (first_pair + pairs > population.pairs.size()) {
    throw std::runtime_error("uploads: the population has too few pairs");
  }
  std::vector<Uploader> out;
  for (int side = 0; side < 2; ++side) {
    for (size_t p = first_pair; p < first_pair + pairs; ++p) {
      const BenchPair& pair = population.pairs[p];
      out.push_back({population.users[side == 0 ? pair.mentee : pair.mentor].token, pair.mentorship_id});
    }
  }
  return out;
}

asio::awaitable<UploadOutcome> upload_document(HttpClient& http, const Uploader& who, const std::string& name,
                                               std::string_view content, size_t piece) {
  UploadOutcome o;
  o.started_ns = now_ns();
  try {
    const std::string auth = "Bearer " + who.token;
    // Every argument of a co_await below is a named variable: GCC 12 mishandles
    // temporaries with destructors in a co_await expression (a braced list does
    // not compile, a temporary string or struct is destroyed twice).
    HttpClient::Headers post_headers;
    post_headers.emplace_back("Authorization", auth);
    post_headers.emplace_back("Upload-Length", std::to_string(content.size()));
    post_headers.emplace_back("Upload-Name", name);
    const std::string post_target = "/v1/mentorships/" + std::to_string(who.mentorship_id) + "/uploads";
    HttpAnswer created = co_await http.request("POST", post_target, post_headers);
    o.status = created.status;
    if (created.status != 201) {
      o.error = "POST uploads: " + std::to_string(created.status) + " " + short_body(created.body);
      co_return o;
    }
    o.created_ns = now_ns();
    std::string location = created.header("location");
    if (location.empty()) {
      const std::string id = json_field(created.body, "upload_id");
      if (id.empty()) {
        o.error = "POST uploads: 201 without Location or upload_id: " + short_body(created.body);
        co_return o;
      }
      location = "/v1/uploads/" + id;
    }
    uint64_t offset = 0;
    int resyncs = 0;
    while (offset < content.size()) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(piece, content.size() - offset));
      const int64_t t = now_ns();
      HttpClient::Headers patch_headers;
      patch_headers.emplace_back("Authorization", auth);
      patch_headers.emplace_back("Upload-Offset", std::to_string(offset));
      patch_headers.emplace_back("Content-Type", "application/offset+octet-stream");
      HttpAnswer a = co_await http.request("PATCH", location, patch_headers, content.substr(offset, n));
      o.patch_latency.record(now_ns() - t);
      ++o.patches;
      o.status = a.status;
      bool ok = false;
      const uint64_t server_offset = parse_u64(a.header("upload-offset"), &ok);
      if (a.status == 204) {
        if (!ok || server_offset <= offset || server_offset > content.size()) {
          o.error = "PATCH: 204 with Upload-Offset '" + a.header("upload-offset") + "' after sending " +
                    std::to_string(n) + " bytes at " + std::to_string(offset);
          co_return o;
        }
        offset = server_offset;
        continue;
      }
      if (a.status == 201) {
        o.finished_ns = now_ns();
        o.document_id = parse_u64(json_field(a.body, "id"), &ok);
        o.content_type = json_field(a.body, "content_type");
        o.size = parse_u64(json_field(a.body, "size"));
        if (!ok || o.document_id == 0) {
          o.error = "PATCH: 201 without a document id: " + short_body(a.body);
        } else if (o.size != content.size()) {
          o.error = "PATCH: the document holds " + std::to_string(o.size) + " bytes, not " +
                    std::to_string(content.size());
        } else {
          o.ok = true;
        }
        co_return o;
      }
      if (a.status == 409 && ok && resyncs++ < 3) {  // not the server's offset: go on from its own
        offset = server_offset;
        continue;
      }
      o.error =
          "PATCH at " + std::to_string(offset) + ": " + std::to_string(a.status) + " " + short_body(a.body);
      co_return o;
    }
    o.error = "the whole content was sent but no 201 came";
  } catch (const std::exception& e) {
    o.error = e.what();  // the connection failed or timed out
  }
  co_return o;
}

RssSampler::RssSampler(pid_t pid, int interval_ms) : pid_(pid) {
  thread_ = std::thread([this, interval_ms] {
    while (!stop_.load()) {
      const int64_t kib = rss_kib(pid_);
      const int64_t ns = now_ns();
      {
        std::lock_guard lock(mu_);
        samples_.emplace_back(ns, kib);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
  });
}

RssSampler::~RssSampler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

int64_t RssSampler::max_between(int64_t from_ns, int64_t to_ns) const {
  std::lock_guard lock(mu_);
  int64_t best = -1;
  for (const auto& [ns, kib] : samples_) {
    if (ns >= from_ns && ns <= to_ns) best = std::max(best, kib);
  }
  return best;
}

size_t RssSampler::samples_between(int64_t from_ns, int64_t to_ns) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [ns, kib] : samples_) n += ns >= from_ns && ns <= to_ns;
  return n;
}

Json SequentialUploadResult::to_json() const {
  Json j = Json::object();
  Json o = Json::object();
  o["uploads"] = static_cast<uint64_t>(options.uploads);
  o["bytes_each"] = options.bytes;
  o["patch_bytes"] = static_cast<uint64_t>(options.piece);
  o["rss_interval_ms"] = options.rss_interval_ms;
  j["options"] = std::move(o);
  j["uploads_ok"] = uploads_ok;
  j["bytes"] = bytes;
  j["seconds"] = seconds;
  j["mib_per_second"] = mib_per_second;
  Json each = Json::array();
  for (double v : each_mib_per_second) each.push_back(v);
  j["each_mib_per_second"] = std::move(each);
  j["upload_latency"] = histogram_json(upload_latency);
  j["patch_latency"] = histogram_json(patch_latency);
  Json mem = Json::array();
  for (const UploadMemory& m : memory) {
    Json e = Json::object();
    e["rss_before_kib"] = m.rss_before_kib;
    e["rss_max_sampled_kib"] = m.rss_max_kib;
    e["rss_after_kib"] = m.rss_after_kib;
    e["rss_anon_before_kib"] = m.anon_before_kib;
    e["rss_anon_after_kib"] = m.anon_after_kib;
    e["vmhwm_after_reset_kib"] = m.hwm_kib;
    e["samples"] = static_cast<uint64_t>(m.samples);
    e["growth_sampled_kib"] = m.growth_kib();
    e["growth_vmhwm_kib"] = m.hwm_growth_kib();
    mem.push_back(std::move(e));
  }
  j["server_memory"] = std::move(mem);
  j["content_type"] = content_type;
  j["failures"] = failures;
  j["first_error"] = first_error;
  j["download_equals_upload"] = verified;
  j["verify_problem"] = verify_problem;
  return j;
}

SequentialUploadResult run_sequential_uploads(const Endpoint& endpoint,
                                              const std::vector<Uploader>& uploaders,
                                              const SequentialUploadOptions& options, uint64_t first_index) {
  SequentialUploadResult r;
  r.options = options;
  if (uploaders.empty()) throw std::runtime_error("uploads: nobody to upload");
  std::string content = make_pdf_like(options.bytes, 1);
  std::unique_ptr<RssSampler> sampler;
  if (options.server_pid > 0)
    sampler = std::make_unique<RssSampler>(options.server_pid, options.rss_interval_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(2 * options.rss_interval_ms));
  run_here([&](asio::io_context& io) -> asio::awaitable<void> {
    HttpClient http(io, endpoint);
    UploadOutcome last;
    const Uploader* last_by = nullptr;
    int64_t t_first = 0, t_last = 0;
    for (size_t i = 0; i < options.uploads; ++i) {
      const uint64_t n = first_index + i;
      const Uploader& who = uploaders[n % uploaders.size()];
      stamp_pdf_like(content, n);
      UploadMemory mem;
      bool hwm = false;
      if (options.server_pid > 0) {
        hwm = reset_peak_rss(options.server_pid);
        mem.rss_before_kib = rss_kib(options.server_pid);
        mem.anon_before_kib = anon_rss_kib(options.server_pid);
      }
      const int64_t t0 = now_ns();
      if (i == 0) t_first = t0;
      const std::string name = "bench-cv-" + std::to_string(n) + ".pdf";
      UploadOutcome up = co_await upload_document(http, who, name, content, options.piece);
      const int64_t t1 = now_ns();
      t_last = t1;
      if (options.server_pid > 0) {
        mem.rss_after_kib = rss_kib(options.server_pid);
        mem.anon_after_kib = anon_rss_kib(options.server_pid);
        if (hwm) mem.hwm_kib = peak_rss_kib(options.server_pid);
        mem.rss_max_kib = std::max(sampler->max_between(t0, t1), mem.rss_after_kib);
        mem.samples = sampler->samples_between(t0, t1);
        r.memory.push_back(mem);
      }
      r.patch_latency.merge(up.patch_latency);
      if (!up.ok) {
        if (r.failures++ == 0) r.first_error = "upload " + std::to_string(i + 1) + ": " + up.error;
        continue;
      }
      ++r.uploads_ok;
      r.bytes += content.size();
      r.upload_latency.record(t1 - t0);
      r.each_mib_per_second.push_back(static_cast<double>(content.size()) / kMiB /
                                      (static_cast<double>(t1 - t0) / 1e9));
      r.content_type = up.content_type;
      last = up;
      last_by = &who;
    }
    r.seconds = static_cast<double>(t_last - t_first) / 1e9;
    if (r.seconds > 0) r.mib_per_second = static_cast<double>(r.bytes) / kMiB / r.seconds;
    if (!options.verify_download || !last_by) co_return;
    // The last document, downloaded whole: the same bytes, as a PDF, never sniffed.
    try {
      HttpClient::Headers get_headers;
      get_headers.emplace_back("Authorization", "Bearer " + last_by->token);
      const std::string target = "/v1/documents/" + std::to_string(last.document_id);
      HttpAnswer got = co_await http.request("GET", target, get_headers);
      if (got.status != 200) {
        r.verify_problem = "GET: " + std::to_string(got.status) + " " + short_body(got.body);
      } else if (got.body != content) {
        r.verify_problem =
            "the download (" + std::to_string(got.body.size()) + " bytes) differs from the upload";
      } else if (got.header("content-type").rfind("application/pdf", 0) != 0) {
        r.verify_problem = "Content-Type '" + got.header("content-type") + "', not application/pdf";
      } else if (got.header("x-content-type-options") != "nosniff") {
        r.verify_problem = "no X-Content-Type-Options: nosniff";
      } else {
        r.verified = true;
      }
    } catch (const std::exception& e) {
      r.verify_problem = e.what();
    }
  });
  return r;
}

Json BackgroundUploads::Result::to_json() const {
  Json j = Json::object();
  j["uploads_ok"] = uploads_ok;
  j["bytes"] = bytes;
  j["seconds"] = seconds;
  j["mib_per_second"] = mib_per_second;
  j["upload_latency"] = histogram_json(upload_latency);
  j["failures"] = failures;
  j["first_error"] = first_error;
  return j;
}

BackgroundUploads::BackgroundUploads(Endpoint endpoint, std::vector<Uploader> uploaders, uint64_t bytes,
                                     size_t piece, uint64_t first_index)
    : endpoint_(std::move(endpoint)),
      uploaders_(std::move(uploaders)),
      bytes_(bytes),
      piece_(piece),
      next_(first_index) {}

BackgroundUploads::~BackgroundUploads() { (void)stop(); }

void BackgroundUploads::start() {
  if (thread_.joinable() || uploaders_.empty()) return;
  stop_ = false;
  result_ = Result{};
  t0_ = now_ns();
  thread_ = std::thread([this] {
    try {
      run_here([this](asio::io_context& io) { return loop(io); });
    } catch (const std::exception& e) {
      if (result_.failures++ == 0) result_.first_error = e.what();
    }
  });
}

BackgroundUploads::Result BackgroundUploads::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return result_;
}

asio::awaitable<void> BackgroundUploads::loop(asio::io_context& io) {
  HttpClient http(io, endpoint_);
  std::string content = make_pdf_like(bytes_, 2);
  int consecutive_failures = 0;
  while (!stop_.load()) {
    const uint64_t n = next_++;
    stamp_pdf_like(content, n);
    const int64_t t0 = now_ns();
    const std::string name = "bench-background-" + std::to_string(n) + ".pdf";
    const Uploader& who = uploaders_[n % uploaders_.size()];
    UploadOutcome up = co_await upload_document(http, who, name, content, piece_);
    const int64_t t1 = now_ns();
    if (!up.ok) {
      if (result_.failures++ == 0) result_.first_error = up.error;
      if (++consecutive_failures >= 5) break;  // e.g. every quota full: stop, the report says why
      co_await sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    consecutive_failures = 0;
    ++result_.uploads_ok;
    result_.bytes += content.size();
    result_.upload_latency.record(t1 - t0);
    result_.seconds = static_cast<double>(t1 - t0_) / 1e9;
  }
  if (result_.seconds > 0)
    result_.mib_per_second = static_cast<double>(result_.bytes) / kMiB / result_.seconds;
}

// ---------------------------------------------------------------- review

Json ReviewSteps::to_json() const {
  Json j = Json::object();
  j["rounds"] = rounds;
  j["seconds"] = seconds;
  j["rounds_per_second"] = rounds_per_second;
  j["upload_ms"] = histogram_json(upload);
  j["submit_to_reply_ms"] = histogram_json(submit_reply);
  j["submit_to_mentor_event_ms"] = histogram_json(submit_event);
  j["review_to_reply_ms"] = histogram_json(review_reply);
  j["review_to_mentee_event_ms"] = histogram_json(review_event);
  j["reply_to_reply_ms"] = histogram_json(reply_reply);
  j["reply_to_mentor_event_ms"] = histogram_json(reply_event);
  j["round_trip_ms"] = histogram_json(round);
  return j;
}

Json ReviewResult::to_json() const {
  Json j = Json::object();
  Json o = Json::object();
  o["quiet_pairs"] = static_cast<uint64_t>(options.quiet_pairs);
  o["quiet_rounds"] = static_cast<uint64_t>(options.quiet_rounds);
  o["pairs"] = static_cast<uint64_t>(options.pairs);
  o["rounds_per_pair"] = static_cast<uint64_t>(options.rounds_per_pair);
  o["document_bytes"] = static_cast<uint64_t>(options.document_bytes);
  o["comments_per_review"] = static_cast<uint64_t>(options.comments);
  j["options"] = std::move(o);
  j["setup_seconds"] = setup_seconds;
  j["quiet"] = quiet.to_json();
  j["loaded"] = loaded.to_json();
  j["assignments_created"] = assignments_created;
  j["assignments_withdrawn"] = assignments_withdrawn;
  j["failures"] = failures;
  Json errs = Json::object();
  for (const auto& [k, v] : errors) errs[k] = v;
  j["errors"] = std::move(errs);
  j["first_error"] = first_error;
  return j;
}

namespace {

enum class Want { kNone, kSubmitted, kPosted, kReplied };

// One pair's connections and the event its round trip waits for.
struct ReviewPair {
  size_t index = 0;  // into population.pairs
  std::unique_ptr<Connection> mentor, mentee;
  std::unique_ptr<HttpClient> http;  // the mentee's
  Uploader uploader;
  std::string document;
  uint64_t assignment_id = 0;
  uint32_t versions = 0;
  bool broken = false;

  Want want = Want::kNone;
  uint64_t want_review = 0;
  uint32_t want_comment = 0;
  std::unique_ptr<Signal> arrived;
  int64_t arrived_ns = 0;

  void arm(Want w, uint64_t review = 0, uint32_t comment = 0) {
    arrived = std::make_unique<Signal>(executor);
    want = w;
    want_review = review;
    want_comment = comment;
    arrived_ns = 0;
  }
  void hit() {
    arrived_ns = now_ns();
    want = Want::kNone;
    if (arrived) arrived->set();
  }
  asio::any_io_executor executor;  // of the pair's connections
};

class ReviewRun {
 public:
  ReviewRun(const Endpoint& endpoint, const Population& population, const ReviewOptions& options)
      : endpoint_(endpoint), population_(population), options_(options), shards_(1) {
    r_.options = options;
  }

  ReviewResult run(const std::function<void()>& at_start, const std::function<void()>& at_stop) {
    const size_t n = std::max(options_.quiet_pairs, options_.pairs);
    if (options_.first_pair + n > population_.pairs.size()) {
      throw std::runtime_error("review: the population has too few pairs");
    }
    pairs_.resize(n);
    const int64_t s0 = now_ns();
    shards_.run([&](size_t) -> asio::awaitable<void> {
      co_await for_each_parallel(n, 32, [&](size_t i) -> asio::awaitable<void> { co_await setup(i); });
    });
    r_.setup_seconds = static_cast<double>(now_ns() - s0) / 1e9;

    // The quiet phase: one round trip at a time.
    shards_.run([&](size_t) -> asio::awaitable<void> {
      const size_t quiet_pairs = std::max<size_t>(1, std::min(options_.quiet_pairs, n));
      const int64_t t0 = now_ns();
      int64_t t1 = t0;
      for (size_t k = 0; k < options_.quiet_rounds && r_.failures < 20; ++k) {
        ReviewPair& p = pairs_[k % quiet_pairs];
        if (p.broken) continue;
        if (co_await round(p, r_.quiet)) t1 = now_ns();
      }
      finish(r_.quiet, t0, t1);
    });

    // The loaded phase: every pair at once.
    if (at_start) at_start();
    shards_.run([&](size_t) -> asio::awaitable<void> {
      const int64_t t0 = now_ns();
      int64_t t1 = t0;
      co_await for_each_parallel(options_.pairs, options_.pairs, [&](size_t i) -> asio::awaitable<void> {
        for (size_t k = 0; k < options_.rounds_per_pair && !pairs_[i].broken; ++k) {
          if (co_await round(pairs_[i], r_.loaded)) t1 = std::max(t1, now_ns());
        }
      });
      finish(r_.loaded, t0, t1);
    });
    if (at_stop) at_stop();

    shards_.run([&](size_t) -> asio::awaitable<void> {
      for (auto& p : pairs_) {
        if (p.mentor) p.mentor->close();
        if (p.mentee) p.mentee->close();
        if (p.http) p.http->close();
      }
      co_return;
    });
    shards_.settle();
    return std::move(r_);
  }

 private:
  void fail(ReviewPair& p, const std::string& what) {
    p.broken = true;
    p.want = Want::kNone;
    ++r_.errors[what.substr(0, 160)];
    if (r_.failures++ == 0) r_.first_error = "pair " + std::to_string(p.index) + ": " + what;
  }

  static void finish(ReviewSteps& s, int64_t t0, int64_t t1) {
    s.seconds = static_cast<double>(t1 - t0) / 1e9;
    if (s.seconds > 0) s.rounds_per_second = static_cast<double>(s.rounds) / s.seconds;
  }

  asio::awaitable<void> setup(size_t i) {
    ReviewPair& p = pairs_[i];
    p.index = options_.first_pair + i;
    const BenchPair& pair = population_.pairs[p.index];
    auto& io = shards_.io(0);
    try {
      p.mentor = std::make_unique<Connection>(io);
      p.mentee = std::make_unique<Connection>(io);
      p.executor = io.get_executor();
      co_await p.mentor->open(endpoint_);
      co_await p.mentee->open(endpoint_);
      co_await p.mentor->authenticate(population_.users[pair.mentor].token);
      co_await p.mentee->authenticate(population_.users[pair.mentee].token);
      p.http = std::make_unique<HttpClient>(io, endpoint_);
      p.uploader = {population_.users[pair.mentee].token, pair.mentorship_id};
      p.document = make_pdf_like(options_.document_bytes, 1000 + p.index);
      p.mentor->on_event([this, &p](const v1::Event& e) {
        if (p.want == Want::kSubmitted && e.has_assignment_changed() &&
            e.assignment_changed().change() == v1::ASSIGNMENT_CHANGE_SUBMITTED &&
            e.assignment_changed().assignment().id() == p.assignment_id) {
          p.hit();
        } else if (p.want == Want::kReplied && e.has_review_changed() &&
                   e.review_changed().change() == v1::REVIEW_CHANGE_REPLIED &&
                   e.review_changed().review().id() == p.want_review &&
                   e.review_changed().comment_id() == p.want_comment) {
          p.hit();
        }
      });
      p.mentee->on_event([this, &p](const v1::Event& e) {
        if (p.want == Want::kPosted && e.has_review_changed() &&
            e.review_changed().change() == v1::REVIEW_CHANGE_POSTED &&
            e.review_changed().review().assignment_id() == p.assignment_id) {
          p.hit();
        }
      });
      co_await new_assignment(p);
    } catch (const std::exception& e) {
      fail(p, std::string("setup: ") + e.what());
    }
  }

  // Withdraws the pair's assignment (if any) and has the mentor hand off a new one.
  asio::awaitable<void> new_assignment(ReviewPair& p) {
    if (p.assignment_id != 0) {
      v1::ClientFrame w;
      w.mutable_withdraw_assignment()->set_assignment_id(p.assignment_id);
      w.mutable_withdraw_assignment()->set_reason("preceptor-bench: on to the next draft");
      v1::Response resp = co_await p.mentor->call(w);
      if (resp.has_error()) throw CallError("WithdrawAssignment: " + describe(resp.error()));
      ++r_.assignments_withdrawn;
    }
    v1::ClientFrame f;
    auto* c = f.mutable_create_assignment();
    c->set_mentorship_id(population_.pairs[p.index].mentorship_id);
    c->set_title("Revise your CV (preceptor-bench, draft set " + std::to_string(r_.assignments_created + 1) +
                 ")");
    c->set_instructions(
        "Tighten the research section to one page and list your posters with their dates. Send each draft "
        "as a PDF.");
    c->set_kind(v1::ASSIGNMENT_KIND_CV);
    v1::Response resp = co_await p.mentor->call(f);
    if (resp.has_error()) throw CallError("CreateAssignment: " + describe(resp.error()));
    p.assignment_id = resp.create_assignment().assignment().id();
    p.versions = 0;
    ++r_.assignments_created;
  }

  asio::awaitable<bool> wait_event(ReviewPair& p) {
    co_return co_await p.arrived->wait_until(now_ns() + int64_t{options_.event_timeout_ms} * 1'000'000);
  }

  // One round trip; false (and the pair marked broken) on any failure.
  asio::awaitable<bool> round(ReviewPair& p, ReviewSteps& steps) {
    try {
      if (p.versions >= kVersionsPerAssignment) co_await new_assignment(p);
    } catch (const std::exception& e) {
      fail(p, e.what());
      co_return false;
    }
    const uint64_t n = ++documents_;
    stamp_pdf_like(p.document, n);
    // 1. The upload (one PATCH: the document is small).
    const int64_t t0 = now_ns();
    const std::string name = "cv-draft-" + std::to_string(p.index) + "-" + std::to_string(n) + ".pdf";
    UploadOutcome up = co_await upload_document(*p.http, p.uploader, name, p.document, p.document.size());
    if (!up.ok) {
      fail(p, "upload: " + up.error);
      co_return false;
    }
    const int64_t t1 = now_ns();

    // 2. SubmitVersion -> the mentor's AssignmentChanged SUBMITTED.
    p.arm(Want::kSubmitted);
    v1::ClientFrame sf;
    sf.mutable_submit_version()->set_assignment_id(p.assignment_id);
    sf.mutable_submit_version()->set_document_id(up.document_id);
    sf.mutable_submit_version()->set_note("Draft " + std::to_string(p.versions + 1) +
                                          ": shortened the research section as you asked.");
    v1::Response sr = co_await p.mentee->call(sf);
    const int64_t t1r = now_ns();
    if (sr.has_error()) {
      fail(p, "SubmitVersion: " + describe(sr.error()));
      co_return false;
    }
    const uint32_t version = sr.submit_version().version().version();
    p.versions = version;
    if (!co_await wait_event(p)) {
      fail(p, "no AssignmentChanged SUBMITTED at the mentor");
      co_return false;
    }
    const int64_t t1e = p.arrived_ns;

    // 3. ReviewVersion with comments -> the mentee's ReviewChanged POSTED.
    p.arm(Want::kPosted);
    v1::ClientFrame rf;
    auto* rv = rf.mutable_review_version();
    rv->set_assignment_id(p.assignment_id);
    rv->set_version(version);
    rv->set_verdict(v1::REVIEW_VERDICT_CHANGES_REQUESTED);
    rv->set_summary("Closer. Three things before it goes out; see the comments.");
    for (size_t k = 0; k < options_.comments; ++k) {
      auto* c = rv->add_comments();
      c->mutable_anchor()->set_version(version);
      c->mutable_anchor()->set_page(static_cast<uint32_t>(k + 1));
      c->mutable_anchor()->set_quote("Research experience");
      c->set_text("Lead with the outcome of this project, then your role; cut the methods detail.");
    }
    const int64_t t2 = now_ns();
    v1::Response rr = co_await p.mentor->call(rf);
    const int64_t t2r = now_ns();
    if (rr.has_error()) {
      fail(p, "ReviewVersion: " + describe(rr.error()));
      co_return false;
    }
    const v1::Review& review = rr.review_version().review();
    if (review.comments_size() == 0) {
      fail(p, "ReviewVersion: the review came back without its comments");
      co_return false;
    }
    const uint64_t review_id = review.id();
    const uint32_t comment_id = review.comments(0).id();
    if (!co_await wait_event(p)) {
      fail(p, "no ReviewChanged POSTED at the mentee");
      co_return false;
    }
    const int64_t t2e = p.arrived_ns;

    // 4. ReplyToComment -> the mentor's ReviewChanged REPLIED.
    p.arm(Want::kReplied, review_id, comment_id);
    v1::ClientFrame pf;
    pf.mutable_reply_to_comment()->set_review_id(review_id);
    pf.mutable_reply_to_comment()->set_comment_id(comment_id);
    pf.mutable_reply_to_comment()->set_text("Done in the next draft: outcome first, methods in one line.");
    const int64_t t3 = now_ns();
    v1::Response pr = co_await p.mentee->call(pf);
    const int64_t t3r = now_ns();
    if (pr.has_error()) {
      fail(p, "ReplyToComment: " + describe(pr.error()));
      co_return false;
    }
    if (!co_await wait_event(p)) {
      fail(p, "no ReviewChanged REPLIED at the mentor");
      co_return false;
    }
    const int64_t t3e = p.arrived_ns;

    steps.upload.record(t1 - t0);
    steps.submit_reply.record(t1r - t1);
    steps.submit_event.record(t1e - t1);
    steps.review_reply.record(t2r - t2);
    steps.review_event.record(t2e - t2);
    steps.reply_reply.record(t3r - t3);
    steps.reply_event.record(t3e - t3);
    steps.round.record(t3e - t0);
    ++steps.rounds;
    co_return true;
  }

  Endpoint endpoint_;
  const Population& population_;
  ReviewOptions options_;
  Shards shards_;
  std::vector<ReviewPair> pairs_;
  ReviewResult r_;
  uint64_t documents_ = 0;
};

}  // namespace

ReviewResult run_review(const Endpoint& endpoint, const Population& population, const ReviewOptions& options,
                        const std::function<void()>& at_start, const std::function<void()>& at_stop) {
  ReviewRun run(endpoint, population, options);
  return run.run(at_start, at_stop);
}

}  // namespace preceptor::bench
