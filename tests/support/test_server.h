#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/clock.h"
#include "server/app.h"
#include "server/config.h"
#include "server/services/accounts.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::testing {

// Test defaults: port 0, cheapest argon2id, quiet logs.
server::ServerConfig test_config(const std::filesystem::path& data_dir);

// A real server (real sockets, real RocksDB in `data_dir`) running in this
// process. Stops and waits on destruction. `before_start`, when set, is run
// on the server before it starts (to add HTTP routes).
class TestServer {
 public:
  // `monotonic_clock`, when set, times every rate limit (see server::Server).
  explicit TestServer(server::ServerConfig config, const Clock* clock = nullptr,
                      const std::function<void(server::Server&)>& before_start = {},
                      const MonotonicClock* monotonic_clock = nullptr);
  ~TestServer();

  uint16_t port() const { return server_->port(); }
  server::Server& server() { return *server_; }
  services::Accounts& accounts() { return server_->accounts(); }

  // Creates a user with password "password-<username>"; aborts the test on failure.
  v1::User add_user(const std::string& username, v1::Role role = v1::ROLE_MENTEE);
  static std::string password_of(const std::string& username) { return "password-" + username; }

  void stop();

 private:
  std::unique_ptr<server::Server> server_;
};

// Runs a shell command (stderr joined to stdout); its exit status (-1 when it
// did not exit normally) and everything it printed.
std::pair<int, std::string> run_command(const std::string& command);

// A preceptor-server child process (for signals and kill -9).
class ServerProcess {
 public:
  // Starts the binary with `args` (plus --port 0 and --data-dir); waits until
  // it prints its port. pid() is 0 on failure.
  // With `stderr_to`, the server's stderr (its log) goes to that file.
  ServerProcess(const std::string& binary, const std::filesystem::path& data_dir,
                std::vector<std::string> args = {}, const std::filesystem::path& stderr_to = {});
  ~ServerProcess();  // SIGKILL if still running

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  const std::string& output() const { return output_; }
  // Sends `signo` and waits up to `timeout` for exit; returns the exit status
  // as from waitpid, or -1 on timeout.
  int signal_and_wait(int signo, std::chrono::milliseconds timeout);
  void send_signal(int signo);
  // Waits up to `timeout` for exit; waitpid status, or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = 0;
  uint16_t port_ = 0;
  int out_fd_ = -1;
  std::string output_;
};

}  // namespace preceptor::testing
