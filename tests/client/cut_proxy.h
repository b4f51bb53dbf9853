#pragma once

// A TCP proxy on 127.0.0.1 that forwards to a local port and cuts the
// connection once after a given number of bytes from the client, the way a
// mobile network drops in the middle of an upload. Later connections pass
// untouched.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace preceptor::testing {

class CutProxy {
 public:
  // Forwards to 127.0.0.1:`target_port`; the connection that carries the
  // client's byte number `cut_after` (counted over all connections) is
  // closed at that byte, both ways, without a word.
  CutProxy(uint16_t target_port, uint64_t cut_after) : target_port_(target_port), cut_after_(cut_after) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (::pipe2(stop_, O_CLOEXEC) != 0) stop_[0] = stop_[1] = -1;
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~CutProxy() {
    const char c = 0;
    stopping_ = true;
    [[maybe_unused]] auto n = ::write(stop_[1], &c, 1);
    acceptor_.join();
    std::vector<std::thread> pumps;
    {
      std::lock_guard lock(mu_);
      pumps.swap(pumps_);
    }
    for (auto& t : pumps) t.join();
    ::close(listen_fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

  uint16_t port() const { return port_; }
  int cuts() const { return cuts_; }
  int connections() const { return connections_; }
  uint64_t forwarded() const { return forwarded_; }  // client bytes passed on

 private:
  void accept_loop() {
    for (;;) {
      pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) continue;
      if (p[1].revents) return;
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(target_port_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      ++connections_;
      std::lock_guard lock(mu_);
      pumps_.emplace_back([this, client, server] { pump(client, server); });
    }
  }

  void pump(int client, int server) {
    char buf[16 * 1024];
    for (;;) {
      pollfd p[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(p, 3, 1000) < 0) break;
      if (p[2].revents || stopping_) break;
      if (p[0].revents) {
        const ssize_t n = ::read(client, buf, sizeof buf);
        if (n <= 0) break;
        size_t pass = static_cast<size_t>(n);
        bool cut = false;
        if (!cut_done_) {
          const uint64_t before = forwarded_;
          if (before + pass >= cut_after_) {
            pass = static_cast<size_t>(cut_after_ - before);
            cut = true;
          }
        }
        if (pass > 0 && !write_all(server, buf, pass)) break;
        forwarded_ += pass;
        if (cut) {
          cut_done_ = true;
          ++cuts_;
          break;
        }
      }
      if (p[1].revents) {
        const ssize_t n = ::read(server, buf, sizeof buf);
        if (n <= 0) break;
        if (!write_all(client, buf, static_cast<size_t>(n))) break;
      }
    }
    ::close(client);
    ::close(server);
  }

  static bool write_all(int fd, const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  uint16_t target_port_;
  uint64_t cut_after_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int stop_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_done_{false};
  std::atomic<int> cuts_{0};
  std::atomic<int> connections_{0};
  std::atomic<uint64_t> forwarded_{0};
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace preceptor::testing
