#include "server/net/network.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/log.h"
#include "server/net/listener.h"
#include "server/net/ws_session.h"

namespace preceptor::server {
namespace asio = boost::asio;

struct Network::Impl {
  explicit Impl(ServerContext& c) : ctx(c) {}

  ServerContext& ctx;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::ip::tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  uint16_t port = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool shutdown_requested = false;
  bool waited = false;

  asio::awaitable<void> drain();
};

Network::Network(ServerContext& ctx) : impl_(std::make_unique<Impl>(ctx)) {}

Network::~Network() {
  shutdown();
  wait();
}

Status Network::listen() {
  Impl& d = *impl_;
  const NetConfig& config = d.ctx.config;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config.listen_address, ec);
  if (ec) return invalid_argument("--listen-address " + config.listen_address + " is not an IP address.");
  asio::ip::tcp::endpoint endpoint(address, config.port);
  d.acceptor.open(endpoint.protocol(), ec);
  if (!ec) d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(endpoint, ec);
  if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return unavailable("Cannot listen on " + config.listen_address + ":" + std::to_string(config.port) +
                       " (" + ec.message() + "); pick another --port or stop the program using it.");
  }
  d.port = d.acceptor.local_endpoint().port();
  return Status::ok();
}

uint16_t Network::port() const { return impl_->port; }

void Network::start() {
  Impl& d = *impl_;
  d.work.emplace(d.io.get_executor());
  asio::co_spawn(d.io, accept_loop(d.ctx, d.acceptor), asio::detached);
  for (int i = 0; i < d.ctx.config.io_threads; ++i) d.threads.emplace_back([&d] { d.io.run(); });
  std::lock_guard lock(d.mu);
  d.started = true;
}

asio::awaitable<void> Network::Impl::drain() {
  log::info("draining").kv("sessions", static_cast<uint64_t>(ctx.session_count()));
  ctx.draining = true;
  boost::system::error_code ec;
  acceptor.close(ec);
  for (auto& session : ctx.sessions()) session->shutdown();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx.config.shutdown_grace_ms);
  asio::steady_timer timer(io);
  while (ctx.session_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (size_t left = ctx.session_count(); left > 0) {
    log::warn("drain_timeout").kv("sessions", static_cast<uint64_t>(left));
    for (auto& session : ctx.sessions()) session->force_close();
  }
  work.reset();
  io.stop();
}

void Network::shutdown() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (!d.started || d.shutdown_requested) return;
    d.shutdown_requested = true;
  }
  d.cv.notify_all();
  asio::co_spawn(d.io, d.drain(), asio::detached);
}

void Network::wait() {
  Impl& d = *impl_;
  {
    std::unique_lock lock(d.mu);
    if (!d.started || d.waited) return;
    d.cv.wait(lock, [&] { return d.shutdown_requested; });
    d.waited = true;
  }
  for (auto& t : d.threads) t.join();
  d.threads.clear();
}

void Network::run_until_signal() {
  Impl& d = *impl_;
  asio::signal_set signals(d.io, SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log::info("signal").kv("signal", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    shutdown();
  });
  wait();
}

}  // namespace preceptor::server
