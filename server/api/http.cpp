#include "server/api/http.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace preceptor::api {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int http_status_for(ErrorCode code) {
  switch (code) {
    case v1::ERROR_CODE_INVALID_ARGUMENT:
    case v1::ERROR_CODE_FAILED_PRECONDITION:
    case v1::ERROR_CODE_OUT_OF_RANGE:
    case v1::ERROR_CODE_CANCELLED:
      return 400;
    case v1::ERROR_CODE_UNAUTHENTICATED:
      return 401;
    case v1::ERROR_CODE_PERMISSION_DENIED:
      return 403;
    case v1::ERROR_CODE_NOT_FOUND:
      return 404;
    case v1::ERROR_CODE_ALREADY_EXISTS:
    case v1::ERROR_CODE_ABORTED:
      return 409;
    case v1::ERROR_CODE_RESOURCE_EXHAUSTED:
      return 429;
    case v1::ERROR_CODE_UNIMPLEMENTED:
      return 501;
    case v1::ERROR_CODE_UNAVAILABLE:
      return 503;
    case v1::ERROR_CODE_DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

// Whole non-negative decimal number, nothing else; nullopt on overflow.
std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A sink that expects no body and hands the respond callback to `answer`.
class AnswerLater final : public HttpBodySink {
 public:
  explicit AnswerLater(std::function<void(HttpRespond)> answer) : answer_(std::move(answer)) {}
  Status on_chunk(std::string_view) override {
    return invalid_argument("This address takes no request body; send the request without one.");
  }
  void on_end(HttpRespond respond) override { answer_(std::move(respond)); }

 private:
  std::function<void(HttpRespond)> answer_;
};

// `length` bytes of a random-access source from `offset`, as a stream.
class RangeSource final : public HttpBodySource {
 public:
  RangeSource(std::shared_ptr<HttpRandomAccessSource> source, uint64_t offset, uint64_t length)
      : source_(std::move(source)), offset_(offset), left_(length) {}

  Result<size_t> read(char* out, size_t max) override {
    if (left_ == 0) return size_t{0};
    const size_t want = static_cast<size_t>(std::min<uint64_t>(max, left_));
    auto got = source_->read_at(offset_, out, want);
    if (!got) return got.status();
    if (*got == 0)
      return data_loss("The content ended before its announced size; it may have changed meanwhile.");
    const size_t n = std::min(*got, want);
    offset_ += n;
    left_ -= n;
    return n;
  }

 private:
  std::shared_ptr<HttpRandomAccessSource> source_;
  uint64_t offset_;
  uint64_t left_;
};

// A byte range of a representation of `size` bytes, or why there is none.
struct RangeChoice {
  enum class Kind { kWhole, kPart, kUnsatisfiable } kind = Kind::kWhole;
  uint64_t first = 0;
  uint64_t length = 0;
};

RangeChoice choose_range(std::string_view header, uint64_t size) {
  RangeChoice whole;
  header = trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (header.size() < kUnit.size() || !equals_ignoring_case(header.substr(0, kUnit.size()), kUnit))
    return whole;
  const std::string_view spec = trim(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: send it all
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view first_text = trim(spec.substr(0, dash));
  const std::string_view last_text = trim(spec.substr(dash + 1));
  RangeChoice out;
  if (first_text.empty()) {  // suffix: the last N bytes
    auto n = parse_u64(last_text);
    if (!n) return whole;
    if (*n == 0) return {RangeChoice::Kind::kUnsatisfiable};
    if (size == 0) return whole;
    out.kind = RangeChoice::Kind::kPart;
    out.length = std::min(*n, size);
    out.first = size - out.length;
    return out;
  }
  auto first = parse_u64(first_text);
  if (!first) return whole;
  std::optional<uint64_t> last;
  if (!last_text.empty()) {
    last = parse_u64(last_text);
    if (!last || *last < *first) return whole;  // malformed: ignore the Range
  }
  if (*first >= size) return {RangeChoice::Kind::kUnsatisfiable};
  const uint64_t end = last ? std::min(*last, size - 1) : size - 1;  // inclusive
  out.kind = RangeChoice::Kind::kPart;
  out.first = *first;
  out.length = end - *first + 1;
  return out;
}

// A regular file, read with pread so ranges need no seeking state.
class FileSource final : public HttpRandomAccessSource {
 public:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }
  Result<size_t> read_at(uint64_t offset, char* out, size_t max) override {
    for (;;) {
      const ssize_t n = ::pread(fd_, out, max, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR)
        return internal_error("Reading a served file failed (errno " + std::to_string(errno) + ").");
    }
  }

 private:
  int fd_;
  uint64_t size_;
};

// "%XX" decoded; nullopt for a malformed escape or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

std::string http_date(time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::optional<time_t> parse_http_date(std::string_view s) {
  const std::string text(trim(s));
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

// True when an If-None-Match list names `etag` (weak comparison) or is "*".
bool etag_listed(std::string_view header, std::string_view etag) {
  auto strip_weak = [](std::string_view t) {
    t = trim(t);
    if (t.size() >= 2 && t[0] == 'W' && t[1] == '/') t.remove_prefix(2);
    return t;
  };
  if (trim(header) == "*") return true;
  const std::string_view want = strip_weak(etag);
  while (!header.empty()) {
    const size_t comma = header.find(',');
    if (strip_weak(header.substr(0, comma)) == want) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

std::string hex_of(uint64_t v) {
  char buf[17];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  static_cast<void>(ec);  // 16 hex digits always fit
  return std::string(buf, end);
}

}  // namespace

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// ---------------------------------------------------------------- HttpHeaders

std::optional<std::string_view> HttpHeaders::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (equals_ignoring_case(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void HttpHeaders::set(std::string_view name, std::string value) {
  erase(name);
  add(name, std::move(value));
}

void HttpHeaders::add(std::string_view name, std::string value) {
  fields_.emplace_back(std::string(name), std::move(value));
}

void HttpHeaders::erase(std::string_view name) {
  std::erase_if(fields_, [&](const auto& field) { return equals_ignoring_case(field.first, name); });
}

// ------------------------------------------------------------------ responses

HttpResponse http_text(int status, std::string body, std::string content_type) {
  HttpResponse res;
  res.status = status;
  res.headers.set("Content-Type", std::move(content_type));
  res.body = std::move(body);
  return res;
}

HttpResponse http_json(int status, std::string json) {
  return http_text(status, std::move(json), "application/json");
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

HttpResponse http_error(const Status& status) { return http_error(http_status_for(status.code()), status); }

HttpResponse http_error(int http_status, const Status& status) {
  assert(!status.is_ok());
  HttpResponse res = http_json(http_status, "{\"code\":" + json_quote(error_code_name(status.code())) +
                                                ",\"message\":" + json_quote(status.message()) + "}");
  if (http_status == 401) res.headers.set("WWW-Authenticate", "Bearer");
  if (status.retry_after_ms() > 0)
    res.headers.set("Retry-After", std::to_string((status.retry_after_ms() + 999) / 1000));
  return res;
}

std::unique_ptr<HttpBodySink> http_answer_later(std::function<void(HttpRespond)> answer) {
  return std::make_unique<AnswerLater>(std::move(answer));
}

// ----------------------------------------------------------------- HttpRoutes

Status HttpRoutes::add(HttpRoute route) {
  if (route.path.empty() || route.path.front() != '/') {
    return invalid_argument("An HTTP route's path must start with '/' (got \"" + route.path + "\").");
  }
  if (!route.handler) return invalid_argument("The HTTP route " + route.path + " has no handler.");
  for (const HttpRoute& r : routes_) {
    if (r.method == route.method && r.path == route.path && r.prefix == route.prefix) {
      return already_exists("An HTTP route for " +
                            (route.method.empty() ? std::string("any method") : route.method) + " " +
                            route.path + (route.prefix ? "…" : "") + " is already registered.");
    }
  }
  // Most specific first: exact paths, then prefixes longest first; a route
  // for one method before a route for any.
  auto before = [](const HttpRoute& a, const HttpRoute& b) {
    if (a.prefix != b.prefix) return !a.prefix;
    if (a.prefix && a.path.size() != b.path.size()) return a.path.size() > b.path.size();
    return !a.method.empty() && b.method.empty();
  };
  routes_.insert(std::upper_bound(routes_.begin(), routes_.end(), route, before), std::move(route));
  return Status::ok();
}

HttpRoutes::Match HttpRoutes::match(std::string_view method, std::string_view path) const {
  Match out;
  std::vector<std::string> allowed;
  for (const HttpRoute& r : routes_) {
    const bool path_matches = r.prefix ? path.substr(0, r.path.size()) == r.path : path == r.path;
    if (!path_matches) continue;
    if (r.method.empty() || r.method == method || (method == "HEAD" && r.method == "GET")) {
      out.route = &r;
      return out;
    }
    allowed.push_back(r.method);
    if (r.method == "GET") allowed.push_back("HEAD");
  }
  if (allowed.empty()) {
    out.refusal = http_error(not_found("Nothing is served at " + std::string(path) +
                                       "; check the address (the WebSocket API is at /v1/ws)."));
    return out;
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  std::string list;
  for (const auto& m : allowed) list += (list.empty() ? "" : ", ") + m;
  out.refusal =
      http_error(405, Status(v1::ERROR_CODE_UNIMPLEMENTED, std::string(path) + " does not answer " +
                                                               std::string(method) + "; use " + list + "."));
  out.refusal.headers.set("Allow", list);
  return out;
}

// ---------------------------------------------------------------------- Range

HttpResponse http_serve_range(const HttpRequest& request, std::shared_ptr<HttpRandomAccessSource> source,
                              std::string content_type, std::string_view validator) {
  const uint64_t size = source->size();
  RangeChoice choice;
  if (auto range = request.headers.get("Range")) {
    auto if_range = request.headers.get("If-Range");
    const bool current = !if_range || (!validator.empty() && trim(*if_range) == validator);
    if (current) choice = choose_range(*range, size);
  }
  HttpResponse res;
  switch (choice.kind) {
    case RangeChoice::Kind::kUnsatisfiable:
      res =
          http_error(416, Status(v1::ERROR_CODE_OUT_OF_RANGE,
                                 "The requested range is outside the content, which is " +
                                     std::to_string(size) + " bytes long; ask for bytes 0 to " +
                                     (size == 0 ? std::string("the end") : std::to_string(size - 1)) + "."));
      res.headers.set("Content-Range", "bytes */" + std::to_string(size));
      break;
    case RangeChoice::Kind::kPart:
      res.status = 206;
      res.headers.set("Content-Type", std::move(content_type));
      res.headers.set("Content-Range", "bytes " + std::to_string(choice.first) + "-" +
                                           std::to_string(choice.first + choice.length - 1) + "/" +
                                           std::to_string(size));
      res.source = std::make_unique<RangeSource>(std::move(source), choice.first, choice.length);
      res.source_length = choice.length;
      break;
    case RangeChoice::Kind::kWhole:
      res.status = 200;
      res.headers.set("Content-Type", std::move(content_type));
      res.source = std::make_unique<RangeSource>(std::move(source), 0, size);
      res.source_length = size;
      break;
  }
  res.headers.set("Accept-Ranges", "bytes");
  return res;
}

// --------------------------------------------------------------- static files

std::string_view content_type_for(std::string_view filename) {
  struct Type {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".pdf", "application/pdf"},
      {".ics", "text/calendar; charset=utf-8"},
  };
  const size_t slash = filename.rfind('/');
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  const size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  const std::string_view ext = filename.substr(dot);
  for (const Type& t : kTypes) {
    if (equals_ignoring_case(t.ext, ext)) return t.type;
  }
  return "application/octet-stream";
}

bool is_content_hashed_asset(std::string_view relative_path) {
  constexpr std::string_view kFolder = "assets/";
  if (relative_path.substr(0, kFolder.size()) != kFolder) return false;
  std::string_view name = relative_path.substr(relative_path.rfind('/') + 1);
  name = name.substr(0, name.find('.'));  // the stem: index-BxR4q2aT of index-BxR4q2aT.js.map
  auto hash_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  // The hash's alphabet holds '-' too: try each '-' that leaves a name before it.
  for (size_t dash = name.find('-', 1); dash != std::string_view::npos; dash = name.find('-', dash + 1)) {
    const std::string_view hash = name.substr(dash + 1);
    if (hash.size() < 8 || !std::all_of(hash.begin(), hash.end(), hash_char)) continue;
    if (std::any_of(hash.begin(), hash.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }))
      return true;
  }
  return false;
}

namespace {

class StaticFiles {
 public:
  StaticFiles(std::string prefix, std::filesystem::path root)
      : prefix_(std::move(prefix)), root_(std::move(root)) {}

  HttpResponse serve(const HttpRequest& req) const {
    HttpResponse res = serve_file(req);
    res.headers.set("Content-Security-Policy", std::string(kStaticContentSecurityPolicy));
    res.headers.set("X-Content-Type-Options", "nosniff");
    res.headers.set("Referrer-Policy", "no-referrer");
    res.headers.set("X-Frame-Options", "DENY");
    return res;
  }

 private:
  HttpResponse serve_file(const HttpRequest& req) const {
    assert(req.path.compare(0, prefix_.size(), prefix_) == 0);
    auto decoded = percent_decode(std::string_view(req.path).substr(prefix_.size()));
    if (!decoded) return http_error(invalid_argument("The path has a malformed %-escape; encode it again."));
    std::filesystem::path rel;
    std::string rel_text;  // rel, '/'-separated
    std::string_view rest = *decoded;
    while (!rest.empty()) {
      const size_t slash = rest.find('/');
      const std::string_view segment = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      if (segment.empty() || segment == ".") continue;
      if (segment == "..") return http_error(invalid_argument("The path may not go up a folder ('..')."));
      if (segment.find('\\') != std::string_view::npos) {
        return http_error(invalid_argument("The path may not contain a backslash."));
      }
      rel /= std::string(segment);
      rel_text += (rel_text.empty() ? "" : "/") + std::string(segment);
    }
    std::filesystem::path file = root_ / rel;
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
      if (req.path.back() != '/') {
        HttpResponse res = http_text(308, "See " + req.path + "/\n");
        res.headers.set("Location", req.path + "/" + (req.query.empty() ? "" : "?" + req.query));
        return res;
      }
      file /= "index.html";
      rel_text += (rel_text.empty() ? "" : "/") + std::string("index.html");
    }
    auto missing = [&] { return http_error(not_found("There is no file at " + req.path + ".")); };
    // Links may point anywhere; only what resolves inside the folder is served.
    const std::filesystem::path real = std::filesystem::canonical(file, ec);
    if (ec) return missing();
    auto [root_end, real_it] = std::mismatch(root_.begin(), root_.end(), real.begin(), real.end());
    if (root_end != root_.end()) return missing();

    const int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return missing();
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return missing();
    }
    auto source = std::make_shared<FileSource>(fd, static_cast<uint64_t>(st.st_size));
    const uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull +
                              static_cast<uint64_t>(st.st_mtim.tv_nsec);
    const std::string etag = "\"" + hex_of(static_cast<uint64_t>(st.st_size)) + "-" + hex_of(mtime_ns) + "\"";
    const std::string last_modified = http_date(st.st_mtim.tv_sec);

    bool not_modified = false;
    if (auto inm = req.headers.get("If-None-Match")) {
      not_modified = etag_listed(*inm, etag);
    } else if (auto ims = req.headers.get("If-Modified-Since")) {
      auto since = parse_http_date(*ims);
      not_modified = since && *since >= st.st_mtim.tv_sec;
    }
    HttpResponse res;
    if (not_modified) {
      res.status = 304;
    } else {
      res = http_serve_range(req, std::move(source), std::string(content_type_for(real.filename().string())),
                             etag);
    }
    res.headers.set("ETag", etag);
    res.headers.set("Last-Modified", last_modified);
    // A hashed asset's name changes with its content, so a browser may keep
    // it; anything else (index.html, which names the current assets) is
    // checked against its ETag each time.
    res.headers.set("Cache-Control",
                    is_content_hashed_asset(rel_text) ? "public, max-age=31536000, immutable" : "no-cache");
    return res;
  }

  std::string prefix_;
  std::filesystem::path root_;  // canonical
};

}  // namespace

Result<HttpRoute> static_files_route(std::string url_prefix, const std::filesystem::path& folder) {
  if (url_prefix.empty() || url_prefix.front() != '/' || url_prefix.back() != '/') {
    return invalid_argument("The URL prefix for static files must start and end with '/' (got \"" +
                            url_prefix + "\").");
  }
  std::error_code ec;
  const std::filesystem::path root = std::filesystem::canonical(folder, ec);
  if (ec || !std::filesystem::is_directory(root, ec)) {
    return invalid_argument("The web root " + folder.string() +
                            " is not a folder; give --web-root an existing folder.");
  }
  HttpRoute route;
  route.method = "GET";
  route.path = url_prefix;
  route.prefix = true;
  route.access = HttpAccess::kAnyone;
  route.max_body_bytes = 0;
  auto files = std::make_shared<const StaticFiles>(std::move(url_prefix), root);
  route.handler = [files](const HttpRequest& req) -> HttpHandlerResult { return files->serve(req); };
  return route;
}

}  // namespace preceptor::api
