// The documents module: resumable uploads over HTTP (POST
// /v1/mentorships/<id>/uploads, PATCH/HEAD/DELETE /v1/uploads/<id>),
// downloads (GET/HEAD /v1/documents/<id>), and GetDocument on the
// WebSocket. The rules are in documents.h; the protocol in docs/protocol.md
// "Documents".
#include <charconv>
#include <memory>
#include <optional>
#include <string>

#include "server/services/documents.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::HttpHandlerResult;
using api::HttpRequest;
using api::HttpResponse;
using api::Reply;

constexpr std::string_view kMentorshipsPrefix = "/v1/mentorships/";
constexpr std::string_view kUploadsSuffix = "/uploads";
constexpr std::string_view kUploadsPrefix = "/v1/uploads/";
constexpr std::string_view kDocumentsPrefix = "/v1/documents/";

// A whole decimal number, nothing else.
std::optional<uint64_t> parse_id(std::string_view digits) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> header_number(const HttpRequest& req, std::string_view name) {
  auto value = req.headers.get(name);
  if (!value) return std::nullopt;
  std::string_view v = *value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return parse_id(v);
}

// "%XX" decoded; nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// The HTTP answer to a refusal of the documents service (docs/protocol.md,
// "Documents"): 413 for a length past the limit or what is left, 507 past
// the quota, 415 for content of a refused type, 409 for the state of the
// upload or the mentorship; otherwise as every HTTP error.
HttpResponse refusal(const Status& why) {
  if (why.code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED && why.field() == "Upload-Length")
    return api::http_error(413, why);
  if (why.code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED && why.field() == "quota")
    return api::http_error(507, why);
  if (why.code() == v1::ERROR_CODE_INVALID_ARGUMENT && why.field() == "content")
    return api::http_error(415, why);
  if (why.code() == v1::ERROR_CODE_FAILED_PRECONDITION) return api::http_error(409, why);
  return api::http_error(why);
}

std::string document_json(const v1::Document& d) {
  return "{\"document\":{\"id\":\"" + std::to_string(d.id()) + "\",\"mentorship_id\":\"" +
         std::to_string(d.mentorship_id()) + "\",\"name\":" + api::json_quote(d.name()) +
         ",\"size\":" + std::to_string(d.size()) + ",\"content_type\":" + api::json_quote(d.content_type()) +
         ",\"sha256\":" + api::json_quote(d.sha256()) + ",\"created_ms\":" + std::to_string(d.created_ms()) +
         "}}";
}

HttpResponse completed(const v1::Document& d) {
  HttpResponse res = api::http_json(201, document_json(d));
  res.headers.set("Upload-Offset", std::to_string(d.size()));
  res.headers.set("Location", std::string(kDocumentsPrefix) + std::to_string(d.id()));
  return res;
}

// `Content-Disposition: attachment` with the name: an ASCII fallback for
// old clients (anything else, quotes and backslashes as '_') and the exact
// UTF-8 name as RFC 5987/6266 filename*.
std::string content_disposition(std::string_view name) {
  std::string ascii;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x80) {
      // One '_' per character: skip its continuation bytes.
      while (i + 1 < name.size() && (static_cast<unsigned char>(name[i + 1]) & 0xC0) == 0x80) ++i;
      ascii.push_back('_');
    } else if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '%') {
      ascii.push_back('_');
    } else {
      ascii.push_back(static_cast<char>(c));
    }
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    const bool attr_char =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (attr_char) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 0xf]);
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

// A complete document's bytes, for http_serve_range (on the connection's strand).
class DocumentSource final : public api::HttpRandomAccessSource {
 public:
  DocumentSource(uint64_t size, std::unique_ptr<storage::BlobReader> reader)
      : size_(size), reader_(std::move(reader)) {}
  uint64_t size() const override { return size_; }
  Result<size_t> read_at(uint64_t offset, char* out, size_t max) override {
    if (offset >= size_) return size_t{0};
    return reader_->read_at(offset, out, static_cast<size_t>(std::min<uint64_t>(max, size_ - offset)));
  }

 private:
  uint64_t size_;
  std::unique_ptr<storage::BlobReader> reader_;
};

// A PATCH body, to the service's UploadBody.
class UploadSink final : public api::HttpBodySink {
 public:
  explicit UploadSink(std::shared_ptr<UploadBody> body) : body_(std::move(body)) {}
  ~UploadSink() override { body_->cut(); }  // no-op once finished or cut

  Status on_chunk(std::string_view bytes) override { return body_->write(bytes); }
  bool wait_before_next(api::HttpResume resume) override { return body_->wait_if_full(std::move(resume)); }
  HttpResponse refusal(const Status& why) override { return services::refusal(why); }
  void on_end(api::HttpRespond respond) override {
    body_->finish([respond](Result<UploadOutcome> outcome) {
      if (!outcome) return respond(services::refusal(outcome.status()));
      if (outcome->document) return respond(completed(*outcome->document));
      HttpResponse res;
      res.status = 204;
      res.headers.set("Upload-Offset", std::to_string(outcome->offset));
      respond(std::move(res));
    });
  }
  void on_abort(const Status&) override { body_->cut(); }

 private:
  std::shared_ptr<UploadBody> body_;
};

class DocumentsModule final : public api::Module {
 public:
  explicit DocumentsModule(Core& core) : documents_(core) {}
  std::string_view name() const override { return "documents"; }

  void add_requests(api::Router& router) override {
    // Either member; the service answers NOT_FOUND to anyone else and
    // PERMISSION_DENIED to directors and admins.
    router.handle_now<v1::GetDocument, v1::GetDocumentResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::GetDocument& req) -> Result<v1::GetDocumentResult> {
          auto doc = documents_.document(caller.user(), req.document_id());
          if (!doc) return doc.status();
          v1::GetDocumentResult result;
          *result.mutable_document() = std::move(*doc);
          return result;
        });
  }

  Status add_http_routes(api::HttpRoutes& routes) override {
    PRECEPTOR_RETURN_IF_ERROR(routes.add(api::HttpRoute{
        .method = "POST",
        .path = std::string(kMentorshipsPrefix),
        .prefix = true,
        .access = api::HttpAccess::kSignedIn,
        .handler = [this](const HttpRequest& req) -> HttpHandlerResult { return start(req); }}));
    PRECEPTOR_RETURN_IF_ERROR(routes.add(api::HttpRoute{
        .method = "PATCH",
        .path = std::string(kUploadsPrefix),
        .prefix = true,
        .access = api::HttpAccess::kSignedIn,
        .max_body_bytes = documents_.options().max_upload_bytes,
        .handler = [this](const HttpRequest& req) -> HttpHandlerResult { return append(req); }}));
    PRECEPTOR_RETURN_IF_ERROR(routes.add(api::HttpRoute{
        .method = "HEAD",
        .path = std::string(kUploadsPrefix),
        .prefix = true,
        .access = api::HttpAccess::kSignedIn,
        .handler = [this](const HttpRequest& req) -> HttpHandlerResult { return where(req); }}));
    PRECEPTOR_RETURN_IF_ERROR(routes.add(api::HttpRoute{
        .method = "DELETE",
        .path = std::string(kUploadsPrefix),
        .prefix = true,
        .access = api::HttpAccess::kSignedIn,
        .handler = [this](const HttpRequest& req) -> HttpHandlerResult { return abandon(req); }}));
    return routes.add(api::HttpRoute{
        .method = "GET",
        .path = std::string(kDocumentsPrefix),
        .prefix = true,
        .access = api::HttpAccess::kSignedIn,
        .handler = [this](const HttpRequest& req) -> HttpHandlerResult { return download(req); }});
  }

  void run_timed_work() override { documents_.run_timed_work(); }

 private:
  // POST /v1/mentorships/<id>/uploads
  HttpHandlerResult start(const HttpRequest& req) {
    std::string_view rest = std::string_view(req.path).substr(kMentorshipsPrefix.size());
    if (!rest.ends_with(kUploadsSuffix)) {
      return api::http_error(not_found("Nothing is served at " + req.path +
                                       "; uploads start at POST /v1/mentorships/<id>/uploads."));
    }
    const auto mentorship_id = parse_id(rest.substr(0, rest.size() - kUploadsSuffix.size()));
    if (!mentorship_id) {
      return api::http_error(
          not_found("No such mentorship; uploads start at POST /v1/mentorships/<id>/uploads."));
    }
    const auto length = header_number(req, "Upload-Length");
    if (!length) {
      return api::http_error(invalid_argument(
          "Say how large the file is: Upload-Length: <bytes>, a whole number.", "Upload-Length"));
    }
    const auto raw_name = req.headers.get("Upload-Name");
    std::optional<std::string> name;
    if (raw_name) name = percent_decode(*raw_name);
    if (!name) {
      return api::http_error(invalid_argument(
          "Name the file: Upload-Name: <file name, percent-encoded UTF-8> (e.g. CV%20draft.pdf).",
          "Upload-Name"));
    }
    const v1::User actor = req.session->user;
    return api::http_answer_later([this, actor, mentorship_id, length, name](api::HttpRespond respond) {
      documents_.start_upload(
          actor, *mentorship_id, *length, *name, [respond](Result<v1::DocumentRecord> rec) {
            if (!rec) return respond(refusal(rec.status()));
            const std::string id = std::to_string(rec->document().id());
            HttpResponse res = api::http_json(
                201, "{\"upload_id\":\"" + id +
                         "\",\"offset\":0,\"expires_ms\":" + std::to_string(rec->expires_ms()) + "}");
            res.headers.set("Location", std::string(kUploadsPrefix) + id);
            res.headers.set("Upload-Offset", "0");
            res.headers.set("Upload-Length", std::to_string(rec->declared_size()));
            respond(std::move(res));
          });
    });
  }

  std::optional<uint64_t> upload_id(const HttpRequest& req) {
    return parse_id(std::string_view(req.path).substr(kUploadsPrefix.size()));
  }

  // A refusal that concerns the offset carries the upload's, to resume from.
  HttpResponse refusal_with_offset(const Status& why, const v1::User& actor, uint64_t id) {
    HttpResponse res = refusal(why);
    if (why.code() == v1::ERROR_CODE_ABORTED) {
      auto rec = documents_.upload(actor, id);
      if (rec) {
        res.headers.set("Upload-Offset",
                        std::to_string(rec->state() == v1::DOCUMENT_STATE_COMPLETE ? rec->document().size()
                                                                                   : rec->durable_size()));
      }
    }
    return res;
  }

  // PATCH /v1/uploads/<id>
  HttpHandlerResult append(const HttpRequest& req) {
    const auto id = upload_id(req);
    if (!id) return api::http_error(not_found("No such upload; continue one at PATCH /v1/uploads/<id>."));
    const auto offset = header_number(req, "Upload-Offset");
    if (!offset) {
      return api::http_error(
          invalid_argument("Say where these bytes go: Upload-Offset: <the upload's offset> (HEAD tells it).",
                           "Upload-Offset"));
    }
    const v1::User& actor = req.session->user;
    auto begun = documents_.begin_append(actor, *id, *offset, req.content_length);
    if (!begun) return refusal_with_offset(begun.status(), actor, *id);
    if (begun->complete) return completed(*begun->complete);  // a client whose 201 was lost
    return std::unique_ptr<api::HttpBodySink>(std::make_unique<UploadSink>(std::move(begun->body)));
  }

  // HEAD /v1/uploads/<id>
  HttpHandlerResult where(const HttpRequest& req) {
    const auto id = upload_id(req);
    if (!id) return api::http_error(not_found("No such upload; ask HEAD /v1/uploads/<id>."));
    auto rec = documents_.upload(req.session->user, *id);
    if (!rec) return refusal(rec.status());
    HttpResponse res;
    res.status = 200;
    const bool complete = rec->state() == v1::DOCUMENT_STATE_COMPLETE;
    res.headers.set("Upload-Offset", std::to_string(complete ? rec->document().size() : rec->durable_size()));
    res.headers.set("Upload-Length", std::to_string(rec->declared_size()));
    if (complete) {
      res.headers.set("Location", std::string(kDocumentsPrefix) + std::to_string(*id));
    } else {
      res.headers.set("Upload-Expires-Ms", std::to_string(rec->expires_ms()));
    }
    return res;
  }

  // DELETE /v1/uploads/<id>
  HttpHandlerResult abandon(const HttpRequest& req) {
    const auto id = upload_id(req);
    if (!id) return api::http_error(not_found("No such upload; abandon one at DELETE /v1/uploads/<id>."));
    const v1::User actor = req.session->user;
    return api::http_answer_later([this, actor, id](api::HttpRespond respond) {
      documents_.abandon(actor, *id, [respond](Result<bool> done) {
        if (!done) return respond(refusal(done.status()));
        HttpResponse res;
        res.status = 204;
        respond(std::move(res));
      });
    });
  }

  // GET (and HEAD) /v1/documents/<id>
  HttpHandlerResult download(const HttpRequest& req) {
    const auto id = parse_id(std::string_view(req.path).substr(kDocumentsPrefix.size()));
    if (!id) return api::http_error(not_found("No such document; download one at GET /v1/documents/<id>."));
    auto doc = documents_.document(req.session->user, *id);
    if (!doc) return refusal(doc.status());
    const std::string etag = "\"" + doc->sha256() + "\"";
    HttpResponse res;
    const auto if_none_match = req.headers.get("If-None-Match");
    if (if_none_match && (*if_none_match == etag || *if_none_match == "*")) {
      res.status = 304;
    } else {
      res = api::http_serve_range(req, std::make_shared<DocumentSource>(doc->size(), documents_.reader(*id)),
                                  doc->content_type(), etag);
    }
    res.headers.set("ETag", etag);
    res.headers.set("Content-Disposition", content_disposition(doc->name()));
    res.headers.set("X-Content-Type-Options", "nosniff");
    // Private: kept by no cache on the way, nor by the browser.
    res.headers.set("Cache-Control", "private, no-store");
    return res;
  }

  Documents documents_;
};

}  // namespace

std::unique_ptr<api::Module> documents_module(Core& core) { return std::make_unique<DocumentsModule>(core); }

}  // namespace preceptor::services
