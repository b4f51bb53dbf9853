#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// A child process (posix_spawn) whose stdout is read line by line by a
// thread of its own, so the child never blocks on a full pipe; stdin may be a
// pipe the parent closes to tell the child to finish. Killed with SIGKILL
// and reaped on destruction if still running.
//
// Any one thread at a time; wait_for_line() may run while the reader thread
// collects lines.
class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is the executable path
    std::vector<std::string> env;   // extra NAME=VALUE entries on top of ours
    std::string stdout_copy_path;   // every stdout line is appended here too; empty: not kept
    std::string stderr_path;        // stderr goes here; empty: inherited
    bool pipe_stdin = false;        // else /dev/null
  };

  // Throws std::runtime_error when the process cannot be started.
  explicit ChildProcess(Options options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  int64_t spawned_ns() const { return spawned_ns_; }  // now_ns() just before posix_spawn

  // The first stdout line (from the start) containing `needle`, with the
  // now_ns() at which it was read; nullopt at end of output or timeout.
  std::optional<std::string> wait_for_line(std::string_view needle, std::chrono::milliseconds timeout,
                                           int64_t* seen_ns = nullptr);
  std::vector<std::string> lines() const;

  void close_stdin();
  void signal(int signo);
  // Waits for the process to end: its wait status, or nullopt at timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool exited() const { return exited_; }

 private:
  void read_stdout(int fd);

  Options options_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdin_fd_ = -1;
  int64_t spawned_ns_ = 0;
  bool exited_ = false;
  int status_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::vector<int64_t> line_ns_;
  bool eof_ = false;
  std::thread reader_;
};

// Runs a program to completion; returns its exit code (-1 on a signal or a
// timeout, after killing it). Output goes to `output_path`.
int run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& output_path, std::chrono::milliseconds timeout);

// preceptor-server (or the echo server) started by the tool: waits for the
// "listening on ws://HOST:PORT/..." line on stdout and knows its endpoint.
class ServerProcess {
 public:
  // Throws std::runtime_error when it does not start within `timeout`;
  // `log_path` then says where its output went.
  ServerProcess(const std::vector<std::string>& argv, const std::string& log_path,
                std::chrono::milliseconds timeout = std::chrono::seconds(300));

  const Endpoint& endpoint() const { return endpoint_; }
  pid_t pid() const { return child_.pid(); }
  int64_t spawned_ns() const { return child_.spawned_ns(); }
  int64_t listening_ns() const { return listening_ns_; }

  // Polls GET /readyz (every 0.5 ms) until 200: the now_ns() of that answer.
  // Throws std::runtime_error at timeout.
  int64_t wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(300));
  // SIGTERM and wait: ns from the signal to exit. Throws at timeout (after SIGKILL).
  int64_t terminate(std::chrono::milliseconds timeout = std::chrono::seconds(120));
  // SIGKILL and reap.
  void kill9();
  bool exited() const { return child_.exited(); }

 private:
  ChildProcess child_;
  Endpoint endpoint_;
  int64_t listening_ns_ = 0;
  std::string log_path_;
};

// One HTTP/1.1 GET on a fresh connection: the status (0 when there was no
// answer) and the body.
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply http_get(const std::string& host, uint16_t port, const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Prometheus text from /metrics: "name{labels}" -> value.
using MetricsSample = std::map<std::string, double>;
MetricsSample scrape_metrics(const Endpoint& endpoint);
double metric(const MetricsSample& sample, const std::string& name);  // 0 when absent

// /proc/<pid>/status VmRSS and VmHWM in KiB (-1 when unreadable).
int64_t rss_kib(pid_t pid);
int64_t peak_rss_kib(pid_t pid);
// The part of VmRSS that is the process's own memory (RssAnon: heap, stacks,
// buffers), not pages of its program and libraries mapped from files.
int64_t anon_rss_kib(pid_t pid);
// The soft "Max open files" of a process (/proc/<pid>/limits); -1 when unknown.
int64_t open_files_limit(pid_t pid);
// User + system CPU seconds of a process (/proc/<pid>/stat), and of this one.
double cpu_seconds(pid_t pid);
double self_cpu_seconds();

// CPU seconds of each thread of a process (/proc/<pid>/task), by thread id,
// with the thread's name (e.g. "committer", "rocksdb:low").
struct ThreadCpu {
  std::string name;
  double seconds = 0;       // on a CPU
  double wait_seconds = 0;  // runnable but waiting for a CPU (schedstat)
};
std::map<int, ThreadCpu> thread_cpu(pid_t pid);

// The whole machine's CPU time from /proc/stat, in seconds summed over cores:
// busy (user+nice+system+irq+softirq) and steal (taken by the hypervisor).
struct MachineCpu {
  double busy = 0;
  double steal = 0;
};
MachineCpu machine_cpu();

// The directory holding this executable (/proc/self/exe).
std::string self_dir();

}  // namespace preceptor::bench
