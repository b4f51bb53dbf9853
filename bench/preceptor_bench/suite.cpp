#include "bench/preceptor_bench/suite.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <thread>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/ceilings.h"
#include "bench/preceptor_bench/history.h"
#include "bench/preceptor_bench/idle.h"
#include "bench/preceptor_bench/meetings_load.h"
#include "bench/preceptor_bench/resume.h"
#include "bench/preceptor_bench/seed.h"
#include "bench/preceptor_bench/work_load.h"

namespace preceptor::bench {

namespace fs = std::filesystem;

void SuiteOptions::apply_smoke() {
  smoke = true;
  chat_pairs = 8;
  chat_rates = {10};
  chat_window = 2;
  chat_seconds = 1.5;
  chat_warmup_seconds = 0;
  chat_drain_seconds = 20;
  fsync_seconds = 0.5;
  idle_connections = 200;
  idle_per_process = 100;
  resume_clients = 8;
  resume_missed = 100;
  resume_lanes = 4;
  seed_messages = 3000;
  seed_window = 64;
  history_connections = 2;
  history_rate = 200;
  history_seconds = 1;
  history_window = 2;
  cold_runs = 1;
  cold_burst_messages = 200;
  booking_mentors = 2;
  booking_mentees = 8;
  booking_per_mentee = 5;
  booking_quiet_lists = 50;
  reminder_meetings = 40;
  reminder_lead_seconds = 8;
  disk_write_mib = 16;
  disk_piece_mib = 1;
  disk_sync_every_mib = 4;
  disk_repeats = 1;
  upload_count = 2;
  upload_mib = 1;
  upload_piece_mib = 0.25;
  upload_pairs = 2;
  review_quiet_rounds = 6;
  review_quiet_pairs = 2;
  review_pairs = 4;
  review_rounds = 2;
  review_document_kib = 16;
}

namespace {

void progress(const std::string& what) {
  std::fprintf(stderr, "[preceptor-bench] %s\n", what.c_str());
  std::fflush(stderr);
}

std::string read_first_line_with(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) return line;
  }
  return {};
}

std::string after_colon(const std::string& line) {
  const size_t c = line.find(':');
  if (c == std::string::npos) return line;
  size_t s = c + 1;
  while (s < line.size() && line[s] == ' ') ++s;
  return line.substr(s);
}

uint64_t dir_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string rate_label(double per_second) {
  if (per_second >= 1000 && std::fmod(per_second, 1000) == 0) return fmt_count(per_second / 1000) + "k/s";
  return fmt_count(per_second) + "/s";
}

// The quantile of a Prometheus histogram between two scrapes (upper bound of
// the bucket it falls in), in seconds; 0 when nothing was observed.
double bucket_quantile(const MetricsSample& before, const MetricsSample& after, const std::string& name,
                       double q) {
  std::vector<std::pair<double, double>> buckets;  // le, cumulative delta
  const std::string prefix = name + "_bucket{le=\"";
  for (auto it = after.lower_bound(prefix);
       it != after.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    const std::string le = it->first.substr(prefix.size(), it->first.size() - prefix.size() - 2);
    const double bound =
        le == "+Inf" ? std::numeric_limits<double>::infinity() : std::strtod(le.c_str(), nullptr);
    buckets.emplace_back(bound, it->second - metric(before, it->first));
  }
  std::sort(buckets.begin(), buckets.end());
  if (buckets.empty() || buckets.back().second <= 0) return 0;
  const double want = q * buckets.back().second;
  for (const auto& [bound, cum] : buckets) {
    if (cum >= want) return bound;
  }
  return buckets.back().first;
}

// What the server (and the machine) did during a load, from /proc and
// the server's /metrics.
struct ServerSide {
  bool measured = false;
  double seconds = 0;
  double cpu_cores = 0;        // server CPU seconds / wall seconds
  double committer_cores = 0;  // the "committer" thread
  double rocksdb_cores = 0;    // RocksDB's background threads
  double other_cores = 0;      // I/O threads and the rest
  double busiest_other = 0;    // the busiest of those, alone
  double committer_wait = 0;   // the committer runnable but waiting for a CPU, share of the time
  double other_wait = 0;       // the same for the other server threads, summed (cores)
  double machine_cores = 0;    // every process on the machine
  double client_cores = 0;     // this tool
  double steal_cores = 0;      // taken by the hypervisor
  double commits = 0;          // mutations made durable
  double groups = 0;           // synced RocksDB writes
  double write_avg_ms = 0;     // one synced write
  double commit_avg_ms = 0;    // submit -> durable
  double commit_p99_ms = 0;    // bucket upper bound
  int64_t peak_rss_kib = 0;

  // Share of the time the committer thread spent inside synced writes.
  double write_share() const { return seconds > 0 ? groups * write_avg_ms / 1e3 / seconds : 0; }
  double others_cores() const { return std::max(0.0, machine_cores - cpu_cores - client_cores); }

  Json to_json() const {
    Json j = Json::object();
    j["seconds"] = seconds;
    j["cpu_cores"] = cpu_cores;
    j["committer_thread_cores"] = committer_cores;
    j["rocksdb_threads_cores"] = rocksdb_cores;
    j["other_threads_cores"] = other_cores;
    j["busiest_other_thread_cores"] = busiest_other;
    j["committer_waiting_for_cpu_share"] = committer_wait;
    j["other_threads_waiting_for_cpu_cores"] = other_wait;
    j["machine_busy_cores"] = machine_cores;
    j["client_cores"] = client_cores;
    j["other_processes_cores"] = others_cores();
    j["steal_cores"] = steal_cores;
    j["commits"] = commits;
    j["commit_groups"] = groups;
    j["commits_per_group"] = groups > 0 ? commits / groups : 0.0;
    j["commit_groups_per_second"] = seconds > 0 ? groups / seconds : 0.0;
    j["synced_write_avg_ms"] = write_avg_ms;
    j["committer_time_in_synced_writes"] = write_share();
    j["commit_latency_avg_ms"] = commit_avg_ms;
    j["commit_latency_p99_ms_bucket"] = commit_p99_ms;
    j["peak_rss_kib"] = peak_rss_kib;
    return j;
  }
  std::string summary() const {
    if (!measured) return "(server not observed)";
    if (seconds < 1) return "(under 1 s: too short to sample CPU)";
    std::string s = "server CPU " + fmt_fixed(cpu_cores, 2) + " cores (committer " +
                    fmt_fixed(committer_cores, 2) + ", I/O+other " + fmt_fixed(other_cores, 2) +
                    ", rocksdb " + fmt_fixed(rocksdb_cores, 2) + "); client " + fmt_fixed(client_cores, 2) +
                    "; other processes " + fmt_fixed(others_cores(), 2);
    s += "; server threads waiting for a CPU " + fmt_fixed(other_wait + committer_wait, 2) + " cores";
    if (groups > 0) {
      s += "; " + fmt_count(groups / seconds) + " synced writes/s × " + fmt_fixed(commits / groups, 1) +
           " msgs, write avg " + fmt_fixed(write_avg_ms, 2) +
           " ms; committer time: " + fmt_fixed(100 * write_share(), 0) + "% in synced writes, " +
           fmt_fixed(100 * committer_cores, 0) + "% on CPU, " + fmt_fixed(100 * committer_wait, 0) +
           "% waiting for a CPU; commit avg " + fmt_fixed(commit_avg_ms, 2) + " ms";
    }
    return s;
  }
};

}  // namespace

Suite::Suite(SuiteOptions options) : options_(std::move(options)) {}

Suite::~Suite() {
  server_.reset();  // SIGKILL if still running
  if (own_work_dir_ && !options_.keep_work_dir && !work_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(work_dir_, ec);
  }
}

void Suite::prepare_work_dir() {
  if (options_.work_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "preceptor-bench.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("cannot create a folder in /tmp");
    work_dir_ = tmpl;
    own_work_dir_ = true;
  } else {
    work_dir_ = options_.work_dir;
    fs::create_directories(work_dir_);
  }
  data_dir_ = work_dir_ + "/data";
  progress("work folder " + work_dir_ +
           (own_work_dir_ && !options_.keep_work_dir ? " (removed at the end)" : ""));
}

void Suite::machine_info() {
  Json m = Json::object();
  m["nproc"] = static_cast<uint64_t>(std::thread::hardware_concurrency());
  m["cpu_model"] = after_colon(read_first_line_with("/proc/cpuinfo", "model name"));
  m["memory"] = after_colon(read_first_line_with("/proc/meminfo", "MemTotal"));
  utsname u{};
  if (::uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) m["open_files_limit"] = static_cast<uint64_t>(rl.rlim_cur);
  m["loadavg_at_start"] = read_first_line_with("/proc/loadavg", "");
  auto& j = report_.json();
  j["tool"] = "preceptor-bench";
  j["command"] = options_.command_line;
  const std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  j["started_at"] = std::string(when);
  j["smoke"] = options_.smoke;
  j["machine"] = std::move(m);
}

std::vector<std::string> Suite::server_argv() const {
  std::vector<std::string> argv = {options_.server_binary, "--data-dir", data_dir_, "--port", "0",
                                   "--fast-password-hashing", "--rate-per-second", "1000000", "--rate-burst",
                                   "1000000", "--log-level", "warn",
                                   // The idle scenario opens up to 18 000 connections from one address.
                                   "--max-connections", "19000", "--max-connections-per-address", "0"};
  if (scheduler_interval_ms_ > 0) {
    argv.push_back("--scheduler-interval-ms");
    argv.push_back(std::to_string(scheduler_interval_ms_));
  }
  if (options_.server_io_threads > 0) {
    argv.push_back("--io-threads");
    argv.push_back(std::to_string(options_.server_io_threads));
  }
  return argv;
}

std::unique_ptr<ServerProcess> Suite::start_server() {
  return std::make_unique<ServerProcess>(server_argv(), work_dir_ + "/server.log");
}

Endpoint Suite::endpoint() const { return server_ ? server_->endpoint() : url_endpoint_; }
pid_t Suite::server_pid() const { return server_ ? server_->pid() : options_.server_pid; }

size_t Suite::total_pairs() const {
  return upload_first_pair() + (wants("upload") ? options_.upload_pairs : 0);
}
// Pair ranges: chat [0, P), resume [P, P+K), history P+K, reminders, uploaders.
size_t Suite::upload_first_pair() const {
  return options_.chat_pairs + options_.resume_clients + 1 +
         (wants("reminders") ? reminder_pairs_for(options_.reminder_meetings) : 0);
}
const BenchPair& Suite::history_pair() const {
  return population_.pairs[options_.chat_pairs + options_.resume_clients];
}

LoadObserver Suite::observe(Observed* into) {
  LoadObserver o;
  o.at_start = [this] {
    observed_start_ = ObservedSample{};
    if (server_pid() > 0) {
      observed_start_.cpu = cpu_seconds(server_pid());
      observed_start_.threads = thread_cpu(server_pid());
    }
    observed_start_.machine = machine_cpu();
    observed_start_.self_cpu = self_cpu_seconds();
    observed_start_.metrics = scrape_metrics(endpoint());
    observed_start_.ns = now_ns();
  };
  o.at_stop = [this, into] {
    ServerSide s;
    const int64_t ns = now_ns();
    const MetricsSample after = scrape_metrics(endpoint());
    const MetricsSample& before = observed_start_.metrics;
    s.seconds = static_cast<double>(ns - observed_start_.ns) / 1e9;
    s.measured = server_pid() > 0 || !after.empty();
    const MachineCpu machine = machine_cpu();
    s.machine_cores = (machine.busy - observed_start_.machine.busy) / s.seconds;
    s.steal_cores = (machine.steal - observed_start_.machine.steal) / s.seconds;
    s.client_cores = (self_cpu_seconds() - observed_start_.self_cpu) / s.seconds;
    if (server_pid() > 0) {
      s.cpu_cores = (cpu_seconds(server_pid()) - observed_start_.cpu) / s.seconds;
      s.peak_rss_kib = peak_rss_kib(server_pid());
      for (const auto& [tid, t] : thread_cpu(server_pid())) {
        auto was = observed_start_.threads.find(tid);
        const bool known = was != observed_start_.threads.end();
        const double cores = (t.seconds - (known ? was->second.seconds : 0)) / s.seconds;
        const double wait = (t.wait_seconds - (known ? was->second.wait_seconds : 0)) / s.seconds;
        if (t.name == "committer") {
          s.committer_cores += cores;
          s.committer_wait += wait;
        } else if (t.name.rfind("rocksdb", 0) == 0) {
          s.rocksdb_cores += cores;
        } else {
          s.other_cores += cores;
          s.other_wait += wait;
          s.busiest_other = std::max(s.busiest_other, cores);
        }
      }
    }
    auto delta = [&](const std::string& name) { return metric(after, name) - metric(before, name); };
    s.commits = delta("preceptor_commits_total");
    s.groups = delta("preceptor_commit_groups_total");
    const double wc = delta("preceptor_commit_write_seconds_count");
    if (wc > 0) s.write_avg_ms = delta("preceptor_commit_write_seconds_sum") / wc * 1e3;
    const double lc = delta("preceptor_commit_latency_seconds_count");
    if (lc > 0) s.commit_avg_ms = delta("preceptor_commit_latency_seconds_sum") / lc * 1e3;
    s.commit_p99_ms = bucket_quantile(before, after, "preceptor_commit_latency_seconds", 0.99) * 1e3;
    into->json = s.to_json();
    into->summary = s.summary();
    if (s.seconds >= 1) others_cores_.push_back(s.others_cores());
  };
  return o;
}

// ---------------------------------------------------------------- ceilings

ChatLoadOptions Suite::chat_options(double rate_per_member, size_t window) const {
  ChatLoadOptions o;
  o.pairs = options_.chat_pairs;
  o.rate_per_member = rate_per_member;
  o.window = window;
  o.seconds = options_.chat_seconds;
  o.warmup_seconds = options_.chat_warmup_seconds;
  o.drain_seconds = options_.chat_drain_seconds;
  o.body_bytes = options_.body_bytes;
  o.client_threads = options_.client_threads;
  return o;
}

void Suite::run_ceilings() {
  Json& ceil = report_.json()["ceilings"];
  ceil = Json::object();
  progress("ceilings: fdatasync loop for " + fmt_fixed(options_.fsync_seconds, 1) + " s in " + work_dir_);
  FsyncResult f = measure_fdatasync(work_dir_, options_.fsync_seconds);
  fsync_per_second_ = f.per_second;
  report_.add({"ceilings", "fdatasync, 4 KiB appends, 1 thread",
               fmt_rate(f.per_second) + "; " + fmt_percentiles(f.latency), "", ""});
  Json fj = f.to_json();
  ceil["fdatasync"] = std::move(fj);

  if (options_.echo_binary.empty() || !fs::exists(options_.echo_binary)) {
    report_.note("echo ceiling skipped: no preceptor-echo-server at '" + options_.echo_binary + "'");
    return;
  }
  ServerProcess echo(
      {options_.echo_binary, "--port", "0", "--threads", std::to_string(options_.echo_threads)},
      work_dir_ + "/echo.log", std::chrono::seconds(30));
  Json runs = Json::array();
  auto run_echo = [&](double rate, size_t window) {
    ChatLoadOptions o = chat_options(rate, window);
    o.echo = true;
    progress("ceilings: echo, " + std::to_string(o.pairs * 2) + " connections, " +
             (window ? "closed loop, " + std::to_string(window) + " in flight each"
                     : rate_label(rate * static_cast<double>(o.pairs) * 2) + " offered") +
             ", " + fmt_fixed(o.seconds, 1) + " s");
    ChatLoadResult r = run_chat_load(echo.endpoint(), population_, o);
    Json j = r.to_json();
    const double cpu = cpu_seconds(echo.pid());
    j["echo_server_cpu_seconds_total"] = cpu;
    runs.push_back(std::move(j));
    const std::string name = window ? "echo max (closed loop, " + std::to_string(window) + " in flight/conn)"
                                    : "echo at " + rate_label(r.offered_per_second) + " offered";
    report_.add({"ceilings", name + ": echoed/s",
                 fmt_rate(r.acked_per_second) + (r.drained ? "" : " (not drained)"), "", ""});
    report_.add({"ceilings", name + ": send→echo", fmt_percentiles(r.send_to_ack), "", ""});
    if (r.connect_failures || r.connections_lost || r.acked != r.sent) {
      report_.note(name + ": " + std::to_string(r.sent - r.acked) + " of " + std::to_string(r.sent) +
                   " frames not echoed, " + std::to_string(r.connect_failures + r.connections_lost) +
                   " connection failures");
    }
    echo_runs_.push_back(std::move(r));
  };
  for (double rate : options_.chat_rates) run_echo(rate, 0);
  if (options_.chat_window > 0) run_echo(0, options_.chat_window);
  ceil["echo"] = std::move(runs);
  echo.terminate(std::chrono::seconds(10));
}

// -------------------------------------------------------------- population

void Suite::start_population() {
  population_ = Population::make(total_pairs());
  Json& setup = report_.json()["setup"];
  setup = Json::object();
  setup["pairs"] = static_cast<uint64_t>(population_.pairs.size());
  setup["users"] = static_cast<uint64_t>(population_.users.size());
  if (options_.url.empty()) {
    const std::string roster = work_dir_ + "/roster.csv";
    population_.write_roster(roster);
    progress("setup: importing " + std::to_string(population_.users.size()) + " users with preceptor-admin");
    const int64_t t0 = now_ns();
    const int rc =
        run_program({options_.admin_binary, "--data-dir", data_dir_, "import-roster", roster},
                    {"PRECEPTOR_PWHASH_FAST=1"}, work_dir_ + "/admin.log", std::chrono::minutes(10));
    if (rc != 0) {
      throw std::runtime_error("preceptor-admin import-roster failed (exit " + std::to_string(rc) +
                               "); see " + work_dir_ + "/admin.log");
    }
    setup["import_seconds"] = static_cast<double>(now_ns() - t0) / 1e9;
    progress("setup: starting " + options_.server_binary);
    server_ = start_server();
    const int64_t ready = server_->wait_ready();
    setup["server_start_to_ready_ms"] = static_cast<double>(ready - server_->spawned_ns()) / 1e6;
    setup["server_url"] = server_->endpoint().url();
    setup["server_argv"] = [&] {
      Json a = Json::array();
      for (const auto& s : server_argv()) a.push_back(s);
      return a;
    }();
    const int64_t rss = rss_kib(server_->pid());
    setup["server_rss_fresh_kib"] = rss;
    report_.add(
        {"server",
         "RSS idle, fresh start with " + std::to_string(population_.users.size()) + " users, no connections",
         fmt_fixed(static_cast<double>(rss) / 1024.0, 1) + " MiB", "G10 ≤ 50 MB excl. block cache",
         "block cache: --block-cache-mb (64 MiB default), mostly empty here"});
  } else {
    if (!Endpoint::parse(options_.url, &url_endpoint_)) throw std::runtime_error("bad --url " + options_.url);
    progress("setup: using the running server at " + options_.url);
  }
  progress("setup: signing in " + std::to_string(population_.users.size()) + " users and pairing " +
           std::to_string(population_.pairs.size()) + " mentorships");
  const int64_t t0 = now_ns();
  population_.sign_in_and_pair(endpoint(), options_.smoke ? 8 : 64);
  setup["sign_in_and_pair_seconds"] = static_cast<double>(now_ns() - t0) / 1e9;
  population_ready_ = true;
}

// -------------------------------------------------------------------- idle

void Suite::run_idle_scenario() {
  if (server_pid() <= 0) {
    report_.note("idle skipped: the server's pid is unknown (pass --server-pid with --url)");
    return;
  }
  IdleOptions o;
  o.connections = options_.idle_connections;
  // The server has the same per-process open-file limit: leave it room for
  // its listener, RocksDB files and the suite's own probes.
  const int64_t server_files = open_files_limit(server_pid());
  if (server_files > 0 && static_cast<int64_t>(o.connections) > server_files - 500) {
    o.connections = static_cast<size_t>(std::max<int64_t>(1, server_files - 500));
    report_.note("idle: lowered to " + std::to_string(o.connections) + " connections: the server may open " +
                 std::to_string(server_files) + " files");
  }
  o.per_process = options_.idle_per_process;
  o.self_exe = options_.self_exe;
  o.work_dir = work_dir_;
  progress("idle: " + std::to_string(o.connections) + " authenticated connections from " +
           std::to_string((o.connections + o.per_process - 1) / o.per_process) + " client processes");
  IdleResult r = run_idle(endpoint(), server_pid(), population_, o);
  report_.json()["idle"] = r.to_json();
  const std::string name = "idle " + fmt_count(static_cast<double>(r.connected));
  report_.add({name, "server RSS per authenticated idle connection",
               fmt_fixed(r.bytes_per_connection / 1024.0, 1) + " KiB (" +
                   fmt_fixed(static_cast<double>(r.rss_before_kib) / 1024.0, 0) + " → " +
                   fmt_fixed(static_cast<double>(r.rss_after_kib) / 1024.0, 0) + " MiB)",
               "G6 ≤ 10 KiB", ""});
  report_.add({name, "connect + authenticate, all connections",
               fmt_fixed(r.setup_seconds, 1) + " s (" +
                   fmt_rate(static_cast<double>(r.connected) / r.setup_seconds) + ")",
               "", ""});
  if (r.failed > 0 || r.connected != r.requested) {
    report_.fail("idle: " + std::to_string(r.failed) + " of " + std::to_string(r.requested) +
                 " connections failed; first: " + r.first_error);
  }
}

// -------------------------------------------------------------------- chat

void Suite::check_chat(const std::string& name, const ChatLoadResult& r) {
  const auto& t = r.tally;
  if (r.connect_failures > 0)
    report_.fail(name + ": " + std::to_string(r.connect_failures) + " connections failed");
  if (r.connections_lost > 0)
    report_.fail(name + ": " + std::to_string(r.connections_lost) + " connections lost");
  if (r.error_replies > 0) {
    std::string first = r.errors.empty() ? "" : r.errors.begin()->first;
    report_.fail(name + ": " + std::to_string(r.error_replies) + " error replies; e.g. " + first);
  }
  if (!r.drained) {
    report_.note(name + ": not drained within " + fmt_fixed(r.options.drain_seconds, 0) +
                 " s after sending (" + std::to_string(r.sent - r.acked - r.error_replies) + " acks, " +
                 std::to_string(2 * r.acked - std::min(2 * r.acked, t.delivered)) +
                 " deliveries outstanding): the server is past its capacity; loss is not judged");
    return;
  }
  if (t.lost > 0 || t.duplicates > 0 || t.out_of_order > 0 || t.unacked_seen > 0) {
    report_.fail(name + ": lost " + std::to_string(t.lost) + ", duplicates " + std::to_string(t.duplicates) +
                 ", out of order " + std::to_string(t.out_of_order) + ", seen but not acked " +
                 std::to_string(t.unacked_seen));
  }
}

void Suite::run_chat_scenarios() {
  Json runs = Json::array();
  auto find_echo = [&](const ChatLoadOptions& o) -> const ChatLoadResult* {
    for (const auto& e : echo_runs_) {
      if (e.options.window == o.window && e.options.rate_per_member == o.rate_per_member) {
        return &e;
      }
    }
    return nullptr;
  };
  auto run_one = [&](double rate, size_t window) {
    ChatLoadOptions o = chat_options(rate, window);
    o.first_pair = 0;
    const double offered = rate * static_cast<double>(o.pairs) * 2;
    const std::string name = window ? "chat max (" + std::to_string(window) + " in flight/member)"
                                    : "chat " + rate_label(offered) + " offered";
    progress(name + ": " + std::to_string(o.pairs) + " pairs, " + fmt_fixed(o.seconds, 1) + " s");
    Observed server_side;
    ChatLoadResult r = run_chat_load(endpoint(), population_, o, observe(&server_side));
    Json j = r.to_json();
    j["name"] = name;
    j["server"] = server_side.json;
    const ChatLoadResult* echo = find_echo(o);
    const std::string shape = std::to_string(o.pairs) + " pairs × 2 × " +
                              (window ? std::to_string(window) + " in flight" : fmt_fixed(rate, 0) + "/s") +
                              ", " + fmt_fixed(o.seconds, 0) + " s";
    const bool g2 = window > 0 || (options_.chat_window == 0 && rate == options_.chat_rates.back());
    const bool g4 = !window && std::fabs(offered - 10000) < 1;
    report_.add(
        {name, "offered", window ? "closed loop: " + shape : fmt_rate(offered) + " (" + shape + ")", "", ""});
    std::string ratio;
    if (echo && echo->acked_per_second > 0) {
      ratio = "echo " + fmt_rate(echo->acked_per_second) + "; ratio " +
              fmt_fixed(r.acked_per_second / echo->acked_per_second, 2);
    }
    report_.add({name, "sent / acked / delivered per s",
                 fmt_count(r.sent_per_second) + " / " + fmt_count(r.acked_per_second) + " / " +
                     fmt_count(r.delivered_per_second) + (r.drained ? "" : " (not drained)"),
                 g2 ? "G2 ≥ 50 000 (floor 25 000)" : "", ratio});
    std::string echo_lat;
    if (echo) {
      echo_lat = "echo p50 " + fmt_fixed(static_cast<double>(echo->send_to_ack.percentile(50)) / 1e6, 3) +
                 ", p99 " + fmt_fixed(static_cast<double>(echo->send_to_ack.percentile(99)) / 1e6, 3) + " ms";
    }
    report_.add({name, "send→ack (durable)", fmt_percentiles(r.send_to_ack), "", echo_lat});
    report_.add({name, "send→delivery", fmt_percentiles(r.send_to_delivery),
                 g4 ? "G4 p50 ≤ 1, p99 ≤ 3, p99.9 ≤ 10 ms" : "", echo_lat});
    report_.add({name, "lost / duplicates / out of order",
                 r.drained ? std::to_string(r.tally.lost) + " / " + std::to_string(r.tally.duplicates) +
                                 " / " + std::to_string(r.tally.out_of_order)
                           : "not judged (not drained); dup " + std::to_string(r.tally.duplicates) +
                                 ", ooo " + std::to_string(r.tally.out_of_order),
                 "0 / 0 / 0", ""});
    report_.add({name, "where the time goes", server_side.summary, "", ""});
    check_chat(name, r);
    runs.push_back(std::move(j));
    chat_runs_.push_back(std::move(r));
  };
  for (double rate : options_.chat_rates) run_one(rate, 0);
  if (options_.chat_window > 0) run_one(0, options_.chat_window);
  report_.json()["chat"] = std::move(runs);
}

// ----------------------------------------------------------------- booking

void Suite::restart_server() {
  if (!server_) return;
  server_->terminate();
  server_.reset();
  server_ = start_server();
  server_->wait_ready();
}

void Suite::run_booking_scenario() {
  BookingOptions o;
  o.mentors = options_.booking_mentors;
  o.mentees = std::min(options_.booking_mentees, options_.chat_pairs + options_.resume_clients);
  o.per_mentee = options_.booking_per_mentee;
  o.seats = options_.booking_seats;
  o.slot_minutes = options_.booking_slot_minutes;
  o.spread = options_.booking_spread;
  o.quiet_lists = options_.booking_quiet_lists;
  std::string seats;
  for (uint32_t s : o.seats) {
    if (!seats.empty()) seats += '/';
    seats += std::to_string(s);
  }
  progress("booking: " + std::to_string(o.mentors) + " mentors with office hours (seats " + seats + "), " +
           std::to_string(o.mentees) + " mentees listing " + std::to_string(o.list_days) +
           " days of slots and booking " + std::to_string(o.per_mentee) + " each, all at once");
  Observed server_side;
  LoadObserver obs = observe(&server_side);
  BookingResult r = run_booking(endpoint(), population_, o, obs.at_start, obs.at_stop);
  Json j = r.to_json();
  j["server"] = server_side.json;
  report_.json()["booking"] = std::move(j);
  const std::string name =
      "booking " + std::to_string(o.mentees) + " mentees × " + std::to_string(o.mentors) + " mentors";
  report_.add({name, "office hours",
               "every day " + std::to_string(o.day_start_minute / 60) + ":00-" +
                   std::to_string(o.day_end_minute / 60) + ":00 " + o.time_zone + ", " +
                   std::to_string(o.slot_minutes) + "-min slots, seats " + seats + " by mentor, notice " +
                   std::to_string(o.min_notice_minutes) + " min: " + std::to_string(r.slots_per_listing) +
                   " slots in a " + std::to_string(o.list_days) + "-day listing",
               "", ""});
  report_.add({name,
               "ListSlots, " + std::to_string(o.list_days) + " days, client-side, no other load (" +
                   fmt_count(static_cast<double>(r.list_quiet.count())) + " calls, " +
                   std::to_string(o.quiet_connections) + " conns)",
               fmt_percentiles(r.list_quiet), "p99 ≤ 2 ms", ""});
  report_.add(
      {name, "ListSlots, " + std::to_string(o.list_days) + " days, client-side, during the booking rush",
       fmt_percentiles(r.list_loaded), "p99 ≤ 2 ms", fmt_count(static_cast<double>(r.lists)) + " calls"});
  report_.add({name,
               "ListSlots, " + std::to_string(o.list_days) +
                   " days, client-side, no other load, after the rush (" +
                   fmt_count(static_cast<double>(r.booked)) + " booked)",
               fmt_percentiles(r.list_after), "p99 ≤ 2 ms", ""});
  report_.add({name, "bookings/s (successful BookSlot)",
               fmt_rate(r.bookings_per_second) + " (" + fmt_count(static_cast<double>(r.booked)) + " in " +
                   fmt_fixed(r.seconds, 1) + " s)",
               "≥ 2 000/s", "BookSlot replies " + fmt_rate(r.attempts_per_second)});
  std::string per;
  for (uint64_t n : r.mentees_per_mentor) {
    if (!per.empty()) per += '/';
    per += std::to_string(n);
  }
  report_.add({name, "mentees per mentor (by seats); done / ran out of free slots",
               per + "; " + std::to_string(r.mentees_done) + " / " + std::to_string(r.mentees_exhausted), "",
               ""});
  report_.add({name, "refused: slot full / other refusals",
               fmt_count(static_cast<double>(r.refused_full)) + " / " +
                   fmt_count(static_cast<double>(r.refused_other)),
               "", ""});
  report_.add({name, "BookSlot latency, client-side", fmt_percentiles(r.book_latency), "", ""});
  report_.add({name, "over-booked slots: from the replies / from ListMeetings; booked but not listed",
               std::to_string(r.overbooked_slots) + " / " + std::to_string(r.overbooked_in_listing) + "; " +
                   std::to_string(r.missing_in_listing) + " (" +
                   fmt_count(static_cast<double>(r.slots_booked)) + " slots booked, " +
                   fmt_count(static_cast<double>(r.listed_bookings)) + " bookings listed)",
               "0 / 0; 0", ""});
  report_.add({name, "where the time goes", server_side.summary, "", ""});
  if (r.connect_failures > 0) report_.fail("booking: setup failed: " + r.first_error);
  if (r.overbooked_slots > 0 || r.overbooked_in_listing > 0 || r.missing_in_listing > 0 ||
      r.listed_bookings != r.booked) {
    report_.fail("booking: OVER-BOOKED or inconsistent: " + std::to_string(r.overbooked_slots) +
                 " over-booked slots in the replies, " + std::to_string(r.overbooked_in_listing) +
                 " in ListMeetings, " + std::to_string(r.missing_in_listing) + " bookings not listed, " +
                 std::to_string(r.listed_bookings) + " listed for " + std::to_string(r.booked) +
                 " booked; first: " + r.first_problem);
  }
  if (r.other_errors > 0) {
    report_.fail("booking: " + std::to_string(r.other_errors) + " failed requests; " +
                 (r.errors.empty() ? r.first_problem : r.errors.begin()->first));
  }
}

// --------------------------------------------------------------- reminders

void Suite::run_reminders_scenario() {
  const size_t first = options_.chat_pairs + options_.resume_clients + 1;
  const double rate = options_.reminder_chat_rate > 0 ? options_.reminder_chat_rate
                      : options_.chat_rates.empty()   ? 1.0
                                                      : options_.chat_rates.front();
  if (server_) {
    // Timed work every scheduler_interval_ms (the server's default is 60 s):
    // both chat runs below see the same passes, with and without due work.
    scheduler_interval_ms_ = options_.scheduler_interval_ms;
    progress("reminders: restarting the server with --scheduler-interval-ms " +
             std::to_string(scheduler_interval_ms_));
    restart_server();
  } else {
    report_.note("reminders: against --url, timed work runs at that server's --scheduler-interval-ms");
  }
  const auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  ReminderSeedOptions so;
  so.meetings = options_.reminder_meetings;
  so.first_pair = first;
  so.due_from_ms = wall_ms() + static_cast<int64_t>(options_.reminder_lead_seconds * 1000);
  // Due across the measured part of the "with" run.
  so.due_span_ms = static_cast<int64_t>((options_.chat_seconds - options_.chat_warmup_seconds) * 1000);
  progress("reminders: seeding " + std::to_string(so.meetings) + " accepted meetings (" +
           std::to_string(reminder_pairs_for(so.meetings)) + " pairs), 2 reminders each due " +
           fmt_fixed(options_.reminder_lead_seconds, 0) + " s from now over " +
           fmt_fixed(static_cast<double>(so.due_span_ms) / 1000, 1) + " s");
  ReminderSeedResult seed = seed_reminder_meetings(endpoint(), population_, so);
  Json rj = Json::object();
  rj["seed"] = seed.to_json();
  rj["scheduler_interval_ms"] = scheduler_interval_ms_;
  const std::string name = "reminders: chat " +
                           rate_label(rate * 2 * static_cast<double>(options_.chat_pairs)) + " offered, " +
                           fmt_count(static_cast<double>(seed.meetings)) + " meetings due";
  report_.add({name, "seeded: accepted meetings / reminders due in the window",
               fmt_count(static_cast<double>(seed.meetings)) + " / " +
                   fmt_count(static_cast<double>(seed.reminders_due)) + " in " + fmt_fixed(seed.seconds, 1) +
                   " s",
               "", "timed work every " + std::to_string(scheduler_interval_ms_) + " ms"});
  if (seed.failures > 0) {
    report_.fail("reminders: " + std::to_string(seed.failures) +
                 " pairs could not be seeded; first: " + seed.first_error);
  }

  struct Run {
    ChatLoadResult r;
    double reminder_commits = 0;  // commits during the load that were not chat messages
  };
  auto run_chat = [&](const std::string& label) {
    ChatLoadOptions o = chat_options(rate, 0);
    progress("reminders: chat " + label + ", " + std::to_string(o.pairs) + " pairs, " +
             fmt_fixed(o.seconds, 1) + " s");
    Observed server_side;
    LoadObserver obs = observe(&server_side);
    MetricsSample before, after;
    LoadObserver wrapped;
    wrapped.at_start = [&] {
      before = scrape_metrics(endpoint());
      obs.at_start();
    };
    wrapped.at_stop = [&] {
      obs.at_stop();
      after = scrape_metrics(endpoint());
    };
    Run run{run_chat_load(endpoint(), population_, o, wrapped), 0};
    run.reminder_commits = metric(after, "preceptor_commits_total") -
                           metric(before, "preceptor_commits_total") - static_cast<double>(run.r.acked);
    Json j = run.r.to_json();
    j["server"] = server_side.json;
    j["commits_not_chat"] = run.reminder_commits;
    rj[label] = std::move(j);
    check_chat("reminders " + label, run.r);
    report_.add({name, label + ": acked / delivered per s; send→delivery",
                 fmt_count(run.r.acked_per_second) + " / " + fmt_count(run.r.delivered_per_second) + "; " +
                     fmt_percentiles(run.r.send_to_delivery),
                 "", "other commits " + fmt_count(std::max(0.0, run.reminder_commits))});
    report_.add({name, label + ": where the time goes", server_side.summary, "", ""});
    return run;
  };

  // Without: before the first reminder is due (if there is time), then with.
  const int64_t t_before = now_ns();
  Run without = run_chat("without due reminders");
  const double run_ms = static_cast<double>(now_ns() - t_before) / 1e6;
  if (wall_ms() > so.due_from_ms) {
    report_.note(
        "reminders: the run without due reminders ended after the first was due; raise "
        "--reminder-lead-seconds");
  }
  // Start the run with due reminders so that its sending starts about when
  // the first falls due (connecting takes the part of the run before sending).
  const double connect_ms = std::max(0.0, run_ms - (options_.chat_seconds * 1000) - 1000);
  const int64_t start_at = so.due_from_ms - static_cast<int64_t>(connect_ms) -
                           static_cast<int64_t>(options_.chat_warmup_seconds * 1000);
  if (wall_ms() < start_at) {
    progress("reminders: waiting " + fmt_fixed(static_cast<double>(start_at - wall_ms()) / 1000, 1) +
             " s for the first reminder to come due");
    std::this_thread::sleep_for(std::chrono::milliseconds(start_at - wall_ms()));
  }
  Run with = run_chat("with due reminders");
  // Every reminder due has been handled after the next pass or two.
  const int64_t settle_until =
      so.due_from_ms + so.due_span_ms + 3 * std::max<int64_t>(1000, scheduler_interval_ms_);
  if (wall_ms() < settle_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(settle_until - wall_ms()));
  Run again = run_chat("without, after");

  ReminderCheck check = count_reminders(endpoint(), population_, first, reminder_pairs_for(so.meetings));
  Json cj = Json::object();
  cj["users"] = check.users;
  cj["reminders"] = check.reminders;
  cj["late"] = check.late;
  cj["failures"] = check.failures;
  rj["delivered"] = std::move(cj);
  report_.add({name, "reminders delivered (Sync of every reminder user) / due / marked late",
               fmt_count(static_cast<double>(check.reminders)) + " / " +
                   fmt_count(static_cast<double>(seed.reminders_due)) + " / " + std::to_string(check.late),
               "all, none late", ""});
  if (check.failures > 0 || check.reminders != seed.reminders_due) {
    report_.fail("reminders: " + std::to_string(check.reminders) + " delivered of " +
                 std::to_string(seed.reminders_due) + " due; " + std::to_string(check.failures) +
                 " users not read" + (check.first_error.empty() ? "" : "; first: " + check.first_error));
  }
  auto ratio = [](double a, double b) { return b > 0 ? fmt_fixed(a / b, 2) : std::string("-"); };
  auto p = [](const ChatLoadResult& r, double q) {
    return static_cast<double>(r.send_to_delivery.percentile(q));
  };
  const std::string ratios =
      "acked/s " + ratio(with.r.acked_per_second, without.r.acked_per_second) + ", delivered/s " +
      ratio(with.r.delivered_per_second, without.r.delivered_per_second) + ", send→delivery p50 " +
      ratio(p(with.r, 50), p(without.r, 50)) + ", p99 " + ratio(p(with.r, 99), p(without.r, 99));
  const std::string ratios_after = "acked/s " + ratio(with.r.acked_per_second, again.r.acked_per_second) +
                                   ", p50 " + ratio(p(with.r, 50), p(again.r, 50)) + ", p99 " +
                                   ratio(p(with.r, 99), p(again.r, 99));
  report_.add({name, "ratio with / without (before)", ratios, "throughput ≈ 1, latency not up noticeably",
               "with / after: " + ratios_after});
  Json ratio_json = Json::object();
  ratio_json["acked_per_second"] =
      without.r.acked_per_second > 0 ? with.r.acked_per_second / without.r.acked_per_second : 0.0;
  ratio_json["delivered_per_second"] =
      without.r.delivered_per_second > 0 ? with.r.delivered_per_second / without.r.delivered_per_second : 0.0;
  ratio_json["send_to_delivery_p50"] = p(without.r, 50) > 0 ? p(with.r, 50) / p(without.r, 50) : 0.0;
  ratio_json["send_to_delivery_p99"] = p(without.r, 99) > 0 ? p(with.r, 99) / p(without.r, 99) : 0.0;
  rj["ratio_with_over_without"] = std::move(ratio_json);
  report_.json()["reminders"] = std::move(rj);

  if (server_) {
    scheduler_interval_ms_ = 0;
    restart_server();  // the later scenarios run with the server's own default again
  }
}

// ------------------------------------------------------------------ resume

void Suite::run_resume_scenario() {
  ResumeOptions o;
  o.clients = options_.resume_clients;
  o.first_pair = options_.chat_pairs;
  o.missed = options_.resume_missed;
  o.lanes = options_.resume_lanes;
  progress("resume: " + std::to_string(o.clients) + " clients drop, " + std::to_string(o.missed) +
           " messages each pile up, they reconnect " + std::to_string(o.lanes) + " at a time");
  Observed server_side;
  ResumeResult r = run_resume(endpoint(), population_, o, observe(&server_side));
  Json j = r.to_json();
  j["server"] = server_side.json;
  report_.json()["resume"] = std::move(j);
  const std::string name =
      "resume " + std::to_string(o.clients) + " × " + std::to_string(o.missed) + " missed";
  report_.add({name, "connect → caught up, per client", fmt_percentiles(r.total), "G8 p99 ≤ 5 ms", ""});
  report_.add({name, "resumes/s (" + std::to_string(o.lanes) + " at once)", fmt_rate(r.resumes_per_second),
               "G8 ≥ 5 000/s", ""});
  report_.add({name, "p50 / p99 of connect, authenticate, sync",
               fmt_fixed(static_cast<double>(r.connect.percentile(50)) / 1e6, 2) + " / " +
                   fmt_fixed(static_cast<double>(r.connect.percentile(99)) / 1e6, 2) + ", " +
                   fmt_fixed(static_cast<double>(r.authenticate.percentile(50)) / 1e6, 2) + " / " +
                   fmt_fixed(static_cast<double>(r.authenticate.percentile(99)) / 1e6, 2) + ", " +
                   fmt_fixed(static_cast<double>(r.sync.percentile(50)) / 1e6, 2) + " / " +
                   fmt_fixed(static_cast<double>(r.sync.percentile(99)) / 1e6, 2) + " ms",
               "", ""});
  report_.add({name, "where the time goes", server_side.summary, "", ""});
  report_.add({name, "missed messages: sent / received / lost / dup",
               fmt_count(static_cast<double>(r.missed_sent)) + " / " +
                   fmt_count(static_cast<double>(r.missed_received)) + " / " + std::to_string(r.lost) +
                   " / " + std::to_string(r.duplicates),
               "lost 0, dup 0", ""});
  if (r.failed > 0 || r.lost > 0 || r.duplicates > 0) {
    report_.fail("resume: " + std::to_string(r.failed) + " clients failed, " + std::to_string(r.lost) +
                 " lost, " + std::to_string(r.duplicates) + " duplicates; first: " + r.first_error);
  }
}

// ----------------------------------------------------------------- history

void Suite::run_history_scenario() {
  SeedOptions so;
  so.messages = options_.seed_messages;
  so.window = options_.seed_window;
  so.body_bytes = options_.body_bytes;
  progress("seeding: " + fmt_count(static_cast<double>(so.messages)) + " messages into one conversation, " +
           std::to_string(so.window) + " in flight per member");
  Observed seed_server;
  LoadObserver seed_observer = observe(&seed_server);
  seed_observer.at_start();
  SeedResult seed = seed_conversation(endpoint(), population_, history_pair(), so);
  seed_observer.at_stop();
  Json sj = seed.to_json();
  sj["server"] = seed_server.json;
  report_.json()["seed"] = std::move(sj);
  report_.add({"seed",
               "messages stored through the protocol (" + std::to_string(so.window) + " in flight/member)",
               fmt_count(static_cast<double>(seed.stored)) + " in " + fmt_fixed(seed.seconds, 1) + " s (" +
                   fmt_rate(seed.per_second) + ")",
               "", ""});
  report_.add({"seed", "where the time goes", seed_server.summary, "", ""});
  if (seed.stored != seed.requested) {
    report_.fail("seed: stored " + std::to_string(seed.stored) + " of " + std::to_string(seed.requested) +
                 (seed.errors.empty() ? std::string() : "; e.g. " + seed.errors.begin()->first));
  }
  if (server_) {
    // The data folder on disk: sum of its files' sizes (du-style) after a
    // flush. A clean stop flushes every memtable (no WAL to replay), so stop,
    // measure, and start the server again on the same folder.
    const uint64_t live_bytes = dir_bytes(data_dir_);
    server_->terminate();
    server_.reset();
    const uint64_t flushed_bytes = dir_bytes(data_dir_);
    server_ = start_server();
    server_->wait_ready();
    Json& seed_json = report_.json()["seed"];
    seed_json["data_dir_bytes_live"] = live_bytes;
    seed_json["data_dir_bytes_flushed"] = flushed_bytes;
    seed_json["data_dir_bytes_per_message"] =
        seed.stored > 0 ? static_cast<double>(flushed_bytes) / static_cast<double>(seed.stored) : 0.0;
    report_.add(
        {"seed", "data folder on disk after a flush (all files)",
         fmt_fixed(static_cast<double>(flushed_bytes) / 1e6, 1) + " MB (" +
             fmt_fixed(seed.stored > 0 ? static_cast<double>(flushed_bytes) / static_cast<double>(seed.stored)
                                       : 0.0,
                       0) +
             " B/message; " + fmt_fixed(static_cast<double>(live_bytes) / 1e6, 1) + " MB before the flush)",
         "", ""});
  }

  HistoryOptions o;
  o.connections = options_.history_connections;
  o.rate = options_.history_rate;
  o.seconds = options_.history_seconds;
  o.window = options_.history_window;
  progress("history: newest 50 of " + fmt_count(static_cast<double>(seed.stored)) + " from " +
           std::to_string(o.connections) + " connections");
  Observed server_side;
  HistoryResult r = run_history(endpoint(), population_, history_pair(), o, observe(&server_side));
  Json j = r.to_json();
  j["server"] = server_side.json;
  report_.json()["history"] = std::move(j);
  const std::string name = "history (" + fmt_count(static_cast<double>(r.stored)) + " stored)";
  report_.add({name,
               "max pages/s (" + std::to_string(o.connections) + " conns × " + std::to_string(o.window) +
                   " in flight)",
               fmt_rate(r.closed_loop.pages_per_second) + "; " + fmt_percentiles(r.closed_loop.latency),
               "G7 ≥ 15 000/s", ""});
  report_.add({name,
               "newest 50 at " + rate_label(r.open_loop.offered_per_second) + " offered" +
                   (r.rate_reduced ? " (half the max)" : ""),
               fmt_percentiles(r.open_loop.latency), "G7 p99 ≤ 1 ms",
               fmt_rate(r.open_loop.pages_per_second) + " achieved"});
  report_.add({name, "where the time goes", server_side.summary, "", ""});
  for (const HistoryPhase* p : {&r.open_loop, &r.closed_loop}) {
    if (p->bad_pages > 0 || p->error_replies > 0) {
      report_.fail("history: " + std::to_string(p->bad_pages) + " wrong pages, " +
                   std::to_string(p->error_replies) + " error replies" +
                   (p->errors.empty() ? std::string() : "; e.g. " + p->errors.begin()->first));
    }
  }
}

// -------------------------------------------------------------- cold start

void Suite::run_cold_start() {
  if (!server_) {
    report_.note("cold start skipped: it needs a server the tool starts itself (not --url)");
    return;
  }
  Json cj = Json::object();
  const uint64_t bytes = dir_bytes(data_dir_);
  cj["data_dir_bytes"] = bytes;
  cj["stored_messages"] = options_.seed_messages;
  progress("cold start: stopping the server (SIGTERM), then " + std::to_string(options_.cold_runs) +
           " restarts after SIGTERM and " + std::to_string(options_.cold_runs) + " after kill -9");
  Json shutdowns = Json::array();
  shutdowns.push_back(static_cast<double>(server_->terminate()) / 1e6);
  server_.reset();

  // 1. The server that stored everything, stopped with SIGTERM: its restart
  //    is the cold start that matters (whatever it left to recover).
  // 2. Idle restarts after SIGTERM (a process that wrote nothing).
  // 3. kill -9 in the middle of a write burst, then a restart.
  std::vector<double> clean, killed, clean_listen, killed_listen;
  double first_ready = 0, first_listen = 0;
  for (int i = 0; i <= options_.cold_runs; ++i) {
    server_ = start_server();
    const int64_t ready = server_->wait_ready();
    const double ready_ms = static_cast<double>(ready - server_->spawned_ns()) / 1e6;
    const double listen_ms = static_cast<double>(server_->listening_ns() - server_->spawned_ns()) / 1e6;
    if (i == 0) {
      first_ready = ready_ms;
      first_listen = listen_ms;
    } else {
      clean.push_back(ready_ms);
      clean_listen.push_back(listen_ms);
    }
    if (i < options_.cold_runs) {
      shutdowns.push_back(static_cast<double>(server_->terminate()) / 1e6);
      server_.reset();
    }
  }
  for (int i = 0; i < options_.cold_runs; ++i) {
    SeedOptions so;
    so.messages = options_.cold_burst_messages;
    so.window = 256;
    so.progress = false;
    so.return_after = std::max<uint64_t>(1, so.messages / 2);
    SeedResult burst = seed_conversation(endpoint(), population_, history_pair(), so);
    if (burst.stored < so.return_after) report_.fail("cold start: the write burst before kill -9 failed");
    server_->kill9();  // with the other half of the burst in flight
    server_.reset();
    server_ = start_server();
    const int64_t ready = server_->wait_ready();
    killed.push_back(static_cast<double>(ready - server_->spawned_ns()) / 1e6);
    killed_listen.push_back(static_cast<double>(server_->listening_ns() - server_->spawned_ns()) / 1e6);
  }
  auto arr = [](const std::vector<double>& v) {
    Json a = Json::array();
    for (double x : v) a.push_back(x);
    return a;
  };
  cj["first_restart_after_sigterm_of_loaded_server_ready_ms"] = first_ready;
  cj["first_restart_after_sigterm_of_loaded_server_listening_ms"] = first_listen;
  cj["idle_restarts_after_sigterm_ready_ms"] = arr(clean);
  cj["idle_restarts_after_sigterm_listening_ms"] = arr(clean_listen);
  cj["after_kill9_mid_burst_ready_ms"] = arr(killed);
  cj["after_kill9_mid_burst_listening_ms"] = arr(killed_listen);
  cj["kill9_burst_messages"] = options_.cold_burst_messages;
  cj["sigterm_shutdown_ms"] = std::move(shutdowns);
  report_.json()["cold_start"] = std::move(cj);
  const std::string name = "cold start (" + fmt_count(static_cast<double>(options_.seed_messages)) +
                           " msgs, " + fmt_fixed(static_cast<double>(bytes) / 1048576.0, 0) + " MiB)";
  auto ms = [](double v) { return v >= 10000 ? fmt_fixed(v / 1000, 1) + " s" : fmt_fixed(v, 0) + " ms"; };
  const std::string of = options_.cold_runs > 1 ? "median of " + std::to_string(options_.cold_runs) : "1 run";
  report_.add({name, "exec → /readyz 200: restart after SIGTERM of the server that stored them",
               ms(first_ready), "G9 ≤ 500 ms", "listening line at " + ms(first_listen)});
  report_.add({name, "exec → /readyz 200: idle restarts after SIGTERM (" + of + ")", ms(median(clean)),
               "G9 ≤ 500 ms", "listening line at " + ms(median(clean_listen))});
  report_.add({name,
               "exec → /readyz 200 after kill -9 mid-burst of " +
                   fmt_count(static_cast<double>(options_.cold_burst_messages)) + " msgs (" + of + ")",
               ms(median(killed)) + " (max " + ms(*std::max_element(killed.begin(), killed.end())) + ")",
               "G9 ≤ 2 000 ms", "listening line at " + ms(median(killed_listen))});
}

// ------------------------------------------------------------------ upload

namespace {

uint64_t mib_bytes(double mib) { return static_cast<uint64_t>(std::llround(mib * 1048576.0)); }

std::string fmt_mib(double mib) {
  return mib == std::floor(mib) ? fmt_fixed(mib, 0) + " MiB" : fmt_fixed(mib * 1024, 0) + " KiB";
}

std::string fmt_kib_as_mib(int64_t kib) {
  return kib < 0 ? std::string("-") : fmt_fixed(static_cast<double>(kib) / 1024.0, 1) + " MiB";
}

std::string p50_p99(const LatencyHistogram& h) {
  return fmt_fixed(static_cast<double>(h.percentile(50)) / 1e6, 2) + " / " +
         fmt_fixed(static_cast<double>(h.percentile(99)) / 1e6, 2) + " ms";
}

}  // namespace

void Suite::run_upload_scenario() {
  Json uj = Json::object();
  const uint64_t upload_bytes = mib_bytes(options_.upload_mib);
  const size_t piece = static_cast<size_t>(mib_bytes(options_.upload_piece_mib));
  const std::string name = "upload " + std::to_string(options_.upload_count) + " × " +
                           fmt_mib(options_.upload_mib) + " (PATCH " + fmt_mib(options_.upload_piece_mib) +
                           ")";

  // 1. The disk's sequential write rate, in the data folder's file system.
  //    A first pass is not counted: on the reference VM the first 256 MiB
  //    written in a while went at a sixth of the rate of the passes after it
  //    (new extents of a file system mounted with discard). Then
  //    `disk_repeats` passes of each kind, alternating; the medians count.
  const uint64_t disk_bytes = mib_bytes(options_.disk_write_mib);
  const size_t disk_piece = static_cast<size_t>(mib_bytes(options_.disk_piece_mib));
  const uint64_t sync_every = mib_bytes(options_.disk_sync_every_mib);
  progress("upload: the disk's sequential write rate in " + work_dir_ + ": " +
           fmt_mib(options_.disk_write_mib) + " in " + fmt_mib(options_.disk_piece_mib) +
           " writes, one fdatasync at the end and one every " + fmt_mib(options_.disk_sync_every_mib) + ", " +
           std::to_string(options_.disk_repeats) + " times each after one unmeasured pass");
  const DiskWriteResult warmup = measure_sequential_write(work_dir_, disk_bytes, disk_piece, 0);
  std::vector<DiskWriteResult> onces, everys;
  for (size_t k = 0; k < options_.disk_repeats; ++k) {
    onces.push_back(measure_sequential_write(work_dir_, disk_bytes, disk_piece, 0));
    everys.push_back(measure_sequential_write(work_dir_, disk_bytes, disk_piece, sync_every));
  }
  auto median_of = [](std::vector<DiskWriteResult> runs) {
    std::sort(runs.begin(), runs.end(), [](const DiskWriteResult& a, const DiskWriteResult& b) {
      return a.mib_per_second < b.mib_per_second;
    });
    return runs[runs.size() / 2];
  };
  auto runs_text = [](const std::vector<DiskWriteResult>& runs) {
    std::string t;
    for (const auto& r : runs) t += (t.empty() ? "" : " / ") + fmt_fixed(r.mib_per_second, 0);
    return t;
  };
  auto runs_json = [](const std::vector<DiskWriteResult>& runs) {
    Json a = Json::array();
    for (const auto& r : runs) a.push_back(r.to_json());
    return a;
  };
  const DiskWriteResult once = median_of(onces);
  const DiskWriteResult every = median_of(everys);
  const double ceiling = once.mib_per_second;
  const double synced_rate = every.mib_per_second;
  uj["disk_unmeasured_first_pass"] = warmup.to_json();
  uj["disk_one_fdatasync_runs"] = runs_json(onces);
  uj["disk_fdatasync_every_runs"] = runs_json(everys);
  uj["disk_ceiling_mib_per_second"] = ceiling;
  uj["disk_fdatasync_every_mib_per_second"] = synced_rate;
  if (!server_)
    report_.note(
        "upload: with --url the disk ceiling is measured in the work folder, which may not be where that "
        "server keeps its data");
  const std::string of =
      options_.disk_repeats > 1 ? "median of " + std::to_string(options_.disk_repeats) : std::string("1 run");
  report_.add({name,
               "disk ceiling: " + fmt_mib(options_.disk_write_mib) + " sequential, " +
                   fmt_mib(options_.disk_piece_mib) + " writes, one fdatasync at the end (" + of + ")",
               fmt_fixed(ceiling, 1) + " MiB/s (runs " + runs_text(onces) + "; the last fdatasync " +
                   fmt_fixed(once.last_sync_seconds, 2) + " s of " + fmt_fixed(once.seconds, 2) + " s)",
               "",
               "the ceiling; an unmeasured first pass: " + fmt_fixed(warmup.mib_per_second, 0) + " MiB/s"});
  report_.add(
      {name,
       "disk: the same with an fdatasync every " + fmt_mib(options_.disk_sync_every_mib) + " (" + of + ")",
       fmt_fixed(synced_rate, 1) + " MiB/s (runs " + runs_text(everys) + ")", "",
       "ratio to the ceiling " + fmt_fixed(ceiling > 0 ? synced_rate / ceiling : 0, 2)});

  // 2. Uploads one after another, nothing else running; the server's RSS around each.
  const std::vector<Uploader> uploaders =
      uploaders_of(population_, upload_first_pair(), options_.upload_pairs);
  SequentialUploadOptions so;
  so.uploads = options_.upload_count;
  so.bytes = upload_bytes;
  so.piece = piece;
  so.server_pid = server_pid();
  so.rss_interval_ms = options_.rss_interval_ms;
  progress("upload: " + std::to_string(so.uploads) + " uploads of " + fmt_mib(options_.upload_mib) +
           " one after another, the server's RSS every " + std::to_string(so.rss_interval_ms) + " ms");
  Observed seq_server;
  LoadObserver seq_obs = observe(&seq_server);
  seq_obs.at_start();
  const SequentialUploadResult seq = run_sequential_uploads(endpoint(), uploaders, so, upload_index_);
  seq_obs.at_stop();
  upload_index_ += so.uploads;
  Json sj = seq.to_json();
  sj["server"] = seq_server.json;
  uj["sequential"] = std::move(sj);
  if (seq.uploads_ok == 0) {
    report_.fail("upload: none of " + std::to_string(so.uploads) +
                 " uploads went through; first: " + seq.first_error);
    report_.note(
        "upload: with no upload through, the upload rows and the chat runs with and without uploads "
        "were skipped");
    report_.json()["upload"] = std::move(uj);
    return;
  }
  const double ratio = ceiling > 0 ? seq.mib_per_second / ceiling : 0;
  const double synced_ratio = synced_rate > 0 ? seq.mib_per_second / synced_rate : 0;
  uj["ratio_to_disk_ceiling"] = ratio;
  uj["ratio_to_disk_fdatasync_every"] = synced_ratio;
  report_.add({name, "uploads one after another: MiB/s (first POST to the last 201, each acked when synced)",
               fmt_fixed(seq.mib_per_second, 1) + " MiB/s (" + std::to_string(seq.uploads_ok) + " in " +
                   fmt_fixed(seq.seconds, 2) + " s)",
               "≥ 0.8 × disk",
               "ratio to the disk ceiling " + fmt_fixed(ratio, 2) + " (to the fdatasync-every-" +
                   fmt_mib(options_.disk_sync_every_mib) + " rate " + fmt_fixed(synced_ratio, 2) + ")"});
  report_.add({name, "one upload (POST → last 201); one PATCH", fmt_percentiles(seq.upload_latency), "",
               "PATCH p50 / p99 " + p50_p99(seq.patch_latency)});
  if (!seq.memory.empty()) {
    const UploadMemory& first = seq.memory.front();
    int64_t later = -1, later_hwm = -1;
    for (size_t i = 1; i < seq.memory.size(); ++i) {
      later = std::max(later, seq.memory[i].growth_kib());
      later_hwm = std::max(later_hwm, seq.memory[i].hwm_growth_kib());
    }
    report_.add(
        {name,
         "server RSS growth during the first upload: max of " + std::to_string(first.samples) + " samples (" +
             std::to_string(options_.rss_interval_ms) + " ms) − before; VmHWM − before",
         fmt_kib_as_mib(first.growth_kib()) + "; " + fmt_kib_as_mib(first.hwm_growth_kib()), "≤ 8 MiB",
         "RSS before " + fmt_kib_as_mib(first.rss_before_kib) + ", after " +
             fmt_kib_as_mib(first.rss_after_kib) + "; of it the server's own memory (RssAnon, not " +
             "program and library pages) after − before " +
             fmt_kib_as_mib(first.anon_after_kib - first.anon_before_kib)});
    if (seq.memory.size() > 1) {
      report_.add({name, "server RSS growth, the largest of uploads 2-" + std::to_string(seq.memory.size()),
                   fmt_kib_as_mib(later) + "; " + fmt_kib_as_mib(later_hwm), "≤ 8 MiB",
                   "RSS after the last " + fmt_kib_as_mib(seq.memory.back().rss_after_kib)});
    }
  }
  report_.add({name, "where the time goes", seq_server.summary, "", ""});
  report_.add(
      {name, "type decided by the server; last document downloaded = uploaded",
       (seq.content_type.empty() ? std::string("-") : seq.content_type) + "; " +
           (seq.verified ? "yes"
                         : "NO" + (seq.verify_problem.empty() ? "" : " (" + seq.verify_problem + ")")),
       "application/pdf; yes", ""});
  if (seq.failures > 0) {
    report_.fail("upload: " + std::to_string(seq.failures) + " of " + std::to_string(so.uploads) +
                 " uploads failed; first: " + seq.first_error);
  }
  if (!seq.verified) report_.fail("upload: the download check failed: " + seq.verify_problem);

  // The disk again, after the uploads: how much it drifted within the run.
  const DiskWriteResult again = measure_sequential_write(work_dir_, disk_bytes, disk_piece, 0);
  uj["disk_one_fdatasync_after"] = again.to_json();
  report_.add({name, "disk ceiling measured again after the uploads, one run (drift)",
               fmt_fixed(again.mib_per_second, 1) + " MiB/s", "",
               "uploads / this " +
                   fmt_fixed(again.mib_per_second > 0 ? seq.mib_per_second / again.mib_per_second : 0, 2)});

  // 3. Chat without uploads, with uploads back to back, and without again.
  const double rate = options_.upload_chat_rate > 0 ? options_.upload_chat_rate
                      : options_.chat_rates.empty() ? 1.0
                                                    : options_.chat_rates.front();
  const std::string chat_name = "upload: chat " +
                                rate_label(rate * 2 * static_cast<double>(options_.chat_pairs)) +
                                " offered, with / without uploads";
  struct Run {
    ChatLoadResult r;
    BackgroundUploads::Result uploads;
  };
  auto run_chat = [&](const std::string& label, bool with_uploads) {
    ChatLoadOptions o = chat_options(rate, 0);
    progress("upload: chat " + label + ", " + std::to_string(o.pairs) + " pairs, " + fmt_fixed(o.seconds, 1) +
             " s");
    Observed server_side;
    LoadObserver obs = observe(&server_side);
    BackgroundUploads background(endpoint(), uploaders, upload_bytes, piece, upload_index_);
    Run run;
    LoadObserver wrapped;
    wrapped.at_start = [&] {
      obs.at_start();
      if (with_uploads) background.start();
    };
    wrapped.at_stop = [&] {
      if (with_uploads) run.uploads = background.stop();
      obs.at_stop();
    };
    run.r = run_chat_load(endpoint(), population_, o, wrapped);
    upload_index_ += run.uploads.uploads_ok + run.uploads.failures;
    Json j = run.r.to_json();
    j["server"] = server_side.json;
    if (with_uploads) j["uploads"] = run.uploads.to_json();
    uj[label] = std::move(j);
    check_chat("upload: chat " + label, run.r);
    report_.add({chat_name, label + ": acked / delivered per s; send→delivery",
                 fmt_count(run.r.acked_per_second) + " / " + fmt_count(run.r.delivered_per_second) + "; " +
                     fmt_percentiles(run.r.send_to_delivery),
                 "", ""});
    if (with_uploads) {
      report_.add({chat_name, label + ": uploads finished meanwhile",
                   std::to_string(run.uploads.uploads_ok) + " × " + fmt_mib(options_.upload_mib) + ", " +
                       fmt_fixed(run.uploads.mib_per_second, 1) + " MiB/s; one upload " +
                       p50_p99(run.uploads.upload_latency),
                   "",
                   "ratio to the disk ceiling " +
                       fmt_fixed(ceiling > 0 ? run.uploads.mib_per_second / ceiling : 0, 2)});
      if (run.uploads.failures > 0) {
        report_.fail("upload: " + std::to_string(run.uploads.failures) +
                     " uploads failed during the chat run; first: " + run.uploads.first_error);
      }
    }
    report_.add({chat_name, label + ": where the time goes", server_side.summary, "", ""});
    return run;
  };
  const Run without = run_chat("without uploads", false);
  const Run with = run_chat("with uploads back to back", true);
  const Run again_chat = run_chat("without, after", false);
  auto p = [](const ChatLoadResult& r, double q) {
    return static_cast<double>(r.send_to_delivery.percentile(q));
  };
  auto ratio_of = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  report_.add({chat_name, "send→delivery p99 with / without uploads (before)",
               fmt_fixed(ratio_of(p(with.r, 99), p(without.r, 99)), 2) + " (p50 " +
                   fmt_fixed(ratio_of(p(with.r, 50), p(without.r, 50)), 2) + ")",
               "≤ 2",
               "with / after: p99 " + fmt_fixed(ratio_of(p(with.r, 99), p(again_chat.r, 99)), 2) + ", p50 " +
                   fmt_fixed(ratio_of(p(with.r, 50), p(again_chat.r, 50)), 2)});
  Json rj = Json::object();
  rj["send_to_delivery_p99"] = ratio_of(p(with.r, 99), p(without.r, 99));
  rj["send_to_delivery_p50"] = ratio_of(p(with.r, 50), p(without.r, 50));
  rj["send_to_delivery_p99_vs_after"] = ratio_of(p(with.r, 99), p(again_chat.r, 99));
  rj["acked_per_second"] = ratio_of(with.r.acked_per_second, without.r.acked_per_second);
  uj["ratio_with_over_without"] = std::move(rj);
  report_.json()["upload"] = std::move(uj);
}

// ------------------------------------------------------------------ review

void Suite::run_review_scenario() {
  ReviewOptions o;
  const size_t available = options_.chat_pairs + options_.resume_clients;
  o.first_pair = 0;
  o.quiet_pairs = std::min(options_.review_quiet_pairs, available);
  o.quiet_rounds = options_.review_quiet_rounds;
  o.pairs = std::min(options_.review_pairs, available);
  o.rounds_per_pair = options_.review_rounds;
  o.document_bytes = options_.review_document_kib * 1024;
  o.comments = options_.review_comments;
  progress("review: " + std::to_string(o.quiet_rounds) + " round trips one at a time (" +
           std::to_string(o.quiet_pairs) + " pairs), then " + std::to_string(o.pairs) + " pairs × " +
           std::to_string(o.rounds_per_pair) + " at once");
  Observed server_side;
  LoadObserver obs = observe(&server_side);
  const ReviewResult r = run_review(endpoint(), population_, o, obs.at_start, obs.at_stop);
  Json j = r.to_json();
  j["server"] = server_side.json;
  report_.json()["review"] = std::move(j);
  const std::string doc =
      std::to_string(options_.review_document_kib) + " KiB PDF, " + std::to_string(o.comments) + " comments";
  auto steps = [&](const std::string& phase, const ReviewSteps& s) {
    const std::string name = "review " + phase;
    if (s.rounds == 0) {
      report_.add({name, "round trips completed", "none (see the failures below)", "", ""});
      return;
    }
    report_.add(
        {name,
         "round trip: upload → SubmitVersion → ReviewVersion → ReplyToComment, each step until the other "
         "member's event (" +
             doc + "; " + std::to_string(s.rounds) + " rounds)",
         fmt_percentiles(s.round), "", fmt_fixed(s.rounds_per_second, 1) + " round trips/s"});
    report_.add({name, "upload (POST + one PATCH, acked when synced)", fmt_percentiles(s.upload), "", ""});
    report_.add({name, "SubmitVersion → mentor's AssignmentChanged", fmt_percentiles(s.submit_event), "",
                 "reply p50 / p99 " + p50_p99(s.submit_reply)});
    report_.add({name, "ReviewVersion → mentee's ReviewChanged", fmt_percentiles(s.review_event), "",
                 "reply p50 / p99 " + p50_p99(s.review_reply)});
    report_.add({name, "ReplyToComment → mentor's ReviewChanged", fmt_percentiles(s.reply_event), "",
                 "reply p50 / p99 " + p50_p99(s.reply_reply)});
  };
  steps("one at a time (" + std::to_string(o.quiet_pairs) + " pairs in turn)", r.quiet);
  steps(std::to_string(o.pairs) + " pairs at once", r.loaded);
  report_.add({"review " + std::to_string(o.pairs) + " pairs at once", "where the time goes",
               server_side.summary, "", ""});
  report_.add({"review", "assignments created / withdrawn (a new one before 50 versions)",
               std::to_string(r.assignments_created) + " / " + std::to_string(r.assignments_withdrawn), "",
               ""});
  const uint64_t expected = o.quiet_rounds + o.pairs * o.rounds_per_pair;
  if (r.failures > 0 || r.quiet.rounds + r.loaded.rounds != expected) {
    report_.fail("review: " + std::to_string(r.quiet.rounds + r.loaded.rounds) + " of " +
                 std::to_string(expected) + " round trips completed, " + std::to_string(r.failures) +
                 " failures; first: " + r.first_error);
  }
}

void Suite::stop_server() {
  if (!server_) return;
  try {
    const int64_t ns = server_->terminate();
    report_.json()["final_shutdown_ms"] = static_cast<double>(ns) / 1e6;
  } catch (const std::exception& e) {
    report_.fail(std::string("shutdown: ") + e.what());
  }
  server_.reset();
}

int Suite::run() {
  prepare_work_dir();
  machine_info();
  const int64_t t0 = now_ns();
  try {
    if (wants("ceilings")) run_ceilings();
    const bool needs_server = wants("chat") || wants("booking") || wants("reminders") || wants("idle") ||
                              wants("resume") || wants("history") || wants("cold-start") || wants("upload") ||
                              wants("review");
    if (needs_server) start_population();
    if (wants("idle")) run_idle_scenario();
    if (wants("chat")) run_chat_scenarios();
    if (wants("booking")) run_booking_scenario();
    if (wants("reminders")) run_reminders_scenario();
    if (wants("resume")) run_resume_scenario();
    if (wants("history") || wants("cold-start")) run_history_scenario();
    if (wants("cold-start")) run_cold_start();
    if (wants("upload")) run_upload_scenario();
    if (wants("review")) run_review_scenario();
    stop_server();
  } catch (const std::exception& e) {
    report_.fail(std::string("the suite stopped: ") + e.what());
    if (server_) report_.note("server output: " + work_dir_ + "/server.log");
  }
  report_.json()["total_seconds"] = static_cast<double>(now_ns() - t0) / 1e9;
  if (!others_cores_.empty()) {
    double sum = 0;
    for (double c : others_cores_) sum += c;
    const double mean = sum / static_cast<double>(others_cores_.size());
    report_.json()["machine"]["other_processes_cores_mean_during_loads"] = mean;
    if (mean > 0.25) {
      report_.note(
          "other processes on this machine used " + fmt_fixed(mean, 2) + " of its " +
          std::to_string(std::thread::hardware_concurrency()) +
          " cores on average during the loads: every figure above is contended (see 'where the time goes')");
    }
  }
  report_.json()["machine"]["loadavg_at_end"] = read_first_line_with("/proc/loadavg", "");
  std::fputs(report_.table().c_str(), stdout);
  std::fflush(stdout);
  if (!options_.json_path.empty()) {
    try {
      fs::path p(options_.json_path);
      if (p.has_parent_path()) fs::create_directories(p.parent_path());
      report_.write_json(options_.json_path);
      progress("wrote " + options_.json_path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "preceptor-bench: %s\n", e.what());
      return 1;
    }
  }
  if (!report_.failures().empty() && own_work_dir_) {
    options_.keep_work_dir = true;
    progress("kept the work folder for its logs: " + work_dir_);
  }
  return report_.failures().empty() ? 0 : 1;
}

}  // namespace preceptor::bench
