#include "server/net/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/api/dispatcher.h"
#include "server/hub/hub.h"
#include "server/log.h"
#include "server/net/context.h"
#include "server/net/http_router.h"
#include "server/net/listener.h"
#include "server/net/ws_session.h"
#include "server/scheduler/scheduler.h"
#include "server/services/accounts.h"
#include "server/services/chat.h"
#include "server/services/mentorships.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::server {
namespace asio = boost::asio;

namespace {

// Runs blocking work (argon2id) on a small pool, off the network threads.
class PoolExecutor final : public Executor {
 public:
  explicit PoolExecutor(int threads) : pool_(threads) {}
  void run(std::function<void()> work) override { asio::post(pool_, std::move(work)); }
  void join() { pool_.join(); }

 private:
  asio::thread_pool pool_;
};

}  // namespace

struct Server::Impl {
  ServerConfig config;
  SystemClock system_clock;
  const Clock& clock;
  Metrics metrics;

  std::unique_ptr<storage::Store> store;
  std::unique_ptr<storage::Committer> committer;
  std::unique_ptr<PoolExecutor> blocking;
  hub::Hub hub;
  std::unique_ptr<services::Accounts> accounts;
  std::unique_ptr<services::Mentorships> mentorships;
  std::unique_ptr<services::Chat> chat;
  std::unique_ptr<scheduler::Scheduler> scheduler;
  std::unique_ptr<api::Dispatcher> dispatcher;
  api::HttpRoutes http_routes;
  std::unique_ptr<ServerContext> ctx;

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::ip::tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  uint16_t port = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool shutdown_requested = false;
  bool drained = false;
  bool waited = false;

  Impl(ServerConfig c, const Clock* injected) : config(std::move(c)), clock(injected ? *injected : system_clock) {}

  asio::awaitable<void> drain();
};

Server::Server(ServerConfig config, const Clock* clock) : impl_(std::make_unique<Impl>(std::move(config), clock)) {}

Server::~Server() {
  shutdown();
  wait();
}

Status Server::start() {
  Impl& d = *impl_;
  log::Level level;
  if (log::parse_level(d.config.log_level, &level)) log::set_level(level);

  storage::StoreOptions store_options;
  store_options.path = d.config.data_dir;
  store_options.block_cache_bytes = d.config.block_cache_mb << 20;
  auto store = storage::Store::open(store_options);
  if (!store) return store.status();
  d.store = std::move(store.value());
  d.committer = std::make_unique<storage::Committer>(*d.store, d.clock);
  d.committer->set_event_sink([&d](std::span<const storage::CommittedEvent> events) { d.hub.publish(events); });
  d.blocking = std::make_unique<PoolExecutor>(d.config.blocking_threads);
  d.accounts = std::make_unique<services::Accounts>(*d.store, *d.committer, d.clock, *d.blocking,
                                                    d.config.accounts, &d.hub);
  d.mentorships = std::make_unique<services::Mentorships>(*d.store, *d.committer, *d.accounts, d.clock);
  d.chat = std::make_unique<services::Chat>(*d.store, *d.committer, d.hub, d.clock);
  d.hub.set_presence_listener([&d](uint64_t user, bool online) { d.chat->on_presence(user, online); });
  d.dispatcher =
      std::make_unique<api::Dispatcher>(api::Services{*d.accounts, *d.mentorships, *d.chat, d.hub, d.clock});
  d.scheduler = std::make_unique<scheduler::Scheduler>([&d] { d.mentorships->run_timed_work(); },
                                                        d.config.scheduler_interval_ms);
  d.ctx.reset(new ServerContext{d.config, d.metrics, *d.dispatcher, d.hub,
                                [&d] { return !d.ctx->draining.load() && d.committer->running(); },
                                [&d] { return d.metrics.render(d.committer.get(), &d.hub); }});
  d.ctx->http_routes = &d.http_routes;
  d.ctx->authenticate = [&d](std::string_view token) { return d.accounts->authenticate(token); };
  if (Status routes = add_platform_http_routes(*d.ctx, d.http_routes); !routes) {
    d.committer->stop();
    return routes;
  }

  boost::system::error_code ec;
  auto address = asio::ip::make_address(d.config.listen_address, ec);
  if (ec) return invalid_argument("--listen-address " + d.config.listen_address + " is not an IP address.");
  asio::ip::tcp::endpoint endpoint(address, d.config.port);
  d.acceptor.open(endpoint.protocol(), ec);
  if (!ec) d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(endpoint, ec);
  if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    d.committer->stop();
    return unavailable("Cannot listen on " + d.config.listen_address + ":" + std::to_string(d.config.port) + " (" +
                       ec.message() + "); pick another --port or stop the program using it.");
  }
  d.port = d.acceptor.local_endpoint().port();
  if (d.config.scheduler_interval_ms > 0) d.scheduler->start();
  d.work.emplace(d.io.get_executor());
  asio::co_spawn(d.io, accept_loop(*d.ctx, d.acceptor), asio::detached);
  for (int i = 0; i < d.config.io_threads; ++i) d.threads.emplace_back([&d] { d.io.run(); });
  {
    std::lock_guard lock(d.mu);
    d.started = true;
  }
  log::info("listening")
      .kv("address", d.config.listen_address)
      .kv("port", static_cast<unsigned>(d.port))
      .kv("data_dir", d.config.data_dir)
      .kv("store_id", d.store->store_id())
      .kv("last_position", d.store->last_position_at_open());
  return Status::ok();
}

uint16_t Server::port() const { return impl_->port; }

Status Server::add_http_route(api::HttpRoute route) {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.started) return failed_precondition("HTTP routes are added before the server starts.");
  }
  return d.http_routes.add(std::move(route));
}

asio::awaitable<void> Server::Impl::drain() {
  log::info("draining").kv("sessions", static_cast<uint64_t>(ctx->session_count()));
  ctx->draining = true;
  boost::system::error_code ec;
  acceptor.close(ec);
  for (auto& session : ctx->sessions()) session->shutdown();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.shutdown_grace_ms);
  asio::steady_timer timer(io);
  while (ctx->session_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (size_t left = ctx->session_count(); left > 0) {
    log::warn("drain_timeout").kv("sessions", static_cast<uint64_t>(left));
    for (auto& session : ctx->sessions()) session->force_close();
  }
  {
    std::lock_guard lock(mu);
    drained = true;
  }
  cv.notify_all();
  work.reset();
  io.stop();
}

void Server::shutdown() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (!d.started || d.shutdown_requested) return;
    d.shutdown_requested = true;
  }
  asio::co_spawn(d.io, d.drain(), asio::detached);
}

void Server::wait() {
  Impl& d = *impl_;
  {
    std::unique_lock lock(d.mu);
    if (!d.started || d.waited) return;
    d.cv.wait(lock, [&] { return d.shutdown_requested; });
    d.waited = true;
  }
  for (auto& t : d.threads) t.join();
  d.threads.clear();
  d.scheduler->stop();
  // In-flight commits finish before the store closes; their replies go nowhere.
  d.committer->stop();
  d.blocking->join();
  const uint64_t last = d.committer->last_position();
  d.scheduler.reset();
  d.chat.reset();
  d.mentorships.reset();
  d.accounts.reset();
  d.committer.reset();
  d.store.reset();
  log::info("stopped").kv("last_position", last);
}

void Server::run_until_signal() {
  Impl& d = *impl_;
  asio::signal_set signals(d.io, SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log::info("signal").kv("signal", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    shutdown();
  });
  wait();
}

services::Accounts& Server::accounts() { return *impl_->accounts; }
void Server::run_scheduler_once() { impl_->scheduler->run_once(); }
storage::Store& Server::store() { return *impl_->store; }
storage::Committer& Server::committer() { return *impl_->committer; }
const Metrics& Server::metrics() const { return impl_->metrics; }

}  // namespace preceptor::server
