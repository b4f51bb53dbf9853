// preceptor-bench: the load generator and benchmark suite (issue 4). Wires
// the command line to the Suite; the scenarios live in the library.

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/idle.h"
#include "bench/preceptor_bench/process.h"
#include "bench/preceptor_bench/suite.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace preceptor::bench;

namespace {

const char* const kOverview = R"(preceptor-bench: load generator and benchmark suite for preceptor-server.

It speaks the real protocol over real sockets, open loop (a fixed offered
rate; latency counts from the scheduled send time), and prints a table
(stdout) and, with --json, a JSON file.

By default it starts preceptor-server itself on a fresh data folder (users
imported with preceptor-admin first), runs every scenario and stops it:
  ceilings    fdatasync rate of the data folder's disk; the chat load against
              preceptor-echo-server (Beast WebSocket echo, no storage)
  idle        N authenticated idle connections: server RSS per connection
  chat        P pairs sending at R msgs/s per member: rates, send→ack and
              send→delivery latency, loss / duplicates / order checked
  resume      K clients drop, messages pile up, they reconnect and Sync
  history     seeds M messages in one conversation, then pages of 50
  cold-start  exec → /readyz 200 after SIGTERM and after kill -9
  booking     popular office hours: many mentees list four weeks of slots and
              book the same slots at once; bookings/s, ListSlots latency, and
              no slot ever holds more bookings than seats
  reminders   the chat load without and with reminders due for N meetings
              (the server restarted with --scheduler-interval-ms): ratios
  upload      the disk's sequential write rate, then documents uploaded over
              HTTP one after another against it, the server's RSS during
              each, and chat latency without and with uploads back to back
  review      an assignment's review round trip (upload, SubmitVersion,
              ReviewVersion, ReplyToComment, each until the other member's
              event): latency one at a time, round trips/s with many pairs

Usage:
  preceptor-bench [options]                 the suite (see bench/run-all)
  preceptor-bench --smoke                   every scenario for ~1-3 s, tiny sizes
  preceptor-bench make-roster --pairs N --out roster.csv
                                            users for a server you run (--url)
  preceptor-bench idle-worker ...           internal: holds idle connections

Exit status: 0 when every check passed (no loss, duplicates, reordering or
failed requests), 1 otherwise, 2 for a usage error.

Options)";

std::vector<double> parse_rates(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::stod(item));
  }
  return out;
}

std::set<std::string> parse_set(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}

int idle_worker(int argc, char** argv) {
  std::string url, tokens, source_ip;
  size_t first = 0, count = 0, lanes = 128;
  po::options_description d("idle-worker");
  d.add_options()("url", po::value(&url)->required())("tokens", po::value(&tokens)->required())(
      "first", po::value(&first))("count", po::value(&count)->required())("source-ip", po::value(&source_ip))(
      "lanes", po::value(&lanes));
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc - 1, argv + 1, d), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preceptor-bench idle-worker: %s\n", e.what());
    return 2;
  }
  return idle_worker_main(url, tokens, first, count, source_ip, lanes);
}

int make_roster(int argc, char** argv) {
  size_t pairs = 0;
  std::string out;
  po::options_description d("make-roster");
  d.add_options()("pairs", po::value(&pairs)->required(), "pairs (two users each)")(
      "out", po::value(&out)->required(), "CSV file to write");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc - 1, argv + 1, d), vm);
    po::notify(vm);
    Population::make(pairs).write_roster(out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preceptor-bench make-roster: %s\n%s", e.what(),
                 "Usage: preceptor-bench make-roster --pairs N --out roster.csv\n"
                 "Then: PRECEPTOR_PWHASH_FAST=1 preceptor-admin --data-dir DIR import-roster roster.csv\n");
    return 2;
  }
  std::printf(
      "wrote %s: %zu users. Import it with PRECEPTOR_PWHASH_FAST=1 preceptor-admin --data-dir DIR "
      "import-roster %s, start the server with --fast-password-hashing --rate-per-second 1000000 "
      "--rate-burst 1000000, then run preceptor-bench --url ws://HOST:PORT/v1/ws with pairs adding up to "
      "--chat-pairs + --resume-clients + 1.\n",
      out.c_str(), pairs * 2, out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "idle-worker") return idle_worker(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "make-roster") return make_roster(argc, argv);

  SuiteOptions o;
  const std::string dir = self_dir();
  o.self_exe = dir + "/" + fs::path(argv[0]).filename().string();
  {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) o.self_exe = exe.string();
  }
  o.server_binary = (fs::path(dir) / "../server/preceptor-server").lexically_normal().string();
  o.admin_binary = (fs::path(dir) / "../admin/preceptor-admin").lexically_normal().string();
  o.echo_binary = (fs::path(dir) / "preceptor-echo-server").lexically_normal().string();

  std::string scenarios, rates, booking_seats = "1,4,10,25";
  int server_pid = 0;
  po::options_description d(kOverview);
  // clang-format off
  d.add_options()
      ("help,h", "Show this help.")
      ("smoke", po::bool_switch(&o.smoke), "Tiny sizes: every scenario for ~1-3 s (the CI smoke test).")
      ("scenarios", po::value(&scenarios), "Comma list of ceilings,idle,chat,booking,reminders,resume,history,cold-start,upload,review (default: all).")
      ("json", po::value(&o.json_path), "Write the results as JSON here.")
      ("server-binary", po::value(&o.server_binary)->default_value(o.server_binary), "preceptor-server to start.")
      ("admin-binary", po::value(&o.admin_binary)->default_value(o.admin_binary), "preceptor-admin, to import the users.")
      ("echo-binary", po::value(&o.echo_binary)->default_value(o.echo_binary), "preceptor-echo-server (the network ceiling).")
      ("url", po::value(&o.url), "Use a running server (ws://HOST:PORT/v1/ws) whose users came from make-roster; cold-start is skipped.")
      ("server-pid", po::value(&server_pid), "With --url: its pid, for RSS and CPU figures.")
      ("work-dir", po::value(&o.work_dir), "Folder for the data, roster and logs (default: a new one in /tmp, removed after a clean run).")
      ("keep-work-dir", po::bool_switch(&o.keep_work_dir), "Do not remove the work folder.")
      ("server-io-threads", po::value(&o.server_io_threads)->default_value(o.server_io_threads), "--io-threads for our server (0: its default, one less than the cores).")
      ("client-threads", po::value(&o.client_threads)->default_value(o.client_threads), "Load generator threads.")
      ("chat-pairs", po::value(&o.chat_pairs)->default_value(o.chat_pairs), "Connected pairs in the chat scenario.")
      ("chat-rates", po::value(&rates)->default_value("1,5"), "Open-loop runs: msgs/s per member, comma separated (5 with 1000 pairs = 10 000 msgs/s offered).")
      ("chat-window", po::value(&o.chat_window)->default_value(o.chat_window), "Closed-loop max run: messages in flight per member (0: skip).")
      ("chat-seconds", po::value(&o.chat_seconds)->default_value(o.chat_seconds), "Sending time of each chat run, s.")
      ("chat-warmup", po::value(&o.chat_warmup_seconds)->default_value(o.chat_warmup_seconds), "Leading seconds left out of the latency histograms.")
      ("chat-drain", po::value(&o.chat_drain_seconds)->default_value(o.chat_drain_seconds), "Most seconds to wait for outstanding acks and deliveries.")
      ("body-bytes", po::value(&o.body_bytes)->default_value(o.body_bytes), "Message text size, bytes.")
      ("fsync-seconds", po::value(&o.fsync_seconds)->default_value(o.fsync_seconds), "Length of the fdatasync loop, s.")
      ("echo-threads", po::value(&o.echo_threads)->default_value(o.echo_threads), "Threads of the echo server.")
      ("idle-connections", po::value(&o.idle_connections)->default_value(o.idle_connections), "Idle authenticated connections.")
      ("idle-per-process", po::value(&o.idle_per_process)->default_value(o.idle_per_process), "Idle connections per client process (each has a 20 000 fd limit).")
      ("resume-clients", po::value(&o.resume_clients)->default_value(o.resume_clients), "Clients that drop and resume.")
      ("resume-missed", po::value(&o.resume_missed)->default_value(o.resume_missed), "Messages each misses.")
      ("resume-lanes", po::value(&o.resume_lanes)->default_value(o.resume_lanes), "Resumes in progress at once.")
      ("seed-messages", po::value(&o.seed_messages)->default_value(o.seed_messages), "Messages seeded into the history conversation (history and cold start).")
      ("seed-window", po::value(&o.seed_window)->default_value(o.seed_window), "SendMessage in flight per member while seeding.")
      ("history-connections", po::value(&o.history_connections)->default_value(o.history_connections), "Connections reading history.")
      ("history-rate", po::value(&o.history_rate)->default_value(o.history_rate), "Open-loop pages/s offered.")
      ("history-seconds", po::value(&o.history_seconds)->default_value(o.history_seconds), "Length of each history phase, s.")
      ("history-window", po::value(&o.history_window)->default_value(o.history_window), "Closed-loop pages in flight per connection.")
      ("booking-mentors", po::value(&o.booking_mentors)->default_value(o.booking_mentors), "Popular mentors with office hours (the mentors of the first pairs).")
      ("booking-mentees", po::value(&o.booking_mentees)->default_value(o.booking_mentees), "Mentees booking at once (at most chat + resume pairs).")
      ("booking-per-mentee", po::value(&o.booking_per_mentee)->default_value(o.booking_per_mentee), "Bookings each mentee makes.")
      ("booking-seats", po::value(&booking_seats)->default_value(booking_seats), "Seats per slot, by mentor (comma list, cycled; 1-50).")
      ("booking-slot-minutes", po::value(&o.booking_slot_minutes)->default_value(o.booking_slot_minutes), "Slot length of the office hours (every day 08:00-20:00).")
      ("booking-spread", po::value(&o.booking_spread)->default_value(o.booking_spread), "A mentee starts at a random one of the first N free slots it lists.")
      ("booking-quiet-lists", po::value(&o.booking_quiet_lists)->default_value(o.booking_quiet_lists), "ListSlots calls measured before the booking load.")
      ("reminder-meetings", po::value(&o.reminder_meetings)->default_value(o.reminder_meetings), "Accepted meetings whose reminders (2 each) fall due during the chat run.")
      ("reminder-lead-seconds", po::value(&o.reminder_lead_seconds)->default_value(o.reminder_lead_seconds), "From seeding to the first reminder due (the run without due reminders goes first).")
      ("reminder-chat-rate", po::value(&o.reminder_chat_rate)->default_value(o.reminder_chat_rate), "msgs/s per member of the reminders runs (0: the first --chat-rates, below saturation).")
      ("scheduler-interval-ms", po::value(&o.scheduler_interval_ms)->default_value(o.scheduler_interval_ms), "--scheduler-interval-ms of our server in the reminders scenario.")
      ("disk-write-mib", po::value(&o.disk_write_mib)->default_value(o.disk_write_mib), "upload: MiB written for the disk ceiling (one fdatasync at the end).")
      ("disk-piece-mib", po::value(&o.disk_piece_mib)->default_value(o.disk_piece_mib), "upload: write() size of the disk ceiling, MiB.")
      ("disk-sync-every-mib", po::value(&o.disk_sync_every_mib)->default_value(o.disk_sync_every_mib), "upload: the second disk figure, an fdatasync every this many MiB.")
      ("disk-repeats", po::value(&o.disk_repeats)->default_value(o.disk_repeats), "upload: passes of each disk figure after one unmeasured pass; the medians count.")
      ("upload-count", po::value(&o.upload_count)->default_value(o.upload_count), "upload: uploads one after another, nothing else running.")
      ("upload-mib", po::value(&o.upload_mib)->default_value(o.upload_mib), "upload: size of each upload, MiB (at most the server's --max-upload-mb).")
      ("upload-piece-mib", po::value(&o.upload_piece_mib)->default_value(o.upload_piece_mib), "upload: PATCH body size, MiB.")
      ("upload-pairs", po::value(&o.upload_pairs)->default_value(o.upload_pairs), "upload: extra pairs whose members upload in turn (each user has a quota).")
      ("upload-chat-rate", po::value(&o.upload_chat_rate)->default_value(o.upload_chat_rate), "upload: msgs/s per member of the chat runs with and without uploads (0: the first --chat-rates).")
      ("rss-interval-ms", po::value(&o.rss_interval_ms)->default_value(o.rss_interval_ms), "upload: the server's RSS is read this often during the uploads.")
      ("review-quiet-rounds", po::value(&o.review_quiet_rounds)->default_value(o.review_quiet_rounds), "review: round trips one at a time.")
      ("review-quiet-pairs", po::value(&o.review_quiet_pairs)->default_value(o.review_quiet_pairs), "review: pairs the one-at-a-time round trips cycle through.")
      ("review-pairs", po::value(&o.review_pairs)->default_value(o.review_pairs), "review: pairs at once in the loaded phase (at most chat + resume pairs).")
      ("review-rounds", po::value(&o.review_rounds)->default_value(o.review_rounds), "review: round trips each of them makes.")
      ("review-document-kib", po::value(&o.review_document_kib)->default_value(o.review_document_kib), "review: size of each submitted document, KiB.")
      ("review-comments", po::value(&o.review_comments)->default_value(o.review_comments), "review: comments per review (1-100).")
      ("cold-runs", po::value(&o.cold_runs)->default_value(o.cold_runs), "Restarts measured after SIGTERM and after kill -9, each.")
      ("cold-burst", po::value(&o.cold_burst_messages)->default_value(o.cold_burst_messages), "Messages written right before each kill -9.");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, d), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preceptor-bench: %s (see --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << d << "\n";
    return 0;
  }
  if (o.smoke) {
    // Smoke sizes, unless a size was given explicitly.
    SuiteOptions smoke = o;
    smoke.apply_smoke();
    auto keep = [&](const char* name, auto& field, const auto& smoke_value) {
      if (vm[name].defaulted()) field = smoke_value;
    };
    keep("chat-pairs", o.chat_pairs, smoke.chat_pairs);
    keep("chat-window", o.chat_window, smoke.chat_window);
    keep("chat-seconds", o.chat_seconds, smoke.chat_seconds);
    keep("chat-warmup", o.chat_warmup_seconds, smoke.chat_warmup_seconds);
    keep("chat-drain", o.chat_drain_seconds, smoke.chat_drain_seconds);
    keep("fsync-seconds", o.fsync_seconds, smoke.fsync_seconds);
    keep("idle-connections", o.idle_connections, smoke.idle_connections);
    keep("idle-per-process", o.idle_per_process, smoke.idle_per_process);
    keep("resume-clients", o.resume_clients, smoke.resume_clients);
    keep("resume-missed", o.resume_missed, smoke.resume_missed);
    keep("resume-lanes", o.resume_lanes, smoke.resume_lanes);
    keep("seed-messages", o.seed_messages, smoke.seed_messages);
    keep("seed-window", o.seed_window, smoke.seed_window);
    keep("history-connections", o.history_connections, smoke.history_connections);
    keep("history-rate", o.history_rate, smoke.history_rate);
    keep("history-seconds", o.history_seconds, smoke.history_seconds);
    keep("history-window", o.history_window, smoke.history_window);
    keep("cold-runs", o.cold_runs, smoke.cold_runs);
    keep("booking-mentors", o.booking_mentors, smoke.booking_mentors);
    keep("booking-mentees", o.booking_mentees, smoke.booking_mentees);
    keep("booking-per-mentee", o.booking_per_mentee, smoke.booking_per_mentee);
    keep("booking-quiet-lists", o.booking_quiet_lists, smoke.booking_quiet_lists);
    keep("reminder-meetings", o.reminder_meetings, smoke.reminder_meetings);
    keep("reminder-lead-seconds", o.reminder_lead_seconds, smoke.reminder_lead_seconds);
    keep("cold-burst", o.cold_burst_messages, smoke.cold_burst_messages);
    keep("disk-write-mib", o.disk_write_mib, smoke.disk_write_mib);
    keep("disk-piece-mib", o.disk_piece_mib, smoke.disk_piece_mib);
    keep("disk-sync-every-mib", o.disk_sync_every_mib, smoke.disk_sync_every_mib);
    keep("disk-repeats", o.disk_repeats, smoke.disk_repeats);
    keep("upload-count", o.upload_count, smoke.upload_count);
    keep("upload-mib", o.upload_mib, smoke.upload_mib);
    keep("upload-piece-mib", o.upload_piece_mib, smoke.upload_piece_mib);
    keep("upload-pairs", o.upload_pairs, smoke.upload_pairs);
    keep("review-quiet-rounds", o.review_quiet_rounds, smoke.review_quiet_rounds);
    keep("review-quiet-pairs", o.review_quiet_pairs, smoke.review_quiet_pairs);
    keep("review-pairs", o.review_pairs, smoke.review_pairs);
    keep("review-rounds", o.review_rounds, smoke.review_rounds);
    keep("review-document-kib", o.review_document_kib, smoke.review_document_kib);
    if (vm["chat-rates"].defaulted()) rates = "10";
  }
  try {
    o.chat_rates = parse_rates(rates);
  } catch (const std::exception&) {
    std::fprintf(stderr, "preceptor-bench: --chat-rates must be numbers separated by commas\n");
    return 2;
  }
  try {
    o.booking_seats.clear();
    for (double v : parse_rates(booking_seats)) {
      if (v < 1 || v > 50) throw std::invalid_argument("seats");
      o.booking_seats.push_back(static_cast<uint32_t>(v));
    }
    if (o.booking_seats.empty()) throw std::invalid_argument("seats");
  } catch (const std::exception&) {
    std::fprintf(stderr, "preceptor-bench: --booking-seats must be numbers 1-50 separated by commas\n");
    return 2;
  }
  if (o.booking_mentors < 1 || o.booking_mentees < 1 || o.booking_per_mentee < 1 || o.booking_spread < 1 ||
      o.booking_slot_minutes < 10 || o.booking_slot_minutes > 240 || o.reminder_meetings < 1 ||
      o.reminder_lead_seconds <= 0 || o.scheduler_interval_ms < 1) {
    std::fprintf(stderr,
                 "preceptor-bench: booking and reminder sizes must be above 0 (slots 10-240 minutes)\n");
    return 2;
  }
  if (o.disk_write_mib <= 0 || o.disk_piece_mib <= 0 || o.disk_sync_every_mib <= 0 || o.disk_repeats < 1 ||
      o.upload_count < 1 || o.upload_mib * 1048576 < 64 || o.upload_piece_mib * 1048576 < 1 ||
      o.upload_pairs < 1 || o.rss_interval_ms < 1 || o.review_quiet_pairs < 1 || o.review_pairs < 1 ||
      o.review_rounds < 1 || o.review_document_kib < 1 || o.review_comments < 1 || o.review_comments > 100) {
    std::fprintf(stderr,
                 "preceptor-bench: upload and review sizes must be above 0 (uploads at least 64 bytes, "
                 "1-100 review comments)\n");
    return 2;
  }
  if (o.chat_rates.empty() && o.chat_window == 0) {
    std::fprintf(stderr, "preceptor-bench: give --chat-rates or --chat-window\n");
    return 2;
  }
  for (double r : o.chat_rates) {
    if (r <= 0) {
      std::fprintf(stderr, "preceptor-bench: --chat-rates must be above 0\n");
      return 2;
    }
  }
  if (!scenarios.empty()) {
    o.scenarios = parse_set(scenarios);
    for (const auto& s : o.scenarios) {
      static const std::set<std::string> known = {"ceilings", "idle",    "chat",       "booking", "reminders",
                                                  "resume",   "history", "cold-start", "upload",  "review"};
      if (!known.count(s)) {
        std::fprintf(stderr, "preceptor-bench: unknown scenario '%s'\n", s.c_str());
        return 2;
      }
    }
  }
  if (o.client_threads < 1 || o.client_threads > 64 || o.idle_per_process < 1 || o.idle_per_process > 19000) {
    std::fprintf(stderr, "preceptor-bench: --client-threads must be 1-64 and --idle-per-process 1-19000\n");
    return 2;
  }
  if (o.chat_pairs < 1 || o.history_connections < 1 || o.resume_lanes < 1 || o.cold_runs < 1 ||
      o.history_rate <= 0 || o.chat_seconds <= 0 || o.history_seconds <= 0) {
    std::fprintf(stderr, "preceptor-bench: sizes, rates and durations must be above 0\n");
    return 2;
  }
  o.server_pid = server_pid;
  const bool needs_server = o.scenarios.size() > 1 || !o.scenarios.count("ceilings");
  if (o.url.empty() && needs_server) {
    for (const auto* path : {&o.server_binary, &o.admin_binary}) {
      if (!fs::exists(*path)) {
        std::fprintf(
            stderr, "preceptor-bench: %s does not exist (build it, or pass --server-binary/--admin-binary)\n",
            path->c_str());
        return 2;
      }
    }
  }
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  o.command_line = cmd;
  Suite suite(std::move(o));
  return suite.run();
}
