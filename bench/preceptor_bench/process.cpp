#include "bench/preceptor_bench/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bench/preceptor_bench/async_util.h"

extern char** environ;

namespace preceptor::bench {
namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

}  // namespace

ChildProcess::ChildProcess(Options options) : options_(std::move(options)) {
  if (options_.argv.empty()) throw std::runtime_error("no program to start");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe"));
  int in[2] = {-1, -1};
  if (options_.pipe_stdin && ::pipe2(in, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error(errno_text("pipe"));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options_.pipe_stdin) {
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (!options_.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, options_.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
  }
  // Our sockets must not leak into the child (a leaked client socket would
  // keep a "dropped" connection alive).
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  std::vector<char*> argv;
  for (auto& a : options_.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const auto& e : options_.env) env_storage.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  spawned_ns_ = now_ns();
  const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (options_.pipe_stdin) ::close(in[0]);
  if (rc != 0) {
    ::close(out[0]);
    if (options_.pipe_stdin) ::close(in[1]);
    throw std::runtime_error("could not start " + options_.argv[0] + ": " + std::strerror(rc));
  }
  stdin_fd_ = options_.pipe_stdin ? in[1] : -1;
  pidfd_ = open_pidfd(pid_);
  reader_ = std::thread([this, fd = out[0]] { read_stdout(fd); });
}

ChildProcess::~ChildProcess() {
  if (!exited_) {
    signal(SIGKILL);
    (void)wait_exit(std::chrono::seconds(30));
  }
  close_stdin();
  if (reader_.joinable()) reader_.join();
  if (pidfd_ >= 0) ::close(pidfd_);
}

void ChildProcess::read_stdout(int fd) {
  std::ofstream copy;
  if (!options_.stdout_copy_path.empty()) copy.open(options_.stdout_copy_path, std::ios::app);
  std::string pending;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (copy) copy << line << '\n' << std::flush;
      std::lock_guard lock(mu_);
      lines_.push_back(std::move(line));
      line_ns_.push_back(now_ns());
      cv_.notify_all();
    }
  }
  ::close(fd);
  std::lock_guard lock(mu_);
  if (!pending.empty()) {
    lines_.push_back(pending);
    line_ns_.push_back(now_ns());
  }
  eof_ = true;
  cv_.notify_all();
}

std::optional<std::string> ChildProcess::wait_for_line(std::string_view needle,
                                                       std::chrono::milliseconds timeout, int64_t* seen_ns) {
  std::unique_lock lock(mu_);
  size_t checked = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (; checked < lines_.size(); ++checked) {
      if (lines_[checked].find(needle) != std::string::npos) {
        if (seen_ns) *seen_ns = line_ns_[checked];
        return lines_[checked];
      }
    }
    if (eof_) return std::nullopt;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && checked == lines_.size())
      return std::nullopt;
  }
}

std::vector<std::string> ChildProcess::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

void ChildProcess::close_stdin() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

void ChildProcess::signal(int signo) {
  if (!exited_ && pid_ > 0) ::kill(pid_, signo);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exited_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = status;
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      exited_ = true;  // not our child any more (reaped elsewhere)
      return status_;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    } else {
      ::usleep(1000);  // no pidfd (old kernel): poll the exit once a millisecond
    }
  }
}

int run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& output_path, std::chrono::milliseconds timeout) {
  ChildProcess::Options options;
  options.argv = argv;
  options.env = env;
  options.stdout_copy_path = output_path;
  options.stderr_path = output_path;
  ChildProcess child(std::move(options));
  auto status = child.wait_exit(timeout);
  if (!status) return -1;
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

ServerProcess::ServerProcess(const std::vector<std::string>& argv, const std::string& log_path,
                             std::chrono::milliseconds timeout)
    : child_(ChildProcess::Options{argv, {}, log_path, log_path, false}), log_path_(log_path) {
  auto line = child_.wait_for_line("listening on ws://", timeout, &listening_ns_);
  if (!line) {
    child_.signal(SIGKILL);
    throw std::runtime_error(argv[0] + " did not report \"listening on ws://HOST:PORT/...\" within " +
                             std::to_string(timeout.count() / 1000) + " s; its output is in " + log_path);
  }
  const size_t at = line->find("ws://");
  const size_t end = line->find_first_of(" \t", at);
  if (!Endpoint::parse(line->substr(at, end == std::string::npos ? std::string::npos : end - at),
                       &endpoint_)) {
    child_.signal(SIGKILL);
    throw std::runtime_error("could not read the address in: " + *line);
  }
}

int64_t ServerProcess::wait_ready(std::chrono::milliseconds timeout) {
  const int64_t deadline = now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  while (now_ns() < deadline) {
    HttpReply r = http_get(endpoint_.host, endpoint_.port, "/readyz", std::chrono::seconds(2));
    if (r.status == 200) return now_ns();
    if (child_.exited() || child_.wait_exit(std::chrono::milliseconds(0))) {
      throw std::runtime_error("the server exited before it was ready; its output is in " + log_path_);
    }
    ::usleep(500);
  }
  throw std::runtime_error("the server was not ready within " + std::to_string(timeout.count() / 1000) +
                           " s");
}

int64_t ServerProcess::terminate(std::chrono::milliseconds timeout) {
  const int64_t t0 = now_ns();
  child_.signal(SIGTERM);
  if (!child_.wait_exit(timeout)) {
    child_.signal(SIGKILL);
    (void)child_.wait_exit(std::chrono::seconds(30));
    throw std::runtime_error("the server did not stop within " + std::to_string(timeout.count() / 1000) +
                             " s of SIGTERM; killed it");
  }
  return now_ns() - t0;
}

void ServerProcess::kill9() {
  child_.signal(SIGKILL);
  (void)child_.wait_exit(std::chrono::seconds(30));
}

HttpReply http_get(const std::string& host, uint16_t port, const std::string& path,
                   std::chrono::milliseconds timeout) {
  HttpReply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                              "\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return reply;
  }
  std::string response;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (response.compare(0, 5, "HTTP/") != 0) return reply;
  const size_t sp = response.find(' ');
  if (sp == std::string::npos) return reply;
  reply.status = std::atoi(response.c_str() + sp + 1);
  const size_t body = response.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = response.substr(body + 4);
  // Chunked bodies are not decoded; /metrics and /readyz are read as sent.
  return reply;
}

MetricsSample scrape_metrics(const Endpoint& endpoint) {
  MetricsSample sample;
  HttpReply r = http_get(endpoint.host, endpoint.port, "/metrics");
  if (r.status != 200) return sample;
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    sample[line.substr(0, sp)] = std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return sample;
}

double metric(const MetricsSample& sample, const std::string& name) {
  auto it = sample.find(name);
  return it == sample.end() ? 0.0 : it->second;
}

namespace {

int64_t status_kib(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return std::strtoll(line.c_str() + len + 1, nullptr, 10);
    }
  }
  return -1;
}

}  // namespace

int64_t rss_kib(pid_t pid) { return status_kib(pid, "VmRSS"); }
int64_t peak_rss_kib(pid_t pid) { return status_kib(pid, "VmHWM"); }
int64_t anon_rss_kib(pid_t pid) { return status_kib(pid, "RssAnon"); }

int64_t open_files_limit(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(std::strlen("Max open files")));
      std::string soft;
      fields >> soft;
      return soft == "unlimited" ? INT64_MAX : std::strtoll(soft.c_str(), nullptr, 10);
    }
  }
  return -1;
}

namespace {

// utime + stime of a /proc/.../stat file, and the name between the parentheses.
double stat_cpu_seconds(const std::string& path, std::string* name = nullptr) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
  const size_t open = all.find('(');
  const size_t paren = all.rfind(')');
  if (paren == std::string::npos || open == std::string::npos) return 0;
  if (name) *name = all.substr(open + 1, paren - open - 1);
  std::istringstream fields(all.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

double cpu_seconds(pid_t pid) { return stat_cpu_seconds("/proc/" + std::to_string(pid) + "/stat"); }

std::map<int, ThreadCpu> thread_cpu(pid_t pid) {
  std::map<int, ThreadCpu> out;
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const int tid = std::atoi(it->path().filename().c_str());
    ThreadCpu t;
    t.seconds = stat_cpu_seconds(it->path().string() + "/stat", &t.name);
    std::ifstream sched(it->path().string() + "/schedstat");
    long long on_cpu_ns = 0, wait_ns = 0;
    if (sched >> on_cpu_ns >> wait_ns) t.wait_seconds = static_cast<double>(wait_ns) / 1e9;
    out[tid] = t;
  }
  return out;
}

MachineCpu machine_cpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  MachineCpu m;
  m.busy = static_cast<double>(user + nice + system + irq + softirq) / tick;
  m.steal = static_cast<double>(steal) / tick;
  return m;
}

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

std::string self_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return ".";
  return exe.parent_path().string();
}

}  // namespace preceptor::bench
