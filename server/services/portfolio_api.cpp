// The portfolio module: GET /v1/mentorships/<id>/portfolio.zip with a
// Bearer token, for the mentor and the mentee of that mentorship. The zip is
// built off the network threads by one worker of this module (at most
// kMaxWaiting exports wait; more get 429), written to a temporary file that
// is removed as soon as it is open, and served like any download (Range).
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "server/services/modules.h"
#include "server/services/portfolio.h"

namespace preceptor::services {
namespace {

constexpr std::string_view kPrefix = "/v1/mentorships/";
constexpr std::string_view kSuffix = "/portfolio.zip";
constexpr size_t kMaxWaiting = 4;

// A file opened and already unlinked: its bytes live until the last reader closes it.
class OpenFile final : public api::HttpRandomAccessSource {
 public:
  OpenFile(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~OpenFile() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  Result<size_t> read_at(uint64_t offset, char* out, size_t max) override {
    const ssize_t n = ::pread(fd_, out, max, static_cast<off_t>(offset));
    if (n < 0) return internal_error("The portfolio file could not be read.");
    return static_cast<size_t>(n);
  }

 private:
  int fd_;
  uint64_t size_;
};

// One thread running exports in order; a bounded line.
class Worker {
 public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // False when the line is full.
  bool post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (jobs_.size() >= kMaxWaiting) return false;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::thread thread_;                      // last: starts once the rest exists
};

std::optional<uint64_t> mentorship_in(std::string_view path) {
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return std::nullopt;
  const std::string_view digits = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size() || id == 0) return std::nullopt;
  return id;
}

api::HttpResponse serve(const api::HttpRequest& request, const PortfolioFile& file) {
  const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  std::error_code ec;
  std::filesystem::remove(file.path, ec);
  if (fd < 0) return api::http_error(internal_error("The portfolio file could not be opened; try again."));
  auto source = std::make_shared<OpenFile>(fd, file.size);
  api::HttpResponse r = api::http_serve_range(request, source, "application/zip");
  r.headers.set("Content-Disposition", "attachment; filename=\"" + file.download_name + "\"");
  r.headers.set("Cache-Control", "private, no-store");
  return r;
}

class PortfolioModule final : public api::Module {
 public:
  explicit PortfolioModule(Core& core)
      : portfolio_(core.store, core.membership, core.accounts, core.clock),
        folder_(std::filesystem::temp_directory_path() / "preceptor-portfolio") {}
  std::string_view name() const override { return "portfolio"; }
  void add_requests(api::Router&) override {}

  Status add_http_routes(api::HttpRoutes& routes) override {
    return routes.add(api::HttpRoute{
        .method = "GET",
        .path = std::string(kPrefix),
        .prefix = true,
        .access = api::HttpAccess::kSignedIn,
        .max_body_bytes = 0,
        .handler = [this](const api::HttpRequest& request) -> api::HttpHandlerResult {
          auto id = mentorship_in(request.path);
          if (!id)
            return api::http_error(not_found("Nothing here; the portfolio is at " + std::string(kPrefix) +
                                             "<mentorship id>" + std::string(kSuffix) + "."));
          return api::http_answer_later([this, request, id = *id](api::HttpRespond respond) {
            const bool queued = worker_.post([this, request, id, respond] {
              auto file = portfolio_.build(request.session->user, id, folder_);
              if (!file) return respond(api::http_error(file.status()));
              respond(serve(request, *file));
            });
            if (!queued) {
              respond(
                  api::http_error(Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                                         "Several portfolios are being exported right now; try again in a "
                                         "minute.",
                                         {}, 60'000)));
            }
          });
        }});
  }

 private:
  Portfolio portfolio_;
  std::filesystem::path folder_;
  Worker worker_;  // last: joined first
};

}  // namespace

std::unique_ptr<api::Module> portfolio_module(Core& core) { return std::make_unique<PortfolioModule>(core); }

}  // namespace preceptor::services
