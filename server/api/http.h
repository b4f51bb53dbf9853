#pragma once

// HTTP routes served on the same port as the WebSocket, registered from plain
// C++: nothing here knows Boost or Beast. server/net reads requests, matches
// them against an HttpRoutes, checks sign-in and body limits, and calls the
// route's handler; the handler answers at once, or takes the request body
// piece by piece through an HttpBodySink and answers when it is ready (after
// a durable write, from any thread).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "server/api/session.h"

namespace preceptor::api {

// The largest piece of a request body a sink is given at once, and of a
// response body the server asks a source for at once. A connection holds one
// such buffer while it moves a body, whatever the body's size.
inline constexpr size_t kHttpChunkBytes = 64 * 1024;

// True when `a` and `b` are equal ignoring ASCII case (header names, tokens).
bool equals_ignoring_case(std::string_view a, std::string_view b);

// Header fields of a request or response. Names compare ignoring case; order
// is kept and a name may repeat.
class HttpHeaders {
 public:
  // The first value of `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field called `name` with one.
  void set(std::string_view name, std::string value);
  // Adds a field, keeping the others of the same name.
  void add(std::string_view name, std::string value);
  void erase(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// One request, as the handler sees it once its header has arrived.
struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", "HEAD", …
  std::string path;    // the target up to '?', as sent (not percent-decoded)
  std::string query;   // after '?', as sent; empty when none
  HttpHeaders headers;
  std::string peer_address;  // "ip:port" of the client
  // The body's length from Content-Length (0 when there is no body);
  // nullopt when the body is chunked and its length is not known yet.
  std::optional<uint64_t> content_length = 0;
  // Who sent it. Set on HttpAccess::kSignedIn routes (from the bearer token);
  // never set on kAnyone routes.
  std::optional<api::Session> session;
};

// A response body produced piece by piece: a file, a blob, a generated feed.
// The server pulls it on the connection's strand, one piece at a time and only
// as fast as the client reads, and destroys it when the response is sent or
// the connection ends. Reads should be quick (a local file is fine).
class HttpBodySource {
 public:
  virtual ~HttpBodySource() = default;
  // Copies the next bytes, at most `max` (≥ 1), into `out` and returns how
  // many; 0 means the end. An error ends the response early: the connection
  // is closed, so the client sees a short body.
  virtual Result<size_t> read(char* out, size_t max) = 0;
};

// What the client gets. The server sets Content-Length, Transfer-Encoding
// and Connection itself (any given here are replaced); it adds
// `Cache-Control: no-store` unless one is given, and always `Server` and
// `X-Content-Type-Options: nosniff`. For HEAD, and for 204 and 304, no body
// is sent (a source is not read).
struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;                        // sent when `source` is null
  std::unique_ptr<HttpBodySource> source;  // a streamed body
  std::optional<uint64_t> source_length;   // how many bytes `source` gives, when known (else chunked)
};

// A text or JSON response (sets Content-Type).
HttpResponse http_text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
HttpResponse http_json(int status, std::string json);

// An error: `{"code":"NOT_FOUND","message":"…"}` as application/json, with the
// code's name as in docs/protocol.md ("Errors") and the HTTP status it maps
// to: INVALID_ARGUMENT and FAILED_PRECONDITION 400, UNAUTHENTICATED 401 (with
// `WWW-Authenticate: Bearer`), PERMISSION_DENIED 403, NOT_FOUND 404,
// ALREADY_EXISTS and ABORTED 409, RESOURCE_EXHAUSTED 429, UNIMPLEMENTED 501,
// UNAVAILABLE 503, DEADLINE_EXCEEDED 504, others 500. A retry_after_ms
// becomes `Retry-After` (seconds, rounded up). REQUIRES: !status.is_ok().
HttpResponse http_error(const Status& status);
// The same with a chosen HTTP status (e.g. 413 with RESOURCE_EXHAUSTED, 416
// with OUT_OF_RANGE).
HttpResponse http_error(int http_status, const Status& status);

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

// Answers a request. Call exactly once, from any thread, now or later; the
// response goes out on the connection's strand. Calls after the first, or
// after the connection ended, are ignored.
using HttpRespond = std::function<void(HttpResponse)>;

// Lets a connection that waits for its sink read again (see
// HttpBodySink::wait_before_next). Any thread; only the first call counts.
using HttpResume = std::function<void()>;

// How long a connection waits for a sink that asked it to (see
// HttpBodySink::wait_before_next) before it gives up on the body: on_abort
// with UNAVAILABLE, a 503 for the client, and the connection is closed.
inline constexpr int64_t kHttpSinkWaitMs = 60'000;

// Takes a request body piece by piece, then answers. Every method is called
// on the connection's strand (a network thread): keep them short, and hand
// slow work (RocksDB writes) to the committer or a pool. Exactly one of
// on_end and on_abort is called last; the sink is destroyed soon after.
class HttpBodySink {
 public:
  virtual ~HttpBodySink() = default;
  // The next piece of the body: 1 to kHttpChunkBytes bytes, in order. An
  // error stops the upload: the client gets refusal(that status), the
  // connection is closed, and on_abort follows.
  virtual Status on_chunk(std::string_view bytes) = 0;
  // Back-pressure, asked after each on_chunk that took its piece and before
  // the next piece is read: a sink whose slow work lags behind the socket
  // (a disk slower than the network) returns true and keeps `resume`, and
  // calls it, from any thread, once it can take more. Meanwhile the
  // connection reads nothing, so TCP's flow control slows the client down
  // and the bytes waiting in memory stay bounded. After kHttpSinkWaitMs
  // without `resume` the body is given up (see kHttpSinkWaitMs). Default:
  // never waits.
  virtual bool wait_before_next(HttpResume resume) {
    static_cast<void>(resume);
    return false;
  }
  // The answer to a refusal of on_chunk: http_error(why) unless the sink
  // knows better (e.g. 415 for content of a refused type, or headers that
  // say where to resume).
  virtual HttpResponse refusal(const Status& why) { return http_error(why); }
  // The whole body has arrived (at once when there is none). Answer through
  // `respond`: now, or later from any thread, e.g. once the write is durable.
  virtual void on_end(HttpRespond respond) = 0;
  // The body will not arrive whole: the client went away or sent more than
  // the route allows, or on_chunk refused. Nobody waits for an answer. What
  // did arrive of a body cut off by its connection went to on_chunk first,
  // so a sink may keep it (a resumable upload) or drop it.
  virtual void on_abort(const Status& why) { static_cast<void>(why); }
};

// What a handler does with a request: answer now, or take the body (and
// answer when it is ready). An immediate answer to a request that carries a
// body closes the connection after the answer (the body is not read).
using HttpHandlerResult = std::variant<HttpResponse, std::unique_ptr<HttpBodySink>>;
// Called on the connection's strand once the header has arrived, after the
// access rule and the Content-Length limit were checked. Keep it short.
using HttpHandler = std::function<HttpHandlerResult(const HttpRequest&)>;

// A sink for a request without a body that is answered later: `answer`
// receives the respond callback (on the strand) and may keep it.
std::unique_ptr<HttpBodySink> http_answer_later(std::function<void(HttpRespond)> answer);

enum class HttpAccess {
  kAnyone,    // health checks, the web app's files
  kSignedIn,  // `Authorization: Bearer <token>` from Login; 401 otherwise
};

// One route: which requests it takes, who may send them, how large a body it
// accepts, and the handler. Declared next to the service it belongs to.
struct HttpRoute {
  std::string method;  // "GET", "POST", …, matched exactly; empty = any. A GET route answers HEAD too.
  std::string path;    // starts with '/': the exact path, or with `prefix` every path starting with it
  bool prefix = false;
  HttpAccess access = HttpAccess::kSignedIn;
  // Larger request bodies get 413: from Content-Length before any of the
  // body is read, and while reading a chunked one. 0 = no body accepted.
  uint64_t max_body_bytes = 0;
  HttpHandler handler;
};

// The routes a server answers. Filled before the server starts (add is not
// thread-safe); then read-only, and match may be called from any thread.
class HttpRoutes {
 public:
  // INVALID_ARGUMENT for a path not starting with '/' or a missing handler;
  // ALREADY_EXISTS for a second route with the same method, path and prefix.
  Status add(HttpRoute route);

  struct Match {
    const HttpRoute* route = nullptr;  // the route to run; null when `refusal` applies
    HttpResponse refusal;              // when route is null: 405 with Allow, or 404
  };
  // The most specific path wins (an exact path, then the longest prefix); of
  // the routes whose path matches, the first whose method matches runs (a
  // route for the method before a route for any). When the path matches
  // only under other methods: 405 with `Allow` listing them; else 404.
  Match match(std::string_view method, std::string_view path) const;

  size_t size() const { return routes_.size(); }

 private:
  std::vector<HttpRoute> routes_;  // most specific first
};

// Bytes readable at any offset, of a size known in advance (a file, a blob).
// Used on the connection's strand, like HttpBodySource.
class HttpRandomAccessSource {
 public:
  virtual ~HttpRandomAccessSource() = default;
  virtual uint64_t size() const = 0;
  // Copies up to `max` bytes from `offset` into `out`; returns how many,
  // which is 0 only at or past the end.
  virtual Result<size_t> read_at(uint64_t offset, char* out, size_t max) = 0;
};

// Answers a GET or HEAD for `source`, honouring one `Range: bytes=…` (first-
// last, first-, or the suffix -N): 206 with Content-Range; 416 with
// `Content-Range: bytes */size` when the range starts past the end; 200 with
// everything otherwise (no Range, several ranges, a Range that cannot be
// parsed, or an `If-Range` that differs from `validator`, the ETag or
// Last-Modified value the caller also sends; with no validator an If-Range
// never matches). Always sends `Accept-Ranges: bytes` and `content_type`.
HttpResponse http_serve_range(const HttpRequest& request, std::shared_ptr<HttpRandomAccessSource> source,
                              std::string content_type, std::string_view validator = {});

// Content-Type for a file name by its extension (.html .js .mjs .css .svg
// .png .ico .json .webmanifest .woff2 .wasm .map .txt and a few more; case
// does not matter); others get application/octet-stream.
std::string_view content_type_for(std::string_view filename);

// True for a file that a bundler named after its content, so that its
// bytes never change under that name: `relative_path` (from the served
// folder, '/'-separated) lies under `assets/` and its name is
// `<name>-<hash>.<ext…>`, the hash 8 or more of [A-Za-z0-9_-] with at least
// one digit or capital letter (Vite's `index-BxR4q2aT.js`, also
// `index-BxR4q2aT.js.map`). A plain word such as `assets/main-stylesheet.css`
// is not taken for a hash.
bool is_content_hashed_asset(std::string_view relative_path);

// The Content-Security-Policy sent with every static file: the web app's own
// scripts, styles, images (and data: images), fonts and connections
// (fetch, and WebSocket to the same host and port) only; no plugins, no
// <base>, not framed by any page.
inline constexpr std::string_view kStaticContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// A kAnyone GET route serving the files under `folder` at `url_prefix`
// (which must start and end with '/'): index.html for a folder (a folder
// asked for without its trailing '/' is redirected there), Content-Type by
// extension, Range, `ETag` and `Last-Modified` with 304 for If-None-Match and
// If-Modified-Since. Caching: `Cache-Control: public, max-age=31536000,
// immutable` for content-hashed assets (is_content_hashed_asset), `no-cache`
// (revalidate with the ETag) for everything else, index.html included.
// Every answer of the route, errors too, carries kStaticContentSecurityPolicy,
// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and
// `X-Frame-Options: DENY`. A path with a '..' segment is refused (400); one
// leading out of the folder through a link is not found (404); there is no
// fallback to index.html (the web app routes by the URL's #fragment). Files
// are read on the network thread in kHttpChunkBytes pieces.
// INVALID_ARGUMENT when `folder` is not a folder or the prefix is malformed.
Result<HttpRoute> static_files_route(std::string url_prefix, const std::filesystem::path& folder);

}  // namespace preceptor::api
