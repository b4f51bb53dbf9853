#include "server/app.h"

#include <google/protobuf/stubs/logging.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <mutex>

#include "common/log.h"
#include "server/api/router.h"
#include "server/hub/hub.h"
#include "server/net/context.h"
#include "server/net/metrics.h"
#include "server/net/network.h"
#include "server/scheduler/scheduler.h"
#include "server/services/accounts.h"
#include "server/services/busy_mirror.h"
#include "server/services/indexes.h"
#include "server/services/membership.h"
#include "server/services/modules.h"
#include "storage/committer.h"
#include "storage/redactor.h"
#include "storage/store.h"

namespace preceptor::server {
namespace {

// Runs blocking work (argon2id) on a small pool, off the network threads.
class PoolExecutor final : public Executor {
 public:
  explicit PoolExecutor(int threads) : pool_(threads) {}
  void run(std::function<void()> work) override { boost::asio::post(pool_, std::move(work)); }
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
};

// The committer's and the hub's figures, after the network's.
std::string render_metrics(const Metrics& metrics, const storage::Committer& committer, const hub::Hub& hub) {
  std::string out = metrics.render();
  write_scalar(out, "preceptor_sessions_authenticated", "gauge", "Authenticated sessions.",
               hub.session_count());
  write_scalar(out, "preceptor_users_online", "gauge", "Users with at least one session.", hub.user_count());
  write_scalar(out, "preceptor_commits_total", "counter", "Mutations made durable by the committer.",
               committer.commits_total());
  write_scalar(out, "preceptor_commit_groups_total", "counter", "Synced RocksDB writes (group commits).",
               committer.groups_total());
  write_scalar(out, "preceptor_commit_refused_busy_total", "counter",
               "Changes refused with UNAVAILABLE because the committer's queue was full.",
               committer.refused_busy_total());
  write_scalar(out, "preceptor_last_position", "gauge", "Last durable event position.",
               committer.last_position());
  out +=
      "# HELP preceptor_commit_batch_size Mutations per synced write.\n# TYPE preceptor_commit_batch_size "
      "histogram\n";
  committer.batch_sizes().write_prometheus(out, "preceptor_commit_batch_size");
  out +=
      "# HELP preceptor_commit_latency_seconds From submit to durable, per mutation.\n"
      "# TYPE preceptor_commit_latency_seconds histogram\n";
  committer.commit_latency_seconds().write_prometheus(out, "preceptor_commit_latency_seconds");
  out +=
      "# HELP preceptor_commit_write_seconds One synced RocksDB write.\n"
      "# TYPE preceptor_commit_write_seconds histogram\n";
  committer.write_seconds().write_prometheus(out, "preceptor_commit_write_seconds");
  return out;
}

}  // namespace

struct Server::Impl {
  ServerConfig config;
  SystemClock system_clock;
  const Clock& clock;  // dates: tokens, events, timed work (tests inject a manual one)
  SteadyClock own_steady_clock;
  const MonotonicClock& steady_clock;  // rate limits (tests inject a manual one)
  Metrics metrics;

  std::unique_ptr<storage::Store> store;
  std::unique_ptr<services::BusyMirror> busy_mirror;  // kept current by the committer's write watcher
  std::unique_ptr<storage::Committer> committer;
  std::unique_ptr<PoolExecutor> blocking;
  hub::Hub hub;
  std::unique_ptr<services::Accounts> accounts;
  std::unique_ptr<services::Membership> membership;
  std::unique_ptr<services::Core> core;
  std::vector<std::unique_ptr<api::Module>> modules;
  std::unique_ptr<api::Router> router;
  api::HttpRoutes http_routes;  // the modules', the platform's, and any a test added before start()
  std::unique_ptr<scheduler::Scheduler> scheduler;
  std::unique_ptr<storage::Redactor> redactor;
  std::unique_ptr<scheduler::Scheduler> redaction;  // runs the redactor every redaction_interval_ms
  std::unique_ptr<ServerContext> ctx;
  std::unique_ptr<Network> network;
  std::vector<DemoLogin> demo_logins;

  std::mutex mu;
  bool running = false;  // start() succeeded; guarded by mu
  bool waited = false;   // a wait() took charge of stopping; guarded by mu

  Impl(ServerConfig c, const Clock* injected, const MonotonicClock* injected_monotonic)
      : config(std::move(c)),
        clock(injected ? *injected : system_clock),
        steady_clock(injected_monotonic ? *injected_monotonic : own_steady_clock) {}

  // Stops everything behind the network, in order; the store closes last.
  void stop_core();
};

namespace {

// libprotobuf reports, among other things, every string field of a client's
// frame that is not UTF-8, as an ERROR line on stderr. Such a frame is
// already answered (INVALID_ARGUMENT) and counted against the connection, so
// a hostile client must not also be able to fill the server's log: those
// go to the debug level, in our format. Only a fatal one stays an error.
void protobuf_log(google::protobuf::LogLevel level, const char* filename, int line,
                  const std::string& message) {
  auto entry = level == google::protobuf::LOGLEVEL_FATAL ? log::error("protobuf") : log::debug("protobuf");
  entry.kv("where", std::string(filename) + ":" + std::to_string(line)).kv("message", message);
}

}  // namespace

Server::Server(ServerConfig config, const Clock* clock, const MonotonicClock* monotonic_clock)
    : impl_(std::make_unique<Impl>(std::move(config), clock, monotonic_clock)) {}

Server::~Server() {
  shutdown();
  wait();
}

Status Server::start() {
  Impl& d = *impl_;
  log::Level level;
  if (log::parse_level(d.config.log_level, &level)) log::set_level(level);
  google::protobuf::SetLogHandler(&protobuf_log);

  storage::StoreOptions store_options;
  store_options.path = d.config.data_dir;
  store_options.block_cache_bytes = d.config.block_cache_mb << 20;
  auto store = storage::Store::open(store_options);
  if (!store) return store.status();
  d.store = std::move(store.value());
  if (d.config.unsafe_no_sync) {
    log::warn("unsafe_no_sync")
        .kv("what", "writes are acknowledged before they are on disk; a power cut loses them");
  }
  d.committer = std::make_unique<storage::Committer>(
      *d.store, d.clock, storage::CommitterOptions{.sync = !d.config.unsafe_no_sync});
  d.committer->set_event_sink(
      [&d](std::span<const storage::CommittedEvent> events) { d.hub.publish(events); });
  d.busy_mirror = std::make_unique<services::BusyMirror>(*d.store);
  d.committer->set_write_watcher(
      std::array{storage::Cf::kUserBusy},
      [&d](std::span<const storage::WatchedWrite> writes) { d.busy_mirror->apply(writes); });
  d.redactor = std::make_unique<storage::Redactor>(*d.store, d.committer.get());
  // Redactions written before a crash (or a stop that could not finish them) are carried out too.
  if (Status pending = d.redactor->load_pending(); !pending) {
    d.stop_core();
    return pending;
  }
  d.committer->set_redaction_sink(
      [&d](std::span<const std::pair<storage::Cf, std::string>> keys) { d.redactor->note(keys); });
  d.redaction = std::make_unique<scheduler::Scheduler>(
      [&d] {
        // A failure is logged and the keys stay noted: the next run tries again.
        d.redactor->run_once().ignore_error();
      },
      d.config.redaction_interval_ms);
  d.blocking = std::make_unique<PoolExecutor>(d.config.blocking_threads);
  d.accounts = std::make_unique<services::Accounts>(*d.store, *d.committer, d.clock, d.steady_clock,
                                                    *d.blocking, d.config.accounts, &d.hub);
  d.membership = std::make_unique<services::Membership>(*d.store);
  d.core.reset(new services::Core{
      *d.store, *d.committer, d.hub, d.clock, d.steady_clock, *d.accounts, *d.membership, *d.busy_mirror,
      services::StorageQuota{.bytes_per_user = d.config.user_quota_mb << 20}, d.config.audit, d.config.calls,
      services::DocumentOptions{.max_upload_bytes = d.config.max_upload_mb << 20}});
  // Indexes a store written by an older binary lacks are built before anything reads them.
  if (Status built = services::build_missing_indexes(*d.store, *d.committer); !built) {
    d.stop_core();
    return Status(built.code(), "Could not build the indexes of the data folder: " + built.message());
  }
  d.modules = services::all_modules(*d.core);
  d.router = std::make_unique<api::Router>(d.clock);
  for (auto& module : d.modules) module->add_requests(*d.router);
  d.scheduler = std::make_unique<scheduler::Scheduler>(
      [&d] {
        for (auto& module : d.modules) module->run_timed_work();
      },
      d.config.scheduler_interval_ms);

  if (d.config.demo) {
    auto logins = ensure_demo_program(*d.accounts);
    if (!logins) {
      d.stop_core();
      return Status(logins.status().code(),
                    "Could not create the demo program: " + logins.status().message());
    }
    d.demo_logins = std::move(*logins);
    if (Status hours = ensure_demo_office_hours(*d.core); !hours) {
      d.stop_core();
      return Status(hours.code(), "Could not give the demo mentors office hours: " + hours.message());
    }
    if (Status work = ensure_demo_work(*d.core); !work) {
      d.stop_core();
      return Status(work.code(),
                    "Could not create the demo's goal, assignment and review: " + work.message());
    }
  }

  d.ctx = std::make_unique<ServerContext>(
      d.config, d.metrics, *d.router, d.hub,
      [&d]() -> std::string {
        if (d.ctx->draining.load()) return "Not ready: the server is shutting down.";
        if (!d.committer->running()) {
          return "Not ready: writes are refused since a write to the database failed (see commit_failed in "
                 "the log); reads still work. Check the disk, then restart the server.";
        }
        return {};
      },
      [&d] { return render_metrics(d.metrics, *d.committer, d.hub); }, d.steady_clock);
  d.ctx->http_routes = &d.http_routes;
  d.ctx->authenticate = [&d](std::string_view token) { return d.accounts->authenticate(token); };
  d.ctx->refresh_session = [&d](const api::Session& session) { return d.accounts->refresh(session); };
  d.ctx->clock = &d.clock;
  Status routes = add_platform_http_routes(*d.ctx, d.http_routes);
  for (auto& module : d.modules) {
    if (routes) routes = module->add_http_routes(d.http_routes);
  }
  if (!routes) {
    d.stop_core();
    return routes;
  }
  d.network = std::make_unique<Network>(*d.ctx);
  if (Status listening = d.network->listen(); !listening) {
    d.network.reset();
    d.stop_core();
    return listening;
  }
  if (d.config.scheduler_interval_ms > 0) d.scheduler->start();
  if (d.config.redaction_interval_ms > 0) d.redaction->start();
  d.network->start();
  {
    std::lock_guard lock(d.mu);
    d.running = true;
  }
  log::info("listening")
      .kv("address", d.config.listen_address)
      .kv("port", static_cast<unsigned>(d.network->port()))
      .kv("data_dir", d.config.data_dir)
      .kv("store_id", d.store->store_id())
      .kv("last_position", d.store->last_position_at_open())
      .kv("modules", static_cast<uint64_t>(d.modules.size()));
  return Status::ok();
}

Status Server::add_http_route(api::HttpRoute route) {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.running) return failed_precondition("HTTP routes are added before the server starts.");
  }
  return d.http_routes.add(std::move(route));
}

uint16_t Server::port() const { return impl_->network ? impl_->network->port() : 0; }

const std::vector<DemoLogin>& Server::demo_logins() const { return impl_->demo_logins; }

void Server::shutdown() {
  if (impl_->network) impl_->network->shutdown();
}

void Server::Impl::stop_core() {
  if (scheduler) scheduler->stop();
  // Sign-ins still queued are answered at once, unchecked: no waiting for a backlog.
  if (accounts) accounts->stop_logins();
  // In-flight commits finish before the store closes; their replies go nowhere.
  // What was noted since the last run goes before the store closes (the
  // committer still takes the run's removal of its durable notes).
  if (redaction) redaction->stop();
  if (redactor) redactor->run_once().ignore_error();
  if (committer) committer->stop();
  if (blocking) blocking->join();
  const uint64_t last = committer ? committer->last_position() : 0;
  scheduler.reset();
  redaction.reset();
  redactor.reset();
  router.reset();
  modules.clear();
  core.reset();
  membership.reset();
  accounts.reset();
  committer.reset();
  busy_mirror.reset();
  if (store) {
    store.reset();
    log::info("stopped").kv("last_position", last);
  }
}

void Server::wait() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (!d.running || d.waited) return;
    d.waited = true;
  }
  d.network->wait();
  d.stop_core();
}

void Server::run_until_signal() {
  if (impl_->network) impl_->network->run_until_signal();
  wait();
}

services::Accounts& Server::accounts() { return *impl_->accounts; }
void Server::run_scheduler_once() { impl_->scheduler->run_once(); }
Status Server::run_redaction_once() { return impl_->redactor->run_once(); }
storage::Store& Server::store() { return *impl_->store; }
storage::Committer& Server::committer() { return *impl_->committer; }
const Metrics& Server::metrics() const { return impl_->metrics; }

}  // namespace preceptor::server
