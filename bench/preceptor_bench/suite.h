#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/preceptor_bench/chat_load.h"
#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/process.h"
#include "bench/preceptor_bench/report.h"

namespace preceptor::bench {

// Everything a suite run can be told. Every field: default and unit. The
// defaults are the full sizes of issue 4; --smoke shrinks them (smoke()).
struct SuiteOptions {
  std::set<std::string> scenarios = {"ceilings", "chat",    "booking",    "reminders", "idle",
                                     "resume",   "history", "cold-start", "upload",    "review"};
  std::string json_path;     // empty: no JSON file
  std::string command_line;  // recorded in the JSON
  bool smoke = false;

  std::string server_binary;  // preceptor-server
  std::string admin_binary;   // preceptor-admin
  std::string echo_binary;    // preceptor-echo-server
  std::string self_exe;       // this binary (idle workers)
  std::string url;            // a running server instead of our own (users: make-roster)
  pid_t server_pid = 0;       // with url: its pid, for RSS and CPU (0: not measured)
  std::string work_dir;       // empty: a fresh folder in /tmp, removed at the end
  bool keep_work_dir = false;
  int server_io_threads = 0;  // --io-threads of our server; 0: the server's default
  size_t client_threads = 1;  // load generator threads

  // chat
  size_t chat_pairs = 1000;
  std::vector<double> chat_rates = {1, 5};  // msgs/s per member, one open-loop run each (x 2000 members)
  size_t chat_window = 4;                   // closed-loop "max" run: in flight per member; 0 = skip
  double chat_seconds = 10;
  double chat_warmup_seconds = 1;
  double chat_drain_seconds = 60;
  size_t body_bytes = 64;

  // ceilings
  double fsync_seconds = 3;
  int echo_threads = 2;  // like the server's two I/O threads

  // idle
  size_t idle_connections = 18000;
  size_t idle_per_process = 6000;

  // resume
  size_t resume_clients = 1000;
  size_t resume_missed = 100;
  size_t resume_lanes = 64;

  // history (on the seeded conversation)
  uint64_t seed_messages = 2'000'000;
  size_t seed_window = 256;
  size_t history_connections = 8;
  double history_rate = 5000;
  double history_seconds = 5;
  size_t history_window = 8;

  // booking (issue 12): popular office hours, many mentees booking at once
  size_t booking_mentors = 10;
  size_t booking_mentees = 1000;  // at most chat_pairs + resume_clients
  size_t booking_per_mentee = 20;
  std::vector<uint32_t> booking_seats = {1, 4, 10, 25};  // mentor j: seats[j % size]
  uint32_t booking_slot_minutes = 15;
  size_t booking_spread = 16;
  size_t booking_quiet_lists = 2000;

  // reminders (issue 12): the chat load with and without reminders due for N meetings
  size_t reminder_meetings = 10000;
  double reminder_lead_seconds = 90;     // from seeding to the first reminder due
  double reminder_chat_rate = 0;         // msgs/s per member; 0: the first of chat_rates
  int64_t scheduler_interval_ms = 1000;  // --scheduler-interval-ms of the server for this scenario

  // upload (issue 13): the disk's sequential write rate in the same run,
  // uploads one after another against it, the server's memory during each,
  // and the chat load without and with uploads running back to back
  double disk_write_mib = 256;     // written for the disk ceiling, MiB
  double disk_piece_mib = 1;       // write() size, MiB
  double disk_sync_every_mib = 4;  // the second measurement: an fdatasync every this many MiB
  size_t disk_repeats = 3;         // passes of each (after one unmeasured pass); the medians count
  size_t upload_count = 8;         // uploads one after another, nothing else running
  double upload_mib = 25;          // size of each upload, MiB (the server's default limit)
  double upload_piece_mib = 8;     // PATCH body size, MiB
  size_t upload_pairs = 8;         // uploaders: both members of these extra pairs, in turn (per-user quota)
  double upload_chat_rate = 0;     // msgs/s per member of the chat runs; 0: the first of chat_rates
  int rss_interval_ms = 50;        // server RSS sampling during the uploads

  // review (issue 13): upload -> SubmitVersion -> ReviewVersion -> ReplyToComment
  size_t review_quiet_rounds = 300;  // one round trip at a time ...
  size_t review_quiet_pairs = 10;    // ... cycling through these pairs
  size_t review_pairs = 200;         // pairs at once in the loaded phase (at most chat + resume pairs)
  size_t review_rounds = 5;          // round trips each of them makes
  size_t review_document_kib = 64;   // the submitted document
  size_t review_comments = 3;        // comments per review

  // cold start
  int cold_runs = 3;
  uint64_t cold_burst_messages = 2000;  // written right before each kill -9

  // The small sizes of --smoke: every scenario in ~1-3 s.
  void apply_smoke();
};

// Runs the scenarios in order (ceilings, sign-in, idle, chat, booking,
// reminders, resume, seed + history, cold start, upload, review) against one
// server it starts (or --url), filling a Report. Main thread only.
class Suite {
 public:
  explicit Suite(SuiteOptions options);
  ~Suite();

  // Runs everything; returns the process exit code (0: every check passed).
  int run();

 private:
  void prepare_work_dir();
  void machine_info();
  void run_ceilings();
  void start_population();
  void run_idle_scenario();
  void run_chat_scenarios();
  void run_booking_scenario();
  void run_reminders_scenario();
  void restart_server();
  void run_resume_scenario();
  void run_history_scenario();
  void run_cold_start();
  void run_upload_scenario();
  void run_review_scenario();
  void stop_server();

  std::unique_ptr<ServerProcess> start_server();
  std::vector<std::string> server_argv() const;
  Endpoint endpoint() const;
  pid_t server_pid() const;
  // What the server did during a load: CPU, commit groups, commit latency.
  struct Observed {
    Json json;
    std::string summary;  // one line for the table
  };
  // Samples server CPU and /metrics around a load into `into`.
  // REQUIRES: `into` outlives the load.
  LoadObserver observe(Observed* into);
  void check_chat(const std::string& name, const ChatLoadResult& r);
  // The chat-load options every chat run shares (echo ceiling and server).
  ChatLoadOptions chat_options(double rate_per_member, size_t window) const;
  bool wants(const std::string& scenario) const { return options_.scenarios.count(scenario) > 0; }
  size_t total_pairs() const;
  size_t upload_first_pair() const;
  const BenchPair& history_pair() const;

  SuiteOptions options_;
  Report report_;
  std::string work_dir_;
  std::string data_dir_;
  bool own_work_dir_ = false;
  std::unique_ptr<ServerProcess> server_;
  Endpoint url_endpoint_;
  Population population_;
  bool population_ready_ = false;
  int64_t scheduler_interval_ms_ = 0;  // > 0: passed to our server
  // Same-run ceilings, for the ratio column.
  double fsync_per_second_ = 0;
  std::vector<ChatLoadResult> echo_runs_;
  std::vector<ChatLoadResult> chat_runs_;
  struct ObservedSample {
    double cpu = 0;
    double self_cpu = 0;
    int64_t ns = 0;
    MetricsSample metrics;
    std::map<int, ThreadCpu> threads;
    MachineCpu machine;
  } observed_start_;
  std::vector<double> others_cores_;  // CPU of other processes during each observed load
  uint64_t upload_index_ = 0;         // uploads made so far: names them and picks the uploader
};

}  // namespace preceptor::bench
