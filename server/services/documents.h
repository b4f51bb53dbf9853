#pragma once

// Documents: files uploaded to one mentorship over HTTP (resumable uploads),
// their bytes in document_chunks, and downloads. The HTTP protocol is
// docs/protocol.md "Documents"; documents_api.cpp adapts it to this class.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/records.pb.h"
#include "preceptor/v1/work.pb.h"
#include "server/services/core.h"
#include "storage/blob_writer.h"

namespace preceptor::services {

// An unfinished upload is abandoned this long after its last byte (or its
// start), its bytes removed and its quota given back.
inline constexpr int64_t kUploadIdleMs = 24LL * 60 * 60 * 1000;
// Unfinished uploads one user may have at once.
inline constexpr size_t kMaxUnfinishedUploads = 4;
// A file name (Upload-Name, percent-decoded): 1 to this many bytes of UTF-8.
inline constexpr size_t kMaxDocumentNameBytes = 255;
// An upload body is handed to the writer thread in pieces of this size (the
// last one of a body may be smaller); each is one document_chunks value.
inline constexpr size_t kUploadPieceBytes = 256 * 1024;
// Pieces of one body waiting for the writer thread at most (in bytes);
// beyond, the connection waits before reading on (back-pressure).
inline constexpr size_t kMaxQueuedUploadBytes = 2 * kUploadPieceBytes;
// Bytes in the document_chunks memtable at most before the writer thread
// flushes them to disk and records how far each upload got.
inline constexpr uint64_t kUploadFlushBytes = 2ull << 20;
// Flushes of document_chunks under way at most, each on a flusher thread of
// its own. Memory: this many memtables being flushed and one being filled,
// of kUploadFlushBytes each. Two overlap their syncs, but bought the server
// only 5% more upload rate for 2 MiB more memory (interleaved runs,
// bench/results/issue-13), so one it is.
inline constexpr size_t kUploadFlushesInFlight = 1;

class UploadWriter;
struct UploadState;

// The answer to one upload request body (a PATCH): the upload's offset after
// it, and the document when the body finished the upload.
struct UploadOutcome {
  uint64_t offset = 0;
  std::optional<v1::Document> document;
};

// One PATCH's body on its way to the disk. The HTTP sink calls write(),
// wait_if_full(), then finish() or cut() on the connection's strand; the
// work itself happens on the documents writer thread. Holding the body
// holds the upload: no other PATCH may write to it until this one has
// ended and its progress is recorded.
class UploadBody : public std::enable_shared_from_this<UploadBody> {
 public:
  using Done = std::function<void(Result<UploadOutcome>)>;
  ~UploadBody();
  UploadBody(const UploadBody&) = delete;
  UploadBody& operator=(const UploadBody&) = delete;

  // The next bytes of the body. An error ends the body: the upload's type
  // is refused (INVALID_ARGUMENT on "content"), the body is longer than
  // what is left (RESOURCE_EXHAUSTED on "Upload-Length"), the upload is
  // gone (NOT_FOUND), or a write failed.
  Status write(std::string_view bytes);
  // True when the bytes waiting for the writer thread reach
  // kMaxQueuedUploadBytes: `resume` is then called (from the writer
  // thread) once they are down to one piece.
  bool wait_if_full(std::function<void()> resume);
  // The body ended: what it carried is made durable and recorded, and
  // `done` gets the new offset, or (when the last byte came) the document
  // once it is complete, or why not. From any thread.
  void finish(Done done);
  // The body was cut off (the connection dropped, or write() refused): what
  // arrived is made durable and recorded all the same; nobody is answered.
  // Does nothing after finish() or a first cut().
  void cut();

  uint64_t start_offset() const { return start_; }

 private:
  friend class Documents;
  UploadBody(class Documents& documents, std::shared_ptr<UploadState> state, v1::User actor, uint64_t start);
  void hand_over();  // strand: gathered_ to the writer thread
  void end(std::optional<Done> done);
  void fail(const Status& why);  // any thread; the first failure stays
  Status failure();
  void dequeued(size_t bytes);  // writer thread: a piece was written (or dropped)

  class Documents& documents_;
  const std::shared_ptr<UploadState> state_;
  const v1::User actor_;
  const uint64_t start_;
  uint64_t received_ = 0;  // strand: body bytes taken so far
  std::string gathered_;   // strand: bytes not handed over yet
  bool ended_ = false;     // strand

  std::mutex mu_;
  size_t queued_ = 0;             // guarded by mu_: handed over, not yet written
  std::function<void()> resume_;  // guarded by mu_
  Status failed_;                 // guarded by mu_
};

// The documents service. Authorization (for every entry point): program
// directors and admins get PERMISSION_DENIED (documents belong to the two
// members); anyone who is not a member of the document's mentorship gets
// NOT_FOUND, the same as for an id that does not exist; only the member
// who started an upload may continue, inspect or abandon it (the other
// member: PERMISSION_DENIED). An unfinished upload is visible to nobody as
// a document (GET 404, GetDocument NOT_FOUND).
//
// Every change of a record is one committer mutation that re-checks it.
// Bytes go through one writer thread (appends, type sniffing, SHA-256, the
// flushes) and are recorded in the upload's record only once durable.
// Thread-safe.
class Documents {
 public:
  template <class T>
  using Done = std::function<void(Result<T>)>;

  explicit Documents(Core& core);
  ~Documents();  // finishes the writer thread's work
  Documents(const Documents&) = delete;
  Documents& operator=(const Documents&) = delete;

  const DocumentOptions& options() const { return core_.documents; }

  // POST /v1/mentorships/<id>/uploads: a new upload of `length` bytes named
  // `name` (percent-decoded). Refusals: `length` 0 or past the limit
  // (INVALID_ARGUMENT / RESOURCE_EXHAUSTED on "Upload-Length"), a bad name
  // ("Upload-Name"), the mentorship (NOT_FOUND, FAILED_PRECONDITION when not
  // active), kMaxUnfinishedUploads already (RESOURCE_EXHAUSTED), the quota
  // (RESOURCE_EXHAUSTED on "quota"). `done` gets the upload's record.
  void start_upload(const v1::User& actor, uint64_t mentorship_id, uint64_t length, const std::string& name,
                    Done<v1::DocumentRecord> done);

  // HEAD /v1/uploads/<id>: the upload's record (complete ones too).
  Result<v1::DocumentRecord> upload(const v1::User& actor, uint64_t upload_id) const;

  // PATCH /v1/uploads/<id> with Upload-Offset `offset` and a body of
  // `body_length` bytes (nullopt: chunked). Refusals: as upload(); the
  // mentorship not active (FAILED_PRECONDITION); an offset that is not the
  // upload's (ABORTED on "Upload-Offset"); a body longer than what is left
  // (RESOURCE_EXHAUSTED on "Upload-Length"); another PATCH still writing
  // (ABORTED, retry_after_ms). A complete upload asked at its end with no
  // body answers its document (a client whose 201 was lost).
  struct Append {
    std::shared_ptr<UploadBody> body;  // the body to feed; null when `complete` answers
    std::optional<v1::Document> complete;
  };
  Result<Append> begin_append(const v1::User& actor, uint64_t upload_id, uint64_t offset,
                              std::optional<uint64_t> body_length);

  // DELETE /v1/uploads/<id>: abandons an unfinished upload (its bytes are
  // removed and its quota given back). A complete one: FAILED_PRECONDITION.
  void abandon(const v1::User& actor, uint64_t upload_id, Done<bool> done);

  // GET /v1/documents/<id> and GetDocument: a complete document of the
  // actor's mentorship (reading stays allowed after the mentorship ended).
  Result<v1::Document> document(const v1::User& actor, uint64_t document_id) const;
  // Its bytes, read from document_chunks.
  std::unique_ptr<storage::BlobReader> reader(uint64_t document_id) const;

  // Timed work: abandons the uploads idle past kUploadIdleMs (from
  // work_due's kUploadExpiry entries due now; never a scan of all
  // documents), and removes the bytes of uploads abandoned before a crash
  // could remove them. Blocks until done; returns how many entries it
  // handled.
  size_t run_timed_work();

 private:
  friend class UploadBody;

  // The registry of uploads a body is writing (or wrote since the server
  // started): hold() marks one busy for a new body, or says why not.
  std::shared_ptr<UploadState> hold(const v1::DocumentRecord& record, Status* busy);
  // Writer thread: the body is over; `forget` drops what is known of the upload.
  void release(const std::shared_ptr<UploadState>& state, bool forget);

  // The writer thread's jobs, in the order a body posts them.
  void start_body(const std::shared_ptr<UploadBody>& body);
  void write_piece(const std::shared_ptr<UploadBody>& body, const std::string& piece);
  void end_body(const std::shared_ptr<UploadBody>& body, std::optional<UploadBody::Done> done);
  // Writer thread helpers.
  // The type from the head: decided, refused (s.refused), or UNAVAILABLE (libmagic).
  Status decide_type(UploadState& s);
  // A flush of document_chunks on a flusher thread, covering what every
  // body appended so far; REQUIRES fewer than kUploadFlushesInFlight under way.
  void start_flush();
  // Waits for the oldest flush under way to end, moves the durable offsets,
  // starts the next flush if one is due, and records progress or closes bodies.
  void finish_flush();
  // Finishes the oldest flushes that have ended, in the order they began.
  void finish_ended_flushes();
  // How far the flushes ended or under way make this body's upload durable.
  uint64_t flushed_or_flushing(const UploadState& s) const;
  // An ended body whose bytes are durable (or that failed): completes the
  // upload, or records how far it got and answers.
  void close_body(const std::shared_ptr<UploadState>& state);
  void record_progress(const std::shared_ptr<UploadState>& state);
  void submit_progress(const std::shared_ptr<UploadState>& state, uint64_t to);
  void settle_if_done(const std::shared_ptr<UploadState>& state);  // answers an ended body once recorded
  // The last byte is durable: the document is made complete, then `done` answered.
  void complete(const std::shared_ptr<UploadState>& state, std::optional<UploadBody::Done> done);
  // The upload is refused (its type, or not text after all): abandoned, its
  // bytes removed, and `done` (if any) answered `why`.
  void refuse_upload(const std::shared_ptr<UploadState>& state, Status why,
                     std::optional<UploadBody::Done> done);
  void remove_bytes(uint64_t id);  // and forget upload `id`

  // In a mutation: upload `id` of `owner_id` removed (record, index, expiry)
  // with its quota given back, and a work_due entry due now left behind so
  // that the timed work removes the bytes should a crash come first.
  static Result<bool> drop_upload(storage::CommitContext& ctx, uint64_t id, uint64_t owner_id,
                                  const StorageQuota& quota);

  Core& core_;
  std::unique_ptr<UploadWriter> writer_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<UploadState>> uploads_;  // guarded by mu_
};

}  // namespace preceptor::services
