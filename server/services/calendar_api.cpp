// The calendar module: RotateCalendarFeed, the feed at
// GET /v1/calendar/<secret>.ics and one meeting at GET /v1/meetings/<id>.ics.
#include <charconv>
#include <memory>

#include "server/services/calendar.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

constexpr std::string_view kFeedPrefix = "/v1/calendar/";
constexpr std::string_view kMeetingPrefix = "/v1/meetings/";
constexpr std::string_view kIcs = ".ics";
constexpr std::string_view kCalendarType = "text/calendar; charset=utf-8";

// The part of `path` between `prefix` and ".ics"; empty when it is not that shape.
std::string_view middle(std::string_view path, std::string_view prefix) {
  if (path.size() <= prefix.size() + kIcs.size() || !path.ends_with(kIcs)) return {};
  return path.substr(prefix.size(), path.size() - prefix.size() - kIcs.size());
}

api::HttpResponse calendar_response(std::string body) {
  api::HttpResponse r = api::http_text(200, std::move(body), std::string(kCalendarType));
  // Personal, and the feed's URL is its secret: kept by nobody on the way.
  r.headers.set("Cache-Control", "private, no-store, max-age=0");
  r.headers.set("Referrer-Policy", "no-referrer");
  r.headers.set("X-Robots-Tag", "noindex");
  return r;
}

class CalendarModule final : public api::Module {
 public:
  explicit CalendarModule(Core& core) : calendar_(core.store, core.committer, core.accounts, core.clock) {}
  std::string_view name() const override { return "calendar"; }

  void add_requests(api::Router& router) override {
    router.handle<v1::RotateCalendarFeed, v1::RotateCalendarFeedResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::RotateCalendarFeed&,
                                    Reply<v1::RotateCalendarFeedResult> reply) {
          calendar_.rotate_feed(caller.user(), [reply](Result<std::string> path) {
            if (!path) return reply(path.status());
            v1::RotateCalendarFeedResult result;
            result.set_path(std::move(*path));
            reply(std::move(result));
          });
        });
  }

  Status add_http_routes(api::HttpRoutes& routes) override {
    // The feed: the secret in the URL is the only credential (calendar
    // programs cannot sign in), so anyone holding it may read.
    PRECEPTOR_RETURN_IF_ERROR(routes.add(
        api::HttpRoute{.method = "GET",
                       .path = std::string(kFeedPrefix),
                       .prefix = true,
                       .access = api::HttpAccess::kAnyone,
                       .handler = [this](const api::HttpRequest& request) -> api::HttpHandlerResult {
                         const std::string_view secret = middle(request.path, kFeedPrefix);
                         auto body = calendar_.feed(secret);
                         if (!body) return api::http_error(body.status());
                         return calendar_response(std::move(*body));
                       }}));
    return routes.add(api::HttpRoute{
        .method = "GET",
        .path = std::string(kMeetingPrefix),
        .prefix = true,
        .access = api::HttpAccess::kSignedIn,
        .handler = [this](const api::HttpRequest& request) -> api::HttpHandlerResult {
          const std::string_view digits = middle(request.path, kMeetingPrefix);
          uint64_t id = 0;
          const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
          if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
            return api::http_error(not_found("No such calendar file; ask for /v1/meetings/<id>.ics."));
          }
          auto download = calendar_.meeting(request.session->user, id);
          if (!download) return api::http_error(download.status());
          const bool cancelled = download->cancelled;
          api::HttpResponse r = calendar_response(std::move(download->body));
          r.headers.set("Content-Type",
                        std::string(kCalendarType) + (cancelled ? "; method=CANCEL" : "; method=REQUEST"));
          r.headers.set("Content-Disposition",
                        "attachment; filename=\"meeting-" + std::to_string(id) + ".ics\"");
          return r;
        }});
  }

 private:
  Calendar calendar_;
};

}  // namespace

std::unique_ptr<api::Module> calendar_module(Core& core) { return std::make_unique<CalendarModule>(core); }

}  // namespace preceptor::services
