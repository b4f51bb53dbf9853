#include "bench/preceptor_bench/idle.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/process.h"
#include "bench/preceptor_bench/shards.h"

namespace preceptor::bench {

Json IdleResult::to_json() const {
  Json j = Json::object();
  j["requested"] = requested;
  j["connected"] = connected;
  j["failed"] = failed;
  j["first_error"] = first_error;
  j["client_processes"] = static_cast<uint64_t>(processes);
  j["setup_seconds"] = setup_seconds;
  j["server_rss_before_kib"] = rss_before_kib;
  j["server_rss_connected_kib"] = rss_after_kib;
  j["server_rss_after_close_kib"] = rss_closed_kib;
  j["server_sessions_authenticated"] = sessions_reported;
  j["server_rss_bytes_per_connection"] = bytes_per_connection;
  return j;
}

namespace {

// "key=value" from a worker's ready line.
std::string field(const std::string& line, const std::string& key) {
  const size_t at = line.find(key + "=");
  if (at == std::string::npos) return {};
  const size_t start = at + key.size() + 1;
  const size_t end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

IdleResult run_idle(const Endpoint& endpoint, pid_t server_pid, const Population& population,
                    const IdleOptions& options) {
  IdleResult r;
  r.requested = options.connections;
  const std::string tokens_path = options.work_dir + "/idle-tokens.txt";
  {
    std::ofstream out(tokens_path);
    for (const auto& u : population.users) {
      if (!u.token.empty()) out << u.token << "\n";
    }
    if (!out) throw std::runtime_error("could not write " + tokens_path);
  }
  r.rss_before_kib = rss_kib(server_pid);

  const size_t per = std::max<size_t>(1, options.per_process);
  r.processes = (options.connections + per - 1) / per;
  std::vector<std::unique_ptr<ChildProcess>> workers;
  const int64_t t0 = now_ns();
  size_t first = 0;
  for (size_t w = 0; w < r.processes; ++w) {
    const size_t count = std::min(per, options.connections - first);
    ChildProcess::Options o;
    o.argv = {options.self_exe, "idle-worker",
              "--url",          endpoint.url(),
              "--tokens",       tokens_path,
              "--first",        std::to_string(first),
              "--count",        std::to_string(count),
              "--source-ip",    "127.0.0." + std::to_string(10 + w),
              "--lanes",        std::to_string(options.lanes)};
    o.stderr_path = options.work_dir + "/idle-worker-" + std::to_string(w) + ".log";
    o.pipe_stdin = true;
    workers.push_back(std::make_unique<ChildProcess>(std::move(o)));
    first += count;
  }
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
  for (size_t w = 0; w < workers.size(); ++w) {
    auto line = workers[w]->wait_for_line("ready ", timeout);
    if (!line) {
      r.failed += std::min(per, options.connections - w * per);
      if (r.first_error.empty()) r.first_error = "a worker did not report in time";
      continue;
    }
    r.connected += std::strtoull(field(*line, "ok").c_str(), nullptr, 10);
    r.failed += std::strtoull(field(*line, "failed").c_str(), nullptr, 10);
    const size_t err = line->find("first_error=");
    if (err != std::string::npos && r.first_error.empty()) r.first_error = line->substr(err + 12);
  }
  r.setup_seconds = static_cast<double>(now_ns() - t0) / 1e9;
  r.rss_after_kib = rss_kib(server_pid);
  r.sessions_reported = metric(scrape_metrics(endpoint), "preceptor_sessions_authenticated");
  if (r.connected > 0) {
    r.bytes_per_connection =
        static_cast<double>(r.rss_after_kib - r.rss_before_kib) * 1024.0 / static_cast<double>(r.connected);
  }
  for (auto& w : workers) w->close_stdin();
  for (auto& w : workers) {
    if (!w->wait_exit(std::chrono::seconds(60))) w->signal(SIGKILL);
  }
  // The server notices the closed sockets asynchronously: wait (bounded)
  // until it has let go of the sessions before reading its RSS again.
  const int64_t deadline = now_ns() + 30'000'000'000;
  while (now_ns() < deadline && metric(scrape_metrics(endpoint), "preceptor_connections_open") > 0) {
    ::usleep(20'000);
  }
  r.rss_closed_kib = rss_kib(server_pid);
  return r;
}

int idle_worker_main(const std::string& url, const std::string& tokens_path, size_t first, size_t count,
                     const std::string& source_ip, size_t lanes) {
  Endpoint endpoint;
  if (!Endpoint::parse(url, &endpoint)) {
    std::fprintf(stderr, "idle-worker: bad --url %s\n", url.c_str());
    return 2;
  }
  std::vector<std::string> tokens;
  {
    std::ifstream in(tokens_path);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) tokens.push_back(line);
    }
  }
  if (tokens.empty()) {
    std::fprintf(stderr, "idle-worker: no tokens in %s\n", tokens_path.c_str());
    return 2;
  }
  Shards shards(1);
  auto& io = shards.io(0);
  std::vector<std::unique_ptr<Connection>> conns(count);
  uint64_t ok = 0, failed = 0;
  std::string first_error;
  const int64_t t0 = now_ns();
  shards.run([&](size_t) -> asio::awaitable<void> {
    co_await for_each_parallel(count, lanes, [&](size_t i) -> asio::awaitable<void> {
      auto c = std::make_unique<Connection>(io);
      try {
        co_await c->open(endpoint, source_ip);
        co_await c->authenticate(tokens[(first + i) % tokens.size()]);
        ++ok;
        conns[i] = std::move(c);
      } catch (const std::exception& e) {
        if (failed++ == 0) first_error = e.what();
      }
    });
  });
  std::printf("ready ok=%llu failed=%llu seconds=%.3f%s%s\n", static_cast<unsigned long long>(ok),
              static_cast<unsigned long long>(failed), static_cast<double>(now_ns() - t0) / 1e9,
              first_error.empty() ? "" : " first_error=", first_error.c_str());
  std::fflush(stdout);
  // Hold the connections (answering the server's pings) until stdin closes.
  std::thread stdin_watch([&io] {
    char buf[64];
    while (::read(0, buf, sizeof buf) > 0) {
    }
    asio::post(io, [&io] { io.stop(); });
  });
  shards.run([&](size_t) -> asio::awaitable<void> {
    asio::steady_timer forever(io, std::chrono::steady_clock::time_point::max());
    boost::system::error_code ec;
    co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  });
  stdin_watch.join();
  for (auto& c : conns) {
    if (c) c->close();
  }
  // The process exit releases everything else; tearing down thousands of
  // coroutine frames one by one would only delay it.
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace preceptor::bench
