// Power cuts under load: a shim (power_cut_shim.c, LD_PRELOAD) records how
// long each file of the server's store was at its last fsync/fdatasync; the
// test kills the server (SIGKILL) in the middle of a burst of sends, throws
// away every byte written after each file's last sync (what a power cut loses
// from the page cache), restarts the server and checks that every message it
// acknowledged is still there, once. A negative control runs the same harness
// on a server that does not sync (--unsafe-no-sync) and must lose messages,
// or the harness would prove nothing.
//
// The model's limits: file contents are cut back to their last sync; files
// never synced are emptied (LOCK and RocksDB's info LOG aside); a rename is
// taken as durable (RocksDB syncs the folder after its renames), and so is a
// file's existence.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct CutStats {
  size_t files_cut = 0;
  uint64_t bytes_dropped = 0;
};

// The length of every file in `data_dir`: before a recorded run, all of it is
// on disk (synced by the clean shutdown, or left by the previous cut).
std::map<std::string, uint64_t> file_sizes(const fs::path& data_dir) {
  std::map<std::string, uint64_t> sizes;
  for (const auto& entry : fs::directory_iterator(data_dir)) {
    if (entry.is_regular_file()) sizes[fs::canonical(entry.path()).string()] = entry.file_size();
  }
  return sizes;
}

// Cuts every file in `data_dir` back to the length it had at its last sync,
// as recorded in `log`, or to its length in `before` (the start of the run)
// when it was not synced since.
CutStats apply_power_cut(const fs::path& data_dir, const fs::path& log,
                         std::map<std::string, uint64_t> before) {
  std::map<std::string, uint64_t>& synced = before;  // canonical path -> length at the last sync
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "S") {
      uint64_t size = 0;
      std::string path;
      fields >> size;
      std::getline(fields >> std::ws, path);
      synced[path] = size;
    } else if (kind == "R") {
      std::string from, to;
      fields >> from >> to;
      auto it = synced.find(from);
      if (it != synced.end()) {
        synced[to] = it->second;
        synced.erase(it);
      } else {
        synced.erase(to);
      }
    }
  }
  CutStats stats;
  for (const auto& entry : fs::directory_iterator(data_dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == "LOCK" || name.rfind("LOG", 0) == 0) continue;
    const std::string path = fs::canonical(entry.path()).string();
    const auto it = synced.find(path);
    const uint64_t keep = it == synced.end() ? 0 : it->second;
    const uint64_t size = entry.file_size();
    if (size > keep) {
      fs::resize_file(entry.path(), keep);
      ++stats.files_cut;
      stats.bytes_dropped += size - keep;
    }
  }
  fs::remove(log);
  return stats;
}

v1::ClientFrame send_frame(uint64_t conversation, const std::string& client_id) {
  v1::ClientFrame f;
  f.mutable_send_message()->set_conversation_id(conversation);
  f.mutable_send_message()->set_client_message_id(client_id);
  f.mutable_send_message()->set_body("power cut probe " + client_id);
  return f;
}

class PowerCut : public ::testing::Test {
 protected:
  static constexpr int kPairs = 5;

  // Users, mentorships and tokens, made by an in-process server that then stops.
  void SetUp() override {
    data_ = dir_.path() / "data";
    auto config = test_config(data_);
    TestServer setup(config);
    for (int i = 0; i < kPairs; ++i) {
      const v1::User mentee = setup.add_user("mentee" + std::to_string(i), v1::ROLE_MENTEE);
      const v1::User mentor = setup.add_user("mentor" + std::to_string(i), v1::ROLE_MENTOR);
      TestClient a, b;
      ASSERT_EQ(a.connect(setup.port()), "");
      ASSERT_EQ(b.connect(setup.port()), "");
      auto la = a.login(mentee.username(), TestServer::password_of(mentee.username()));
      auto lb = b.login(mentor.username(), TestServer::password_of(mentor.username()));
      ASSERT_TRUE(la.has_login() && lb.has_login());
      v1::ClientFrame req;
      req.mutable_request_mentorship()->set_mentor_id(mentor.id());
      req.mutable_request_mentorship()->set_purpose(v1::PURPOSE_CAREER);
      req.mutable_request_mentorship()->set_note("Hello");
      auto r = a.call(req);
      ASSERT_TRUE(r && has_mentorship(*r)) << (r ? r->DebugString() : "no reply");
      v1::ClientFrame acc;
      acc.mutable_accept_mentorship()->set_mentorship_id(mentorship_of(*r).id());
      auto ok = b.call(acc);
      ASSERT_TRUE(ok && has_mentorship(*ok));
      convs_.push_back(mentorship_of(*ok).conversation_id());
      tokens_.push_back(la.login().token());
      tokens_.push_back(lb.login().token());
    }
  }

  // Starts the server as a child, with the shim recording syncs to `log`.
  std::unique_ptr<ServerProcess> start_recorded(const fs::path& log, bool no_sync,
                                                const fs::path& fail_flag = {}) {
    ::setenv("LD_PRELOAD", POWER_CUT_SHIM_PATH, 1);
    ::setenv("POWER_CUT_LOG", log.c_str(), 1);
    if (!fail_flag.empty()) ::setenv("POWER_CUT_FAIL_FLAG", fail_flag.c_str(), 1);
    // Under AddressSanitizer the shim is loaded before ASan's runtime.
    const char* asan = ::getenv("ASAN_OPTIONS");
    const std::string asan_before = asan != nullptr ? asan : "";
    ::setenv("ASAN_OPTIONS",
             (asan_before + (asan_before.empty() ? "" : ":") + "verify_asan_link_order=0").c_str(), 1);
    std::vector<std::string> args = {"--rate-per-second", "100000", "--rate-burst", "100000"};
    if (no_sync) args.push_back("--unsafe-no-sync");
    auto proc = std::make_unique<ServerProcess>(PRECEPTOR_SERVER_PATH, data_, args);
    ::unsetenv("LD_PRELOAD");
    ::unsetenv("POWER_CUT_LOG");
    ::unsetenv("POWER_CUT_FAIL_FLAG");
    if (asan != nullptr) {
      ::setenv("ASAN_OPTIONS", asan_before.c_str(), 1);
    } else {
      ::unsetenv("ASAN_OPTIONS");
    }
    return proc;
  }

  // Acknowledged messages missing from the server on `port` (and counts
  // duplicates as failures).
  size_t count_lost(uint16_t port) {
    size_t lost = 0;
    for (int i = 0; i < kPairs; ++i) {
      TestClient reader;
      EXPECT_EQ(reader.connect(port), "");
      EXPECT_TRUE(reader.authenticate(tokens_[2 * i]).has_authenticate());
      std::set<std::string> stored;
      uint64_t after = 0;
      for (;;) {
        v1::ClientFrame h;
        h.mutable_history()->set_conversation_id(convs_[i]);
        h.mutable_history()->set_limit(200);
        h.mutable_history()->set_after_seq(after);
        auto page = reader.call(h);
        if (!page || !page->has_history()) {
          ADD_FAILURE() << "history failed: " << (page ? page->DebugString() : "no reply");
          return acked_count_;
        }
        for (const auto& m : page->history().messages()) {
          EXPECT_TRUE(stored.insert(m.client_message_id()).second)
              << "stored twice: " << m.client_message_id();
          after = m.seq();
        }
        if (!page->history().has_more() || page->history().messages_size() == 0) break;
      }
      for (const std::string& id : acked_[convs_[i]]) lost += stored.count(id) == 0 ? 1 : 0;
    }
    return lost;
  }

  // Every sender sends until told to stop; the server is killed once
  // `kill_after` more messages have been acknowledged.
  void burst_then_kill(ServerProcess& proc, int kill_after) {
    std::mutex mu;
    std::atomic<int> acked_now{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int c = 0; c < 2 * kPairs; ++c) {
      senders.emplace_back([&, c] {
        TestClient me;
        if (!me.connect(proc.port()).empty() || !me.authenticate(tokens_[c]).has_authenticate()) return;
        const uint64_t conv = convs_[c / 2];
        for (int n = 0; !stop; ++n) {
          const std::string id =
              "c" + std::to_string(cycle_) + "-u" + std::to_string(c) + "-" + std::to_string(n);
          auto r = me.call(send_frame(conv, id), 5s);
          if (!r || !r->has_send_message()) return;  // the server is gone
          std::lock_guard lock(mu);
          acked_[conv].insert(id);
          ++acked_count_;
          ++acked_now;
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (acked_now < kill_after && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    ::kill(proc.pid(), SIGKILL);
    stop = true;
    for (auto& t : senders) t.join();
    proc.wait_exit(10s);
  }

  struct Totals {
    int cuts = 0;
    size_t acked = 0;
    size_t lost = 0;
    uint64_t bytes_dropped = 0;
  };

  // `cycles` times: start with the shim, check, burst, kill, cut. Then a
  // last check on a server without the shim.
  Totals run_cycles(int cycles, bool no_sync) {
    std::mt19937 rng(20261129);
    std::uniform_int_distribution<int> kill_after(20, 400);
    Totals totals;
    const fs::path log = dir_.path() / "syncs.log";
    for (cycle_ = 0; cycle_ < cycles; ++cycle_) {
      const std::map<std::string, uint64_t> before = file_sizes(data_);
      auto proc = start_recorded(log, no_sync);
      if (proc->pid() == 0 || proc->port() == 0) {
        ADD_FAILURE() << "cycle " << cycle_ << ": the server did not start after the cut:\n"
                      << proc->output();
        return totals;
      }
      if (!no_sync) {
        EXPECT_EQ(count_lost(proc->port()), 0u) << "cycle " << cycle_;
      }
      burst_then_kill(*proc, kill_after(rng));
      const CutStats cut = apply_power_cut(data_, log, before);
      ++totals.cuts;
      totals.bytes_dropped += cut.bytes_dropped;
    }
    ServerProcess last(PRECEPTOR_SERVER_PATH, data_);
    if (last.port() == 0) {
      ADD_FAILURE() << "the server did not start after the last cut:\n" << last.output();
      return totals;
    }
    totals.acked = acked_count_;
    totals.lost = count_lost(last.port());
    return totals;
  }

  TempDir dir_;
  fs::path data_;
  std::vector<uint64_t> convs_;
  std::vector<std::string> tokens_;  // mentee, mentor, mentee, mentor, ...
  std::map<uint64_t, std::set<std::string>> acked_;
  size_t acked_count_ = 0;
  int cycle_ = 0;
};

int cycles_from_env(int fallback) {
  const char* v = ::getenv("POWER_CUT_CYCLES");
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

TEST_F(PowerCut, EveryAcknowledgedMessageSurvivesFiftyCutsUnderLoad) {
  const Totals t = run_cycles(cycles_from_env(50), /*no_sync=*/false);
  std::printf("power cut: %d cuts, %zu messages acknowledged, %zu lost, %llu unsynced bytes thrown away\n",
              t.cuts, t.acked, t.lost, static_cast<unsigned long long>(t.bytes_dropped));
  RecordProperty("cuts", t.cuts);
  RecordProperty("acknowledged", static_cast<int>(t.acked));
  RecordProperty("lost", static_cast<int>(t.lost));
  EXPECT_GT(t.acked, 0u);
  EXPECT_EQ(t.lost, 0u);
}

// The same harness on a server that acknowledges before syncing must lose
// acknowledged messages; if it did not, the cut would not be cutting.
TEST_F(PowerCut, NegativeControlWithoutSyncLosesAcknowledgedMessages) {
  const Totals t = run_cycles(3, /*no_sync=*/true);
  std::printf("negative control: %d cuts, %zu messages acknowledged, %zu lost\n", t.cuts, t.acked, t.lost);
  RecordProperty("lost", static_cast<int>(t.lost));
  EXPECT_GT(t.lost, 0u);
}

// The disk starts failing every sync: the server refuses writes with a clear
// UNAVAILABLE, keeps serving reads, says why on /readyz, and loses nothing it
// acknowledged, through a restart.
TEST_F(PowerCut, FailingSyncsRefuseWritesKeepReadsAndLoseNothingAcknowledged) {
  const fs::path log = dir_.path() / "syncs.log";
  const fs::path flag = dir_.path() / "disk-fails";
  const std::map<std::string, uint64_t> before = file_sizes(data_);
  auto proc = start_recorded(log, /*no_sync=*/false, flag);
  ASSERT_NE(proc->port(), 0) << proc->output();
  TestClient mentee;
  ASSERT_EQ(mentee.connect(proc->port()), "");
  ASSERT_TRUE(mentee.authenticate(tokens_[0]).has_authenticate());
  for (int i = 0; i < 5; ++i) {
    const std::string id = "before-" + std::to_string(i);
    auto r = mentee.call(send_frame(convs_[0], id));
    ASSERT_TRUE(r && r->has_send_message());
    acked_[convs_[0]].insert(id);
  }

  std::ofstream(flag) << "fail";  // from now on every sync fails with EIO
  auto failed = mentee.call(send_frame(convs_[0], "during-1"));
  ASSERT_TRUE(failed && failed->has_error());
  EXPECT_EQ(failed->error().code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_NE(failed->error().message().find("may still appear after the server restarts"), std::string::npos)
      << failed->error().message();
  EXPECT_EQ(failed->error().message().find(data_.string()), std::string::npos) << "a path reached the client";
  auto refused = mentee.call(send_frame(convs_[0], "during-2"));
  ASSERT_TRUE(refused && refused->has_error());
  EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_UNAVAILABLE);

  // Reads still work, and /readyz says why the server is not ready.
  v1::ClientFrame h;
  h.mutable_history()->set_conversation_id(convs_[0]);
  auto page = mentee.call(h);
  ASSERT_TRUE(page && page->has_history()) << (page ? page->DebugString() : "no reply");
  EXPECT_GE(page->history().messages_size(), 5);
  const HttpResult ready = http_get(proc->port(), "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("a write to the database failed"), std::string::npos) << ready.body;

  ::kill(proc->pid(), SIGKILL);
  proc->wait_exit(10s);
  fs::remove(flag);
  apply_power_cut(data_, log, before);
  ServerProcess again(PRECEPTOR_SERVER_PATH, data_);
  ASSERT_NE(again.port(), 0) << again.output();
  acked_count_ = 5;
  EXPECT_EQ(count_lost(again.port()), 0u);
}

}  // namespace
}  // namespace preceptor::testing
