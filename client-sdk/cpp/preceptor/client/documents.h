#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "common/status.h"
#include "preceptor/v1/work.pb.h"

namespace preceptor::client {

class HttpTransport;
struct HttpAddress;

// Everything a Documents is told at construction. Durations are milliseconds.
struct DocumentsOptions {
  // The server: the same address the WebSocket Client is given (ws://HOST:PORT
  // talks plain HTTP to HOST:PORT; wss:// talks HTTPS), or http(s)://HOST:PORT.
  std::string url = "ws://127.0.0.1:8080";
  // The session token from Login (Client::token()), sent as
  // `Authorization: Bearer <token>`.
  std::string token;

  // An upload sends its bytes in pieces, one PATCH each, and learns after
  // each piece how much the server has made durable. The first piece is
  // small (64 KiB: the server decides the type from it at once); then each
  // piece is sized to take about a second at the rate seen so far, between
  // min_piece_bytes and max_piece_bytes. Smaller pieces: finer progress and
  // less to send again after a drop; larger: fewer round trips.
  uint64_t min_piece_bytes = 256 * 1024;
  uint64_t max_piece_bytes = 4 * 1024 * 1024;

  // After a dropped connection (or a busy server: 429, 503) an upload asks
  // the server where it stands and goes on from there (a download is not
  // retried: it fails, and nothing is left at its path). At most `max_retries` attempts in a row that move
  // nothing, waiting initial_backoff, doubled each time up to max_backoff (a server's Retry-After, when
  // longer, wins). Progress resets the count.
  int max_retries = 6;
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{8'000};

  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds io_timeout{60'000};  // each read or write, and the wait for a piece to be durable

  // https: also trust the certificates in this PEM file; verify_peer false
  // accepts any certificate (testing only).
  std::string ca_file;
  bool verify_peer = true;
};

// How far a transfer is. `done` only grows; `total` is 0 when unknown (a
// download whose size the server did not say).
struct TransferProgress {
  uint64_t done = 0;   // upload: bytes the server has made durable; download: bytes written here
  uint64_t total = 0;  // the file's size
  int retries = 0;     // attempts that failed so far (connections dropped, busy server)
};
using ProgressFn = std::function<void(const TransferProgress&)>;

// A byte range of a download: `first` to `last` inclusive; without `last`,
// to the end.
struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;
};

struct Downloaded {
  uint64_t bytes = 0;        // written
  uint64_t total = 0;        // the whole file's size (from Content-Range or Content-Length), 0 if unknown
  bool partial = false;      // a range was asked for and served (206)
  std::string content_type;  // as the server stored it
  std::string file_name;     // from Content-Disposition, reduced to a plain file name; may be empty
  std::string sha256;        // of the bytes written, lower-case hex (checked against the ETag when whole)
};

// Documents over HTTP (docs/protocol.md, "Documents"): resumable uploads to a
// mentorship, downloads of a document, and other files the server serves to
// members (the portfolio). Uses the same server address and token as the
// WebSocket Client, on its own HTTP connection.
//
// Every method blocks the calling thread until the transfer is done (or
// failed) and calls the progress callback on that thread. A server refusal
// comes back as a Status with the server's code and sentence (401
// UNAUTHENTICATED, 404 NOT_FOUND, 413 and 429 RESOURCE_EXHAUSTED, 415
// INVALID_ARGUMENT with field "content", ...). One transfer at a time per
// object; use one object per thread for parallel transfers.
class Documents {
 public:
  explicit Documents(DocumentsOptions options);
  ~Documents();
  Documents(const Documents&) = delete;
  Documents& operator=(const Documents&) = delete;

  // Checks the url; INVALID_ARGUMENT (field "url") when it is not one. Every
  // transfer fails with the same status until it is fixed.
  Status valid() const;

  // Uploads `file` to the mentorship under `name` (empty: the file's own
  // name), reading it piece by piece (never whole). `progress` is called each
  // time the server reports more bytes durable. After a dropped connection it
  // asks the server for its offset (HEAD) and resumes from there. Returns the
  // stored document; its sha256 is checked against the bytes read here
  // (DATA_LOSS when they differ).
  Result<v1::Document> upload(uint64_t mentorship_id, const std::filesystem::path& file,
                              std::string name = {}, ProgressFn progress = {});
  // The same from a stream of `size` bytes. A stream that can seek is read
  // once; one that cannot is too, since only the piece in flight is kept.
  Result<v1::Document> upload(uint64_t mentorship_id, std::istream& in, uint64_t size, std::string name,
                              ProgressFn progress = {});

  // Downloads document `document_id` (or `range` of it) into `out`: written
  // to a temporary file beside it and renamed into place only when complete
  // (an existing file is replaced then). A whole download is checked against
  // the server's SHA-256 (the ETag).
  Result<Downloaded> download(uint64_t document_id, const std::filesystem::path& out,
                              std::optional<ByteRange> range = {}, ProgressFn progress = {});
  Result<Downloaded> download(uint64_t document_id, std::ostream& out, std::optional<ByteRange> range = {},
                              ProgressFn progress = {});

  // The mentee's portfolio of a mentorship as a .zip
  // (GET /v1/mentorships/<id>/portfolio.zip), written like download().
  Result<Downloaded> download_portfolio(uint64_t mentorship_id, const std::filesystem::path& out,
                                        ProgressFn progress = {});

  // GET of any path under the server (e.g. "/v1/meetings/4.ics") with the
  // token, into `out` like download().
  Result<Downloaded> get_file(const std::string& path, const std::filesystem::path& out,
                              std::optional<ByteRange> range = {}, ProgressFn progress = {});

 private:
  struct Upload;
  Result<Downloaded> get_into(const std::string& target, std::ostream& out, std::optional<ByteRange> range,
                              const ProgressFn& progress);
  Result<Downloaded> get_to_path(const std::string& target, const std::filesystem::path& out,
                                 std::optional<ByteRange> range, const ProgressFn& progress);

  DocumentsOptions options_;
  Status valid_;
  std::string prefix_;  // the address's path prefix
  std::unique_ptr<HttpTransport> http_;
};

// Percent-encodes `s` for an Upload-Name header or a URL path segment:
// everything but unreserved ASCII (A-Z a-z 0-9 - . _ ~) as %XX.
std::string percent_encode(std::string_view s);

// The file name of a Content-Disposition value (filename*=UTF-8''... before
// filename="..."), reduced to its last path component with control
// characters removed; empty when there is none or it is "." or "..".
std::string content_disposition_file_name(std::string_view header);

}  // namespace preceptor::client
