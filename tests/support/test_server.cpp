#include "tests/support/test_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>

namespace preceptor::testing {

server::ServerConfig test_config(const std::filesystem::path& data_dir) {
  server::ServerConfig c;
  c.port = 0;
  c.data_dir = data_dir.string();
  c.log_level = "warn";
  c.io_threads = 2;
  c.blocking_threads = 1;
  c.block_cache_mb = 8;
  c.accounts.pwhash_opslimit = 1;
  c.accounts.pwhash_memlimit_bytes = 8192;
  c.shutdown_grace_ms = 2000;
  return c;
}

TestServer::TestServer(server::ServerConfig config, const Clock* clock,
                       const std::function<void(server::Server&)>& before_start,
                       const MonotonicClock* monotonic_clock)
    : server_(std::make_unique<server::Server>(std::move(config), clock, monotonic_clock)) {
  if (before_start) before_start(*server_);
  Status st = server_->start();
  if (!st) {
    ADD_FAILURE() << "server did not start: " << st.to_string();
    std::abort();
  }
}

TestServer::~TestServer() { stop(); }

void TestServer::stop() {
  server_->shutdown();
  server_->wait();
}

v1::User TestServer::add_user(const std::string& username, v1::Role role) {
  services::NewUser u;
  u.username = username;
  u.password = password_of(username);
  u.display_name = "User " + username;
  u.role = role;
  auto created = services::create_user_sync(accounts(), u);
  if (!created) {
    ADD_FAILURE() << "add_user " << username << ": " << created.status().to_string();
    return {};
  }
  return created.value();
}

ServerProcess::ServerProcess(const std::string& binary, const std::filesystem::path& data_dir,
                             std::vector<std::string> args, const std::filesystem::path& stderr_to) {
  int fds[2];
  if (::pipe(fds) != 0) return;
  args.insert(args.begin(),
              {binary, "--port", "0", "--data-dir", data_dir.string(), "--fast-password-hashing"});
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    if (!stderr_to.empty()) {
      const int err = ::open(stderr_to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
    }
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
  pid_ = pid;
  // Wait (bounded) for "listening on ws://ADDR:PORT/".
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    output_.append(buf, static_cast<size_t>(n));
    // "listening on ws://127.0.0.1:PORT/v1/ws"
    const size_t at = output_.find("ws://");
    const size_t colon = at == std::string::npos ? at : output_.find(':', at + 5);
    const size_t slash = colon == std::string::npos ? colon : output_.find('/', colon);
    if (slash != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(output_.substr(colon + 1, slash - colon - 1)));
      return;
    }
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

int ServerProcess::signal_and_wait(int signo, std::chrono::milliseconds timeout) {
  send_signal(signo);
  return wait_exit(timeout);
}

void ServerProcess::send_signal(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

int ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = 0;
      return status;
    }
    ::usleep(10'000);  // polling a child's exit; not a settle-sleep
  }
  return -1;
}

std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace preceptor::testing
