#include "preceptor/client/documents.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <random>
#include <thread>

#include "preceptor/client/http_transport.h"
#include "preceptor/client/server_url.h"

namespace preceptor::client {

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// SHA-256 of bytes given in order.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void add(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, digest, &n);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      out.push_back(kHex[digest[i] >> 4]);
      out.push_back(kHex[digest[i] & 0xf]);
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// A JSON object's fields, or nullopt when `body` is not one.
std::optional<google::protobuf::Struct> json_object(const std::string& body) {
  google::protobuf::Struct out;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(body, &out, options).ok()) return std::nullopt;
  return out;
}

std::string json_string(const google::protobuf::Struct& o, const std::string& key) {
  auto it = o.fields().find(key);
  if (it == o.fields().end()) return {};
  if (it->second.has_string_value()) return it->second.string_value();
  if (it->second.has_number_value()) return std::to_string(static_cast<uint64_t>(it->second.number_value()));
  return {};
}

// The server's refusal as a Status: its JSON `code` and `message` when it
// sent them, else a sentence made from the HTTP status.
Status status_of(const HttpIn& in) {
  ErrorCode code = v1::ERROR_CODE_UNKNOWN;
  switch (in.status) {
    case 400:
      code = v1::ERROR_CODE_INVALID_ARGUMENT;
      break;
    case 401:
      code = v1::ERROR_CODE_UNAUTHENTICATED;
      break;
    case 403:
      code = v1::ERROR_CODE_PERMISSION_DENIED;
      break;
    case 404:
      code = v1::ERROR_CODE_NOT_FOUND;
      break;
    case 405:
    case 501:
      code = v1::ERROR_CODE_UNIMPLEMENTED;
      break;
    case 409:
      code = v1::ERROR_CODE_ABORTED;
      break;
    case 413:
    case 429:
      code = v1::ERROR_CODE_RESOURCE_EXHAUSTED;
      break;
    case 415:
      code = v1::ERROR_CODE_INVALID_ARGUMENT;
      break;
    case 416:
      code = v1::ERROR_CODE_OUT_OF_RANGE;
      break;
    case 503:
      code = v1::ERROR_CODE_UNAVAILABLE;
      break;
    case 504:
      code = v1::ERROR_CODE_DEADLINE_EXCEEDED;
      break;
    default:
      code = in.status >= 500 ? v1::ERROR_CODE_INTERNAL : v1::ERROR_CODE_UNKNOWN;
  }
  std::string message = "The server answered HTTP " + std::to_string(in.status) + ".";
  if (auto o = json_object(in.body)) {
    v1::ErrorCode named;
    if (v1::ErrorCode_Parse("ERROR_CODE_" + json_string(*o, "code"), &named) &&
        named != v1::ERROR_CODE_UNSPECIFIED) {
      code = named;
    }
    if (std::string m = json_string(*o, "message"); !m.empty()) message = std::move(m);
  }
  int64_t retry_after_ms = 0;
  if (auto after = http_field(in.fields, "Retry-After")) {
    if (auto secs = parse_u64(*after)) retry_after_ms = static_cast<int64_t>(*secs) * 1000;
  }
  return Status(code, std::move(message), in.status == 415 ? "content" : "", retry_after_ms);
}

bool retryable_status(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

using Clock = std::chrono::steady_clock;

}  // namespace

std::string content_disposition_file_name(std::string_view header) {
  std::string plain, extended;
  size_t i = 0;
  while (i < header.size()) {
    size_t semi = header.find(';', i);
    // A quoted value may hold ';'.
    const size_t eq = header.find('=', i);
    if (eq != std::string_view::npos && (semi == std::string_view::npos || eq < semi)) {
      size_t v = eq + 1;
      while (v < header.size() && header[v] == ' ') ++v;
      if (v < header.size() && header[v] == '"') {
        const size_t close = header.find('"', v + 1);
        semi = close == std::string_view::npos ? std::string_view::npos : header.find(';', close);
      }
    }
    const std::string_view part =
        trim(header.substr(i, semi == std::string_view::npos ? header.npos : semi - i));
    i = semi == std::string_view::npos ? header.size() : semi + 1;
    const size_t at = part.find('=');
    if (at == std::string_view::npos) continue;
    const std::string key = lower(std::string(trim(part.substr(0, at))));
    std::string_view value = trim(part.substr(at + 1));
    if (key == "filename*") {
      // UTF-8''name%20with%20spaces
      const size_t quote = value.find("''");
      if (quote != std::string_view::npos) extended = percent_decode(value.substr(quote + 2));
    } else if (key == "filename") {
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      plain = std::string(value);
    }
  }
  std::string name = extended.empty() ? plain : extended;
  if (const size_t slash = name.find_last_of("/\\"); slash != std::string::npos)
    name = name.substr(slash + 1);
  name.erase(std::remove_if(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }),
             name.end());
  if (name == "." || name == "..") name.clear();
  return name;
}

Documents::Documents(DocumentsOptions options) : options_(std::move(options)) {
  auto address = parse_http_url(options_.url);
  if (!address) {
    valid_ = address.status();
    return;
  }
  prefix_ = address->prefix;
  HttpTransportOptions t;
  t.connect_timeout = options_.connect_timeout;
  t.io_timeout = options_.io_timeout;
  t.ca_file = options_.ca_file;
  t.verify_peer = options_.verify_peer;
  http_ = make_http_transport(*address, t);
}

Documents::~Documents() = default;

Status Documents::valid() const { return valid_; }

// ---- uploads ----

// The bytes of one upload on their way: the source, the piece in flight
// (the only bytes held), and the hash of everything read.
struct Documents::Upload {
  Upload(std::istream& source, uint64_t length) : in(source), size(length) {}

  std::istream& in;
  uint64_t size = 0;
  uint64_t piece_start = 0;  // the offset of piece[0]
  std::string piece;         // bytes [piece_start, piece_start + piece.size())
  uint64_t read_upto = 0;    // the source's position
  uint64_t hashed_upto = 0;  // bytes hashed so far (a prefix)
  Sha256 sha;

  // Makes `piece` hold exactly [offset, offset + len).
  Status prepare(uint64_t offset, uint64_t len) {
    const uint64_t piece_end = piece_start + piece.size();
    if (offset < piece_start || offset > piece_end) {
      // The server went back before (or past) what is held: read again from
      // there, if the source can.
      in.clear();
      in.seekg(static_cast<std::streamoff>(offset));
      if (!in) {
        return Status(
            v1::ERROR_CODE_DATA_LOSS,
            "The server asked for the upload's bytes from " + std::to_string(offset) +
                " on, which this stream can no longer give (it cannot seek); start the upload again.");
      }
      piece.clear();
      piece_start = offset;
      read_upto = offset;
    } else {
      piece.erase(0, static_cast<size_t>(offset - piece_start));
      piece_start = offset;
    }
    if (piece.size() > len) piece.resize(static_cast<size_t>(len));
    if (piece.size() < len) {
      const size_t had = piece.size();
      piece.resize(static_cast<size_t>(len));
      // read_upto == piece_start + had here.
      in.read(piece.data() + had, static_cast<std::streamsize>(len - had));
      const auto got = static_cast<uint64_t>(in.gcount());
      if (got != len - had) {
        return Status(v1::ERROR_CODE_DATA_LOSS,
                      "The file ended after " + std::to_string(read_upto + got) + " of " +
                          std::to_string(size) +
                          " bytes; it changed while it was being uploaded. Start the upload again.");
      }
      // Hash what is new.
      const uint64_t from = read_upto, to = read_upto + got;
      if (to > hashed_upto) {
        const uint64_t skip = hashed_upto > from ? hashed_upto - from : 0;
        sha.add(std::string_view(piece.data() + had + skip, static_cast<size_t>(got - skip)));
        hashed_upto = to;
      }
      read_upto = to;
    }
    return Status::ok();
  }
};

Result<v1::Document> Documents::upload(uint64_t mentorship_id, const std::filesystem::path& file,
                                       std::string name, ProgressFn progress) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) {
    return not_found("There is no file " + file.string() + ".", "file");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return invalid_argument(file.string() + " is not a regular file.", "file");
  }
  const uint64_t size = std::filesystem::file_size(file, ec);
  if (ec)
    return invalid_argument("Could not read the size of " + file.string() + ": " + ec.message() + ".",
                            "file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return invalid_argument("Could not open " + file.string() + " for reading.", "file");
  if (name.empty()) name = file.filename().string();
  return upload(mentorship_id, in, size, std::move(name), std::move(progress));
}

Result<v1::Document> Documents::upload(uint64_t mentorship_id, std::istream& in, uint64_t size,
                                       std::string name, ProgressFn progress) {
  if (!valid_) return valid_;
  if (mentorship_id == 0) return invalid_argument("Give the mentorship to upload to.", "mentorship_id");
  if (name.empty()) return invalid_argument("Give the document a name.", "name");
  const std::string auth = "Bearer " + options_.token;

  TransferProgress shown;
  shown.total = size;
  auto report = [&](uint64_t durable) {
    if (durable <= shown.done) return;
    shown.done = durable;
    if (progress) progress(shown);
  };
  // Waits before another attempt; false once the attempts in a row are used up.
  int in_a_row = 0;
  Status last_failure;
  auto back_off = [&](const Status& why, int64_t retry_after_ms = 0) {
    last_failure = why;
    ++shown.retries;
    if (++in_a_row > options_.max_retries) return false;
    auto delay = options_.initial_backoff * (1LL << std::min(in_a_row - 1, 20));
    delay = std::min<std::chrono::milliseconds>(delay, options_.max_backoff);
    delay = std::max<std::chrono::milliseconds>(delay, std::chrono::milliseconds(retry_after_ms));
    std::this_thread::sleep_for(delay);
    return true;
  };
  auto gave_up = [&] {
    return Status(
        last_failure.code() == v1::ERROR_CODE_UNSPECIFIED ? v1::ERROR_CODE_UNAVAILABLE : last_failure.code(),
        "The upload stopped after " + std::to_string(in_a_row) + " failed attempts in a row (" +
            std::to_string(shown.done) + " of " + std::to_string(size) +
            " bytes are stored): " + last_failure.message(),
        last_failure.field(), last_failure.retry_after_ms());
  };

  // 1. Start the upload.
  HttpOut start;
  start.method = "POST";
  start.target = prefix_ + "/v1/mentorships/" + std::to_string(mentorship_id) + "/uploads";
  start.fields = {{"Authorization", auth},
                  {"Upload-Length", std::to_string(size)},
                  {"Upload-Name", percent_encode(name)}};
  std::string upload_path;
  for (;;) {
    Result<HttpIn> r = http_->exchange(start);
    if (!r) {
      // Only a request that never left is safe to send again (a second one
      // would leave the first, unused, counting against the quota).
      if (http_->last_failure() == HttpFailure::kConnect && back_off(r.status())) continue;
      return r.status();
    }
    if (retryable_status(r->status)) {
      Status why = status_of(*r);
      if (back_off(why, why.retry_after_ms())) continue;
      return gave_up();
    }
    if (r->status != 201 && r->status != 200) return status_of(*r);
    std::string id;
    if (auto o = json_object(r->body)) id = json_string(*o, "upload_id");
    if (!id.empty()) {
      upload_path = prefix_ + "/v1/uploads/" + percent_encode(id);
    } else if (auto location = http_field(r->fields, "Location"); location && location->starts_with("/")) {
      upload_path = prefix_ + *location;
    } else {
      return internal_error("The server started the upload but did not say where it is (no upload_id).");
    }
    break;
  }
  in_a_row = 0;

  // 2. Send the bytes, piece by piece, from the server's offset.
  Upload up(in, size);
  uint64_t offset = 0;
  std::chrono::milliseconds busy_waited{0};
  uint64_t piece_bytes = 64 * 1024;
  auto where_now = [&]() -> Result<std::optional<uint64_t>> {
    // HEAD: the server's offset (nullopt: ask again after a wait).
    HttpOut head;
    head.method = "HEAD";
    head.target = upload_path;
    head.fields = {{"Authorization", auth}};
    Result<HttpIn> r = http_->exchange(head);
    if (!r) {
      if (http_->last_failure() == HttpFailure::kLocal) return r.status();
      last_failure = r.status();
      return std::optional<uint64_t>();
    }
    if (r->status == 200 || r->status == 204) {
      auto at = http_field(r->fields, "Upload-Offset");
      auto value = at ? parse_u64(*at) : std::nullopt;
      if (!value || *value > size) {
        return internal_error("The server's answer about the upload has no valid Upload-Offset.");
      }
      return std::optional<uint64_t>(*value);
    }
    if (retryable_status(r->status)) {
      last_failure = status_of(*r);
      return std::optional<uint64_t>();
    }
    if (r->status == 404) {
      return not_found(
          "The server no longer has this upload (it was refused, abandoned or has expired); start it again.");
    }
    return status_of(*r);
  };
  // After a failure: wait, then learn the server's offset; false when giving up.
  auto resume = [&](Status why, int64_t retry_after_ms) -> Status {
    for (;;) {
      if (!back_off(why, retry_after_ms)) return gave_up();
      auto at = where_now();
      if (!at) return at.status();
      if (*at) {
        offset = **at;
        report(offset);
        return Status::ok();
      }
      why = last_failure;
      retry_after_ms = 0;
    }
  };

  for (;;) {
    const uint64_t len = std::min<uint64_t>(piece_bytes, size - offset);
    if (Status st = up.prepare(offset, len); !st) return st;
    HttpOut patch;
    patch.method = "PATCH";
    patch.target = upload_path;
    patch.fields = {{"Authorization", auth},
                    {"Upload-Offset", std::to_string(offset)},
                    {"Content-Type", "application/offset+octet-stream"}};
    patch.body_length = len;
    size_t sent = 0;
    patch.body = [&](char* out, size_t max) -> Result<size_t> {
      const size_t n = std::min(max, up.piece.size() - sent);
      std::copy_n(up.piece.data() + sent, n, out);
      sent += n;
      return n;
    };
    const auto began = Clock::now();
    Result<HttpIn> r = http_->exchange(patch);
    if (!r) {
      if (http_->last_failure() == HttpFailure::kLocal) return r.status();
      if (Status st = resume(r.status(), 0); !st) return st;
      continue;
    }
    if (r->status == 204 || r->status == 200) {
      auto at = http_field(r->fields, "Upload-Offset");
      auto value = at ? parse_u64(*at) : std::nullopt;
      if (!value || *value > size || *value < offset) {
        return internal_error("The server's answer to a piece of the upload has no valid Upload-Offset.");
      }
      if (*value > offset) {
        in_a_row = 0;
        // Size the next piece to take about a second at this rate.
        const double seconds = std::max(1e-3, std::chrono::duration<double>(Clock::now() - began).count());
        const auto rate = static_cast<uint64_t>(static_cast<double>(*value - offset) / seconds);
        piece_bytes = std::clamp<uint64_t>(rate, options_.min_piece_bytes,
                                           std::max(options_.min_piece_bytes, options_.max_piece_bytes));
      } else if (!back_off(internal_error("The server took none of the piece."))) {
        return gave_up();
      }
      offset = *value;
      report(offset);
      continue;
    }
    if (r->status == 201) {
      v1::GetDocumentResult wrapped;
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      if (!google::protobuf::util::JsonStringToMessage(r->body, &wrapped, options).ok() ||
          !wrapped.has_document() || wrapped.document().id() == 0) {
        return internal_error(
            "The server finished the upload but its answer does not describe the document.");
      }
      v1::Document doc = wrapped.document();
      if (doc.mentorship_id() == 0) doc.set_mentorship_id(mentorship_id);
      if (doc.size() == 0) doc.set_size(size);
      report(size);
      if (up.hashed_upto == size) {
        const std::string mine = up.sha.hex();
        if (!doc.sha256().empty() && lower(doc.sha256()) != mine) {
          return Status(v1::ERROR_CODE_DATA_LOSS,
                        "The server stored document " + std::to_string(doc.id()) + " with SHA-256 " +
                            doc.sha256() + ", but the bytes sent have " + mine + "; upload it again.");
        }
      }
      return doc;
    }
    if (r->status == 409) {
      Status why = status_of(*r);
      // FAILED_PRECONDITION (the mentorship ended): nothing to retry.
      if (why.code() != v1::ERROR_CODE_ABORTED) return why;
      if (why.retry_after_ms() > 0) {
        // Another PATCH of this upload is still sending: the server has not
        // yet noticed that the connection it came on dropped (it does within
        // half a minute). Wait for it, up to io_timeout in all, without
        // counting these waits as failures.
        if (busy_waited >= options_.io_timeout) {
          return Status(why.code(), "The server still receives an earlier piece of this upload after " +
                                        std::to_string(busy_waited.count() / 1000) + " s: " + why.message() +
                                        " Try again later.");
        }
        const auto wait = std::chrono::milliseconds(why.retry_after_ms());
        std::this_thread::sleep_for(wait);
        busy_waited += wait;
      } else if (!back_off(why)) {
        return gave_up();
      }
      // The answer says where the server is; else ask it.
      auto at = http_field(r->fields, "Upload-Offset");
      auto value = at ? parse_u64(*at) : std::nullopt;
      if (value && *value <= size && why.retry_after_ms() == 0) {
        offset = *value;
        report(offset);
        continue;
      }
      auto where = where_now();
      if (!where) return where.status();
      if (*where) {
        offset = **where;
        report(offset);
      }
      continue;
    }
    if (retryable_status(r->status)) {
      Status why = status_of(*r);
      if (Status st = resume(why, why.retry_after_ms()); !st) return st;
      continue;
    }
    return status_of(*r);
  }
}

// ---- downloads ----

Result<Downloaded> Documents::get_into(const std::string& target, std::ostream& out,
                                       std::optional<ByteRange> range, const ProgressFn& progress) {
  if (!valid_) return valid_;
  HttpOut get;
  get.method = "GET";
  get.target = target;
  get.fields = {{"Authorization", "Bearer " + options_.token}};
  if (range) {
    get.fields.emplace_back("Range", "bytes=" + std::to_string(range->first) + "-" +
                                         (range->last ? std::to_string(*range->last) : ""));
  }
  Downloaded got;
  Sha256 sha;
  TransferProgress shown;
  std::string etag;
  auto take = [&](const HttpIn& head) {
    if (head.status != 200 && head.status != 206) return false;
    got.partial = head.status == 206;
    got.content_type = http_field(head.fields, "Content-Type").value_or("");
    if (auto cd = http_field(head.fields, "Content-Disposition"))
      got.file_name = content_disposition_file_name(*cd);
    if (auto e = http_field(head.fields, "ETag")) {
      std::string_view v = trim(*e);
      if (v.starts_with("W/")) v.remove_prefix(2);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      etag = lower(std::string(v));
    }
    if (got.partial) {
      // Content-Range: bytes first-last/total
      if (auto cr = http_field(head.fields, "Content-Range")) {
        if (const size_t slash = cr->rfind('/'); slash != std::string::npos) {
          got.total = parse_u64(std::string_view(*cr).substr(slash + 1)).value_or(0);
        }
      }
      if (auto len = http_field(head.fields, "Content-Length")) shown.total = parse_u64(*len).value_or(0);
    } else if (auto len = http_field(head.fields, "Content-Length")) {
      got.total = parse_u64(*len).value_or(0);
      shown.total = got.total;
    }
    return true;
  };
  auto write = [&](std::string_view piece) -> Status {
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    if (!out) return Status(v1::ERROR_CODE_INTERNAL, "Could not write the download (disk full?).");
    sha.add(piece);
    got.bytes += piece.size();
    shown.done = got.bytes;
    if (progress) progress(shown);
    return Status::ok();
  };
  Result<HttpIn> r = http_->exchange(get, take, write);
  if (!r) return r.status();
  if (r->status != 200 && r->status != 206) return status_of(*r);
  if (shown.total != 0 && got.bytes != shown.total) {
    return unavailable("The download ended after " + std::to_string(got.bytes) + " of " +
                       std::to_string(shown.total) + " bytes; try again.");
  }
  got.sha256 = sha.hex();
  if (!got.partial && etag.size() == 64 && etag != got.sha256) {
    return Status(v1::ERROR_CODE_DATA_LOSS,
                  "The downloaded bytes do not match the server's SHA-256 (" + etag + "); try again.");
  }
  return got;
}

Result<Downloaded> Documents::get_to_path(const std::string& target, const std::filesystem::path& out,
                                          std::optional<ByteRange> range, const ProgressFn& progress) {
  if (!valid_) return valid_;
  const std::filesystem::path folder = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
  const std::filesystem::path temp =
      folder / ("." + out.filename().string() + ".part-" + std::to_string(::getpid()));
  Result<Downloaded> got = internal_error("not run");
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) return invalid_argument("Could not write in " + folder.string() + ".", "out");
    got = get_into(target, file, range, progress);
    file.close();
    if (got && !file) got = internal_error("Could not write " + out.string() + " (disk full?).");
  }
  std::error_code ec;
  if (!got) {
    std::filesystem::remove(temp, ec);
    return got;
  }
  std::filesystem::rename(temp, out, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return invalid_argument("Could not save the download as " + out.string() + ": " + ec.message() + ".",
                            "out");
  }
  return got;
}

Result<Downloaded> Documents::download(uint64_t document_id, const std::filesystem::path& out,
                                       std::optional<ByteRange> range, ProgressFn progress) {
  return get_to_path(prefix_ + "/v1/documents/" + std::to_string(document_id), out, range, progress);
}

Result<Downloaded> Documents::download(uint64_t document_id, std::ostream& out,
                                       std::optional<ByteRange> range, ProgressFn progress) {
  return get_into(prefix_ + "/v1/documents/" + std::to_string(document_id), out, range, progress);
}

Result<Downloaded> Documents::download_portfolio(uint64_t mentorship_id, const std::filesystem::path& out,
                                                 ProgressFn progress) {
  return get_to_path(prefix_ + "/v1/mentorships/" + std::to_string(mentorship_id) + "/portfolio.zip", out,
                     std::nullopt, progress);
}

Result<Downloaded> Documents::get_file(const std::string& path, const std::filesystem::path& out,
                                       std::optional<ByteRange> range, ProgressFn progress) {
  if (path.empty() || path.front() != '/') return invalid_argument("The path must start with '/'.", "path");
  return get_to_path(prefix_ + path, out, range, progress);
}

}  // namespace preceptor::client
