#pragma once

// Helpers shared by the storage tests: temporary folders, waiting with a
// timeout, a scriptable write function, and running this test binary again
// as a child process.

#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "storage/committer.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::storage {

// The raw database behind a Store, for tests that seed or inspect the disk
// directly (Store keeps it private: nothing above storage/ sees RocksDB).
struct StoreTestAccess {
  static rocksdb::DB* db(const Store& store) { return store.db(); }
  static rocksdb::ColumnFamilyHandle* cf(const Store& store, Cf cf) { return store.cf(cf); }
};

}  // namespace preceptor::storage

namespace preceptor::storage::testing {

// Generous, so that a slow sanitizer build never fails on time alone.
inline constexpr std::chrono::seconds kWaitTimeout{30};

using preceptor::testing::TempDir;

// Polls `pred` until it holds or `timeout` passes. For states that have no
// notification (e.g. "the committer has seen stop()"); returns pred().
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kWaitTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Collects the statuses given to `done` callbacks, by slot.
class Completions {
 public:
  explicit Completions(size_t n) : results_(n) {}

  DoneFn slot(size_t i) {
    return [this, i](const Status& status) {
      std::lock_guard lock(mu_);
      results_[i] = status;
      ++completed_;
      cv_.notify_all();
    };
  }
  // True when every slot completed within the timeout.
  bool wait_all(std::chrono::milliseconds timeout = kWaitTimeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return completed_ >= results_.size(); });
  }
  Status at(size_t i) const {
    std::lock_guard lock(mu_);
    return results_[i].value_or(internal_error("not completed"));
  }
  size_t completed() const {
    std::lock_guard lock(mu_);
    return completed_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Status>> results_;
  size_t completed_ = 0;
};

// Submits one mutation and waits for it.
inline Status commit_and_wait(Committer& committer, ApplyFn apply) {
  Completions c(1);
  committer.submit(std::move(apply), c.slot(0));
  if (!c.wait_all()) return internal_error("timed out waiting for the committer");
  return c.at(0);
}

inline v1::Event test_event(const std::string& reason) {
  v1::Event event;
  event.mutable_session_ended()->set_reason(reason);
  return event;
}

// A write function for Committer::set_write_fn_for_test: forwards to the
// database, can hold its first call until released (so that everything
// submitted meanwhile forms the next group), and can fail one chosen call.
// The function shares the state, so it stays valid if the test ends early.
class ScriptedWrite {
 public:
  explicit ScriptedWrite(rocksdb::DB* db) : state_(std::make_shared<State>()) { state_->db = db; }
  ~ScriptedWrite() { release(); }
  ScriptedWrite(const ScriptedWrite&) = delete;
  ScriptedWrite& operator=(const ScriptedWrite&) = delete;

  // Both must be called before fn() is installed.
  void hold_first_call() { state_->hold_first = true; }
  void fail_call(int n) { state_->fail_call = n; }  // 1-based
  // Fails the next call, however the mutations before it were grouped. Only
  // while no write is in progress.
  void fail_next_call() { state_->fail_call = state_->calls.load() + 1; }

  Committer::WriteFn fn() {
    return [state = state_](const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch) {
      const int n = ++state->calls;
      if (n == 1 && state->hold_first) {
        std::unique_lock lock(state->mu);
        state->entered = true;
        state->cv.notify_all();
        state->cv.wait_for(lock, kWaitTimeout, [&] { return state->released; });
      }
      if (n == state->fail_call) {
        return rocksdb::Status::IOError("While fdatasync: /srv/preceptor/data/000042.log",
                                        "injected by the test");
      }
      return state->db->Write(options, batch);
    };
  }

  // Waits until the first call is being held.
  bool wait_held() {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, kWaitTimeout, [&] { return state_->entered; });
  }
  void release() {
    std::lock_guard lock(state_->mu);
    state_->released = true;
    state_->cv.notify_all();
  }
  int calls() const { return state_->calls.load(); }

 private:
  struct State {
    rocksdb::DB* db = nullptr;
    bool hold_first = false;
    std::atomic<int> fail_call{0};
    std::atomic<int> calls{0};
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false;
    bool released = false;
  };
  std::shared_ptr<State> state_;
};

// ---- Child processes ----
//
// A test that needs a second process (a second open of a locked folder, a
// process to kill -9) runs this binary again with --child=<name>
// --child-arg=<arg>; storage_test_main.cpp dispatches to the function
// registered under that name instead of running tests. The child is a fresh
// exec, so it inherits none of the parent's threads (RocksDB keeps
// background threads for the whole process). It writes its results to
// kChildPipeFd, which the parent reads.

inline constexpr int kChildPipeFd = 3;

using ChildMain = int (*)(const std::string& arg, int pipe_fd);

inline std::map<std::string, ChildMain>& child_registry() {
  static std::map<std::string, ChildMain> registry;
  return registry;
}

inline bool register_child(const std::string& name, ChildMain main) {
  child_registry()[name] = main;
  return true;
}

struct Child {
  pid_t pid = -1;
  int read_fd = -1;  // the parent's end of the child's kChildPipeFd; close it
};

inline std::optional<Child> spawn_child(const std::string& name, const std::string& arg) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  // Built before fork: the child may only make async-signal-safe calls.
  std::string exe = "/proc/self/exe";
  std::string a1 = "--child=" + name;
  std::string a2 = "--child-arg=" + arg;
  char* argv[] = {exe.data(), a1.data(), a2.data(), nullptr};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    // dup2 clears close-on-exec on the copy; when the fd already has the
    // number, clear the flag directly.
    if (fds[1] == kChildPipeFd) {
      ::fcntl(fds[1], F_SETFD, 0);
    } else {
      ::dup2(fds[1], kChildPipeFd);
    }
    ::execv(exe.c_str(), argv);
    ::_exit(127);
  }
  ::close(fds[1]);
  return Child{pid, fds[0]};
}

// Reads from `fd` into `out` until EOF or `timeout`; false on timeout or error.
inline bool read_until_eof(int fd, std::string& out, std::chrono::milliseconds timeout = kWaitTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

// Waits for the child to end; its wait status, or nullopt on timeout (the
// child is then killed).
inline std::optional<int> wait_child(pid_t pid, std::chrono::milliseconds timeout = kWaitTimeout) {
  int status = 0;
  const bool ended = wait_until(
      [&] {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        return r == pid || (r < 0 && errno != EINTR);
      },
      timeout);
  if (ended) return status;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return std::nullopt;
}

}  // namespace preceptor::storage::testing
