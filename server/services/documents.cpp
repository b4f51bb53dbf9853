#include "server/services/documents.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/log.h"
#include "server/services/document_book.h"
#include "server/services/document_types.h"
#include "server/services/membership.h"
#include "server/services/record_io.h"
#include "server/services/text_checks.h"
#include "server/services/usage.h"
#include "server/services/work_book.h"
#include "storage/keys.h"

namespace preceptor::services {

using storage::Cf;
namespace keys = storage::keys;

namespace {

// Timed work: work_due entries read per pass, and expiry mutations waiting
// in the committer at once (as reminders.cpp, so a pass never queues
// thousands ahead of people's requests).
constexpr size_t kMaxDueEntriesPerPass = 4096;
constexpr size_t kMaxExpiriesInFlight = 64;
// How far below the other threads the upload threads run (see JobThread).
constexpr int kUploadNice = 10;

std::string document_key(uint64_t id) { return keys::IdKey{.id = id}.encode(); }
std::string upload_index_key(uint64_t user_id, uint64_t id) {
  return keys::PairKey{.parent = user_id, .child = id}.encode();
}
std::string expiry_key(int64_t due_ms, uint64_t id) {
  return keys::WorkDue{.due_ms = static_cast<uint64_t>(std::max<int64_t>(0, due_ms)),
                       .kind = keys::WorkDue::kUploadExpiry,
                       .id = id}
      .encode();
}

Status no_such_upload(uint64_t id) {
  return not_found("No upload " + std::to_string(id) + " among yours; it may have been abandoned or expired.",
                   "upload_id");
}
Status no_such_document(uint64_t id) {
  return not_found("No document " + std::to_string(id) + " among yours.", "document_id");
}
Status not_the_uploader() {
  return permission_denied(
      "Only the member who started this upload may continue, inspect or abandon it; upload your own file.");
}
Status upload_gone() {
  return not_found("This upload was abandoned or expired while it was being written; start a new one.",
                   "upload_id");
}

// Directors and admins never touch documents; say so whatever the id.
Status refuse_overseer() {
  return permission_denied(
      "Program directors and admins see counts only; goals, assignments and documents belong to the mentor "
      "and the mentee.");
}

std::string hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

// SHA-256 of a stream (OpenSSL libcrypto).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { reset(); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void reset() { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  void update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }
  // Lower-case hex of what was fed; the stream starts over.
  std::string hex_digest() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    reset();
    return hex(out, n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace

// What is known of one upload while a body writes it, and between bodies
// while the server runs (so a resumed upload goes on hashing where it
// stopped). Fixed fields are set at creation; `busy` belongs to
// Documents::mu_; everything else to the writer thread.
struct UploadState {
  uint64_t id = 0;
  uint64_t owner_id = 0;
  uint64_t declared = 0;
  std::string name;

  bool busy = false;  // Documents::mu_: a body holds the upload

  bool gone = false;           // abandoned or expired: write nothing more
  bool primed = false;         // the fields below describe bytes [0, appended)
  uint64_t appended = 0;       // written (to the memtable or the disk)
  uint64_t durable = 0;        // of them, flushed
  uint64_t recorded = 0;       // the record's durable_size, as far as this server knows
  bool recording = false;      // a progress mutation is in the committer
  bool record_failed = false;  // one failed: the body ends with its error
  Sha256 sha;
  Utf8Stream text;
  std::string head;                      // the first min(kSniffBytes, declared) bytes, while undecided
  std::optional<std::string> type;       // decided from the head
  Status refused;                        // the type (or the text) was refused: the upload ends
  std::shared_ptr<UploadBody> body;      // the body writing it now
  std::optional<UploadBody::Done> done;  // the body ended: who waits for its answer
  bool closing = false;                  // the body ended; its last bytes wait for a flush
  bool ending = false;                   // the body ended and its bytes are durable (or failed)
};

// A thread that runs jobs in the order they were posted, named `name` (as
// top and the bench show it) and `nice` steps below the server's other
// threads: uploads yield the CPU to chat when both want it.
class JobThread {
 public:
  JobThread(const char* name, int nice) : name_(name), nice_(nice), thread_([this] { run(); }) {}
  ~JobThread() { stop(); }

  // Runs what was posted, then ends the thread. Once, from another thread.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Any thread. Jobs posted while stopping still run (the thread drains);
  // once it has ended, on the caller's thread.
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (!ended_) {
        jobs_.push_back(std::move(job));
        cv_.notify_one();
        return;
      }
    }
    job();
  }

 private:
  void run() {
    pthread_setname_np(pthread_self(), name_);
    // Linux: a nice value is per thread. Failing to lower it only costs chat
    // some latency during uploads.
    if (nice_ != 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice_);
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) {
          ended_ = true;
          return;
        }
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
  bool ended_ = false;                      // guarded by mu_
  const char* name_;
  int nice_;
  std::thread thread_;  // last: starts once the rest is built
};

// One flush of document_chunks under way on the flusher thread: how far
// each upload being written had got when it began (what it makes durable).
struct FlushMark {
  std::shared_ptr<UploadState> state;
  std::shared_ptr<UploadBody> body;  // the body it counts for (a later body's offsets differ)
  uint64_t to = 0;
};
struct RunningFlush {
  uint64_t seq = 0;
  std::vector<FlushMark> marks;
  std::shared_future<Status> result;
};

// The one thread that writes documents' bytes: it runs every job of every
// upload in order, so a body's pieces, its end, and the removal of an
// abandoned upload's bytes never overtake each other. Flushes run on
// flusher threads, at most kUploadFlushesInFlight at once, and end in the
// order they began: the writer thread appends into the next memtable while
// the last ones go to the disk (a flush is mostly waiting for syncs), and
// waits only when the next one is full while every flusher is busy.
class UploadWriter {
 public:
  explicit UploadWriter(storage::Store& store) : blobs(store) {
    for (auto& flusher : flushers_) flusher = std::make_unique<JobThread>("doc-flush", kUploadNice);
  }

  void post(std::function<void()> job) { thread_.post(std::move(job)); }
  // Flush `seq` runs on flusher seq % kUploadFlushesInFlight: the flush
  // before it on that thread has ended, so each has at most one job.
  void post_flush(uint64_t seq, std::function<void()> job) {
    flushers_[seq % flushers_.size()]->post(std::move(job));
  }
  // Runs every job posted (the writer's, then the flushes'), then ends the threads.
  void stop() {
    thread_.stop();
    for (auto& flusher : flushers_) flusher->stop();
  }

  // Writer thread only.
  storage::BlobWriter blobs;
  ContentSniffer sniffer;
  std::unordered_set<std::shared_ptr<UploadState>> writing;  // uploads with a body, for flushes
  uint64_t unflushed = 0;                                    // bytes appended since the last flush began
  std::deque<RunningFlush> flushes;                          // under way, oldest first
  uint64_t flush_seq = 0;

 private:
  // Stop after the writer thread (whose jobs may wait for a flush).
  std::array<std::unique_ptr<JobThread>, kUploadFlushesInFlight> flushers_;
  JobThread thread_{"doc-writer", kUploadNice};  // last: stops (draining its jobs) before the rest goes
};

// ---------------------------------------------------------------- UploadBody

UploadBody::UploadBody(Documents& documents, std::shared_ptr<UploadState> state, v1::User actor,
                       uint64_t start)
    : documents_(documents), state_(std::move(state)), actor_(std::move(actor)), start_(start) {}

UploadBody::~UploadBody() = default;

Status UploadBody::write(std::string_view bytes) {
  {
    std::lock_guard lock(mu_);
    if (!failed_.is_ok()) return failed_;
  }
  const uint64_t left = state_->declared - start_ - received_;
  if (bytes.size() > left) {
    return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                  "The body goes past the upload's declared length (Upload-Length " +
                      std::to_string(state_->declared) + "); send at most the " +
                      std::to_string(state_->declared - start_) + " bytes that are left from offset " +
                      std::to_string(start_) + ".",
                  "Upload-Length");
  }
  received_ += bytes.size();
  gathered_.append(bytes);
  if (gathered_.size() >= kUploadPieceBytes) hand_over();
  return Status::ok();
}

bool UploadBody::wait_if_full(std::function<void()> resume) {
  std::lock_guard lock(mu_);
  if (queued_ < kMaxQueuedUploadBytes) return false;
  resume_ = std::move(resume);
  return true;
}

void UploadBody::finish(Done done) { end(std::move(done)); }

void UploadBody::cut() { end(std::nullopt); }

void UploadBody::hand_over() {
  if (gathered_.empty()) return;
  auto piece = std::make_shared<std::string>(std::move(gathered_));
  gathered_.clear();
  gathered_.reserve(kUploadPieceBytes);
  {
    std::lock_guard lock(mu_);
    queued_ += piece->size();
  }
  auto self = std::static_pointer_cast<UploadBody>(shared_from_this());
  documents_.writer_->post([self, piece] { self->documents_.write_piece(self, *piece); });
}

void UploadBody::end(std::optional<Done> done) {
  if (ended_) return;
  ended_ = true;
  hand_over();
  gathered_.shrink_to_fit();
  auto self = std::static_pointer_cast<UploadBody>(shared_from_this());
  documents_.writer_->post(
      [self, done = std::move(done)]() mutable { self->documents_.end_body(self, std::move(done)); });
}

void UploadBody::fail(const Status& why) {
  std::lock_guard lock(mu_);
  if (failed_.is_ok()) failed_ = why;
}

Status UploadBody::failure() {
  std::lock_guard lock(mu_);
  return failed_;
}

void UploadBody::dequeued(size_t bytes) {
  std::function<void()> resume;
  {
    std::lock_guard lock(mu_);
    queued_ -= std::min(queued_, bytes);
    if (resume_ && queued_ <= kUploadPieceBytes) {
      resume = std::move(resume_);
      resume_ = nullptr;
    }
  }
  if (resume) resume();
}

// ----------------------------------------------------------------- Documents

Documents::Documents(Core& core) : core_(core), writer_(std::make_unique<UploadWriter>(core.store)) {
  // libmagic's database is loaded once, at start-up (ContentSniffer::load).
  writer_->post([this] { writer_->sniffer.load(); });
}

Documents::~Documents() {
  writer_->stop();  // while writer_ is still set: its jobs use it
  writer_.reset();
}

void Documents::start_upload(const v1::User& actor, uint64_t mentorship_id, uint64_t length,
                             const std::string& name, Done<v1::DocumentRecord> done) {
  if (oversees_program(actor)) return done(refuse_overseer());
  if (length == 0) {
    return done(invalid_argument("An upload needs at least one byte; Upload-Length is 0.", "Upload-Length"));
  }
  if (length > options().max_upload_bytes) {
    return done(Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                       "The file is " + std::to_string(length) + " bytes; a document may be at most " +
                           std::to_string(options().max_upload_bytes) + " bytes (" +
                           std::to_string(options().max_upload_bytes >> 20) + " MiB).",
                       "Upload-Length"));
  }
  if (name.empty() || name.size() > kMaxDocumentNameBytes || !valid_utf8(name) || has_control_chars(name) ||
      name.find_first_of("/\\") != std::string::npos || name == "." || name == "..") {
    return done(invalid_argument("Name the file (Upload-Name, percent-encoded UTF-8): 1 to " +
                                     std::to_string(kMaxDocumentNameBytes) +
                                     " bytes, a file name without folders or control characters.",
                                 "Upload-Name"));
  }
  const v1::User who = actor;
  const StorageQuota quota = core_.quota;
  commit_with_result<v1::DocumentRecord>(
      core_.committer,
      [who, mentorship_id, length, name, quota](storage::CommitContext& ctx,
                                                v1::DocumentRecord& out) -> Status {
        auto member = work_member(ctx, who, mentorship_id, /*need_active=*/true);
        if (!member) return member.status();
        size_t unfinished = 0;
        auto counted = ctx.scan_prefix(Cf::kUserUploads, keys::PairKey::prefix(who.id()),
                                       [&](std::string_view, std::string_view) {
                                         ++unfinished;
                                         return true;
                                       },
                                       {.max_entries = kMaxUnfinishedUploads + 1});
        if (!counted) return counted.status();
        if (unfinished >= kMaxUnfinishedUploads) {
          return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                        "You have " + std::to_string(kMaxUnfinishedUploads) +
                            " unfinished uploads; finish or abandon one (DELETE /v1/uploads/<id>) before "
                            "starting another.");
        }
        PRECEPTOR_RETURN_IF_ERROR(charge_document_bytes(ctx, who.id(), static_cast<int64_t>(length), quota));
        const uint64_t id = ctx.next_id("document");
        v1::DocumentRecord rec;
        v1::Document* doc = rec.mutable_document();
        doc->set_id(id);
        doc->set_mentorship_id(mentorship_id);
        doc->set_owner_id(who.id());
        doc->set_name(name);
        rec.set_state(v1::DOCUMENT_STATE_UPLOADING);
        rec.set_declared_size(length);
        rec.set_durable_size(0);
        rec.set_expires_ms(ctx.now_ms() + kUploadIdleMs);
        save(ctx, Cf::kDocuments, document_key(id), rec);
        ctx.put(Cf::kUserUploads, upload_index_key(who.id(), id), "");
        ctx.put(Cf::kWorkDue, expiry_key(rec.expires_ms(), id), "");
        out = std::move(rec);
        return Status::ok();
      },
      std::move(done));
}

namespace {

// The upload `id` as `actor` may see it: the uploader's own, any state.
Result<v1::DocumentRecord> own_upload(const Membership& membership, const storage::Store& store,
                                      const v1::User& actor, uint64_t id) {
  if (oversees_program(actor)) return refuse_overseer();
  auto rec = load_document(store, id);
  if (!rec) return rec.status();
  if (!rec->has_value()) return no_such_upload(id);
  auto member = work_member(membership, actor, (*rec)->document().mentorship_id(), /*need_active=*/false);
  if (!member)
    return member.status().code() == v1::ERROR_CODE_NOT_FOUND ? no_such_upload(id) : member.status();
  if ((*rec)->document().owner_id() != actor.id()) return not_the_uploader();
  return std::move(**rec);
}

}  // namespace

Result<v1::DocumentRecord> Documents::upload(const v1::User& actor, uint64_t upload_id) const {
  return own_upload(core_.membership, core_.store, actor, upload_id);
}

Result<Documents::Append> Documents::begin_append(const v1::User& actor, uint64_t upload_id, uint64_t offset,
                                                  std::optional<uint64_t> body_length) {
  auto rec = own_upload(core_.membership, core_.store, actor, upload_id);
  if (!rec) return rec.status();
  const auto offset_is = [&](uint64_t server_offset) {
    return Status(v1::ERROR_CODE_ABORTED,
                  "Upload-Offset " + std::to_string(offset) + " is not where this upload stands (" +
                      std::to_string(server_offset) + "); send the bytes from " +
                      std::to_string(server_offset) + " (HEAD tells where to resume).",
                  "Upload-Offset");
  };
  if (rec->state() == v1::DOCUMENT_STATE_COMPLETE) {
    if (offset == rec->document().size() && body_length && *body_length == 0) {
      return Append{.body = nullptr, .complete = rec->document()};
    }
    return offset_is(rec->document().size());
  }
  auto member = work_member(core_.membership, actor, rec->document().mentorship_id(), /*need_active=*/true);
  if (!member) return member.status();
  if (offset != rec->durable_size()) return offset_is(rec->durable_size());
  const uint64_t left = rec->declared_size() - offset;
  if (body_length && *body_length > left) {
    return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                  "The body is " + std::to_string(*body_length) + " bytes but only " + std::to_string(left) +
                      " are left of the declared Upload-Length " + std::to_string(rec->declared_size()) + ".",
                  "Upload-Length");
  }
  Status busy;
  std::shared_ptr<UploadState> state = hold(*rec, &busy);
  if (!state) return busy;
  auto body = std::shared_ptr<UploadBody>(new UploadBody(*this, state, actor, offset));
  writer_->post([this, body] { start_body(body); });
  return Append{.body = body, .complete = std::nullopt};
}

std::shared_ptr<UploadState> Documents::hold(const v1::DocumentRecord& record, Status* busy) {
  const uint64_t id = record.document().id();
  std::lock_guard lock(mu_);
  std::shared_ptr<UploadState>& state = uploads_[id];
  if (!state) {
    state = std::make_shared<UploadState>();
    state->id = id;
    state->owner_id = record.document().owner_id();
    state->declared = record.declared_size();
    state->name = record.document().name();
  }
  if (state->busy) {
    *busy = Status(v1::ERROR_CODE_ABORTED,
                   "Another request is still sending bytes to this upload; wait for it to end (or for its "
                   "connection to time out), then ask HEAD where to resume.",
                   "Upload-Offset", 1000);
    return nullptr;
  }
  state->busy = true;
  return state;
}

void Documents::release(const std::shared_ptr<UploadState>& state, bool forget) {
  writer_->writing.erase(state);
  state->body.reset();
  state->done.reset();
  state->closing = false;
  state->ending = false;
  std::lock_guard lock(mu_);
  state->busy = false;
  if (forget) {
    auto it = uploads_.find(state->id);
    if (it != uploads_.end() && it->second == state) uploads_.erase(it);
  }
}

// ------------------------------------------------------ the writer thread's jobs

void Documents::start_body(const std::shared_ptr<UploadBody>& body) {
  UploadState& s = *body->state_;
  if (s.gone) return body->fail(upload_gone());
  s.body = body;
  writer_->writing.insert(body->state_);
  s.recorded = body->start_offset();
  s.record_failed = false;
  if (!s.primed || s.appended != body->start_offset()) {
    // A server restart (or a body that failed past its record): the hash,
    // the text check and the type start again from the stored bytes.
    s.primed = false;
    s.sha.reset();
    s.text = Utf8Stream();
    s.head.clear();
    s.type.reset();
    s.refused = Status::ok();
    const uint64_t need = std::min<uint64_t>(kSniffBytes, s.declared);
    storage::BlobReader reader(core_.store, s.id);
    std::string buf(kUploadPieceBytes, '\0');
    for (uint64_t at = 0; at < body->start_offset();) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), body->start_offset() - at));
      auto got = reader.read_at(at, buf.data(), want);
      if (!got || *got == 0) {
        log::error("upload_bytes_missing").kv("document", s.id).kv("offset", at);
        return body->fail(
            got ? data_loss("The bytes this upload recorded are not all stored; start it again.")
                : got.status());
      }
      const std::string_view piece(buf.data(), *got);
      if (s.head.size() < need) s.head.append(piece.substr(0, need - s.head.size()));
      s.sha.update(piece);
      s.text.feed(piece);
      at += *got;
    }
    s.appended = s.durable = body->start_offset();
    s.primed = true;
    if (s.head.size() == need) {
      if (Status decided = decide_type(s); !decided) return body->fail(decided);
    }
  }
  // A crash can leave pieces past the recorded offset; they must not mix
  // with the new ones.
  auto stale = writer_->blobs.has_pieces_from(s.id, body->start_offset());
  if (!stale) return body->fail(stale.status());
  if (*stale) {
    if (Status dropped = writer_->blobs.truncate(s.id, body->start_offset()); !dropped)
      return body->fail(dropped);
  }
}

Status Documents::decide_type(UploadState& s) {
  auto type = writer_->sniffer.sniff(s.head, s.declared > s.head.size(), s.name);
  if (!type && type.status().code() == v1::ERROR_CODE_UNAVAILABLE) {
    // The server's fault, not the file's: the upload stays, and the next
    // body starts over from the stored bytes.
    s.primed = false;
    return type.status();
  }
  if (type) {
    s.type = *type;
  } else {
    s.refused = type.status();
  }
  s.head.clear();
  s.head.shrink_to_fit();
  return Status::ok();
}

void Documents::write_piece(const std::shared_ptr<UploadBody>& body, const std::string& piece) {
  UploadState& s = *body->state_;
  struct Dequeue {
    UploadBody& body;
    size_t bytes;
    ~Dequeue() { body.dequeued(bytes); }
  } dequeue{*body, piece.size()};
  if (s.gone) return body->fail(upload_gone());
  if (!body->failure().is_ok() || !s.refused.is_ok()) return;
  std::string_view bytes(piece);
  if (!s.type) {
    const uint64_t need = std::min<uint64_t>(kSniffBytes, s.declared);
    s.head.append(bytes.substr(0, need - s.head.size()));
    if (s.head.size() == need) {
      if (Status decided = decide_type(s); !decided) return body->fail(decided);
    }
    if (!s.refused.is_ok()) return body->fail(s.refused);  // nothing of it is written
  }
  s.sha.update(bytes);
  s.text.feed(bytes);
  if (Status written = writer_->blobs.append(s.id, s.appended, bytes); !written) return body->fail(written);
  s.appended += bytes.size();
  writer_->unflushed += bytes.size();
  if (writer_->unflushed >= kUploadFlushBytes) {
    // The next memtable is full: start a flush, or wait for the oldest one
    // under way (which starts the next).
    if (writer_->flushes.size() < kUploadFlushesInFlight) {
      start_flush();
    } else {
      finish_flush();
    }
  }
}

void Documents::start_flush() {
  UploadWriter& w = *writer_;
  RunningFlush flush;
  flush.seq = ++w.flush_seq;
  for (const std::shared_ptr<UploadState>& state : w.writing) {
    if (state->body) flush.marks.push_back({.state = state, .body = state->body, .to = state->appended});
  }
  auto promise = std::make_shared<std::promise<Status>>();
  flush.result = promise->get_future().share();
  w.flushes.push_back(std::move(flush));
  w.unflushed = 0;
  // make_durable covers what was appended before it is called: every mark
  // (also when a later flush's thread calls it first: this one then waits
  // for that flush's memtable).
  w.post_flush(w.flush_seq, [this, promise] {
    promise->set_value(writer_->blobs.make_durable());
    writer_->post([this] { finish_ended_flushes(); });
  });
}

void Documents::finish_ended_flushes() {
  UploadWriter& w = *writer_;
  while (!w.flushes.empty() &&
         w.flushes.front().result.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    finish_flush();
  }
}

uint64_t Documents::flushed_or_flushing(const UploadState& s) const {
  uint64_t to = s.durable;
  for (const RunningFlush& flush : writer_->flushes) {
    for (const FlushMark& mark : flush.marks) {
      if (mark.state.get() == &s && mark.body == s.body) to = std::max(to, mark.to);
    }
  }
  return to;
}

void Documents::finish_flush() {
  UploadWriter& w = *writer_;
  const Status flushed = w.flushes.front().result.get();  // waits while it runs
  const std::vector<FlushMark> marks = std::move(w.flushes.front().marks);
  w.flushes.pop_front();
  if (!flushed) log::error("upload_flush_failed").kv("error", flushed.to_string());
  for (const FlushMark& mark : marks) {
    UploadState& s = *mark.state;
    if (s.body != mark.body) continue;  // that body is over; the upload's offsets moved on
    if (!flushed) {
      s.body->fail(flushed);
    } else {
      s.durable = std::max(s.durable, mark.to);
    }
  }
  // An ended body waiting for its last bytes, or a full memtable: the next flush.
  bool again = w.unflushed >= kUploadFlushBytes;
  for (const std::shared_ptr<UploadState>& state : w.writing) {
    again = again || (state->closing && state->appended > flushed_or_flushing(*state) &&
                      state->body->failure().is_ok());
  }
  if (again) start_flush();
  // Bodies that ended: done once durable, or failed (also one this flush
  // did not hold); the others record how far they got. close_body and
  // record_progress may end a body, which leaves `writing`: walk a copy.
  std::vector<std::shared_ptr<UploadState>> closing;
  for (const std::shared_ptr<UploadState>& state : w.writing) {
    if (state->closing) closing.push_back(state);
  }
  for (const FlushMark& mark : marks) {
    if (mark.state->body == mark.body && !mark.state->closing) record_progress(mark.state);
  }
  for (const std::shared_ptr<UploadState>& state : closing) close_body(state);
}

void Documents::record_progress(const std::shared_ptr<UploadState>& state) {
  UploadState& s = *state;
  if (s.recording) return;
  if (s.gone || s.record_failed || s.durable <= s.recorded) return settle_if_done(state);
  s.recording = true;
  submit_progress(state, s.durable);
}

void Documents::submit_progress(const std::shared_ptr<UploadState>& state, uint64_t to) {
  const uint64_t id = state->id;
  core_.committer.submit(
      [id, to](storage::CommitContext& ctx) -> Status {
        auto loaded = load_document(ctx, id);
        if (!loaded) return loaded.status();
        if (!loaded->has_value()) return upload_gone();
        v1::DocumentRecord& rec = **loaded;
        if (rec.state() != v1::DOCUMENT_STATE_UPLOADING || rec.durable_size() >= to) return Status::ok();
        ctx.del(Cf::kWorkDue, expiry_key(rec.expires_ms(), id));
        rec.set_durable_size(to);
        rec.set_expires_ms(ctx.now_ms() + kUploadIdleMs);
        ctx.put(Cf::kWorkDue, expiry_key(rec.expires_ms(), id), "");
        save(ctx, Cf::kDocuments, document_key(id), rec);
        return Status::ok();
      },
      [this, state, to](const Status& st) {
        writer_->post([this, state, to, st] {
          UploadState& s = *state;
          s.recording = false;
          if (st) {
            s.recorded = std::max(s.recorded, to);
          } else {
            s.record_failed = true;  // no retry: the body answers the error
            if (s.body) s.body->fail(st);
            // Abandoned or expired meanwhile: what this body wrote goes too.
            if (st.code() == v1::ERROR_CODE_NOT_FOUND) remove_bytes(s.id);
          }
          record_progress(state);
        });
      });
}

void Documents::end_body(const std::shared_ptr<UploadBody>& body, std::optional<UploadBody::Done> done) {
  const std::shared_ptr<UploadState> state = body->state_;
  UploadState& s = *state;
  if (s.body != body) {
    // The body never started (its upload was gone): answer and let go.
    release(state, s.gone);
    if (done) (*done)(body->failure().is_ok() ? upload_gone() : body->failure());
    return;
  }
  if (!s.refused.is_ok()) return refuse_upload(state, s.refused, std::move(done));
  if (s.gone) {
    release(state, true);
    if (done) (*done)(upload_gone());
    return;
  }
  s.closing = true;
  s.done = std::move(done);
  // The last bytes go with a flush under way if it holds them, or with the
  // next one (started here, or when the oldest one under way ends).
  if (s.appended > flushed_or_flushing(s) && writer_->flushes.size() < kUploadFlushesInFlight) start_flush();
  close_body(state);
}

void Documents::close_body(const std::shared_ptr<UploadState>& state) {
  UploadState& s = *state;
  if (!s.closing) return;
  const Status failure = s.body->failure();
  if (failure.is_ok() && !s.gone && s.appended > s.durable) return;  // a flush will call again
  s.closing = false;
  std::optional<UploadBody::Done> done = std::move(s.done);
  s.done.reset();
  if (s.gone) {
    release(state, true);
    if (done) (*done)(upload_gone());
    return;
  }
  if (failure.is_ok() && s.appended == s.declared && s.durable == s.declared) {
    if (is_text_type(*s.type) && !s.text.complete_text()) {
      return refuse_upload(state, not_utf8_text(), std::move(done));
    }
    return complete(state, std::move(done));
  }
  s.ending = true;
  s.done = std::move(done);
  record_progress(state);
}

void Documents::settle_if_done(const std::shared_ptr<UploadState>& state) {
  UploadState& s = *state;
  if (!s.ending || s.recording) return;
  const Status answer = s.gone ? upload_gone() : s.body->failure();
  std::optional<UploadBody::Done> done = std::move(s.done);
  const uint64_t offset = s.recorded;
  release(state, s.gone);
  if (!done) return;
  if (!answer.is_ok()) return (*done)(answer);
  (*done)(UploadOutcome{.offset = offset, .document = std::nullopt});
}

void Documents::complete(const std::shared_ptr<UploadState>& state, std::optional<UploadBody::Done> done) {
  UploadState& s = *state;
  const v1::User actor = s.body->actor_;
  const uint64_t id = s.id;
  const uint64_t size = s.declared;
  const std::string type = *s.type;
  const std::string sha = s.sha.hex_digest();
  commit_with_result<v1::Document>(
      core_.committer,
      [actor, id, size, type, sha](storage::CommitContext& ctx, v1::Document& out) -> Status {
        auto loaded = load_document(ctx, id);
        if (!loaded) return loaded.status();
        if (!loaded->has_value()) return upload_gone();
        v1::DocumentRecord& rec = **loaded;
        if (rec.state() == v1::DOCUMENT_STATE_COMPLETE) {
          out = rec.document();
          return Status::ok();
        }
        auto member = work_member(ctx, actor, rec.document().mentorship_id(), /*need_active=*/true);
        if (!member) return member.status();
        if (rec.document().owner_id() != actor.id()) return not_the_uploader();
        v1::Document* doc = rec.mutable_document();
        doc->set_size(size);
        doc->set_content_type(type);
        doc->set_sha256(sha);
        doc->set_created_ms(ctx.now_ms());
        ctx.del(Cf::kWorkDue, expiry_key(rec.expires_ms(), id));
        ctx.del(Cf::kUserUploads, upload_index_key(doc->owner_id(), id));
        rec.set_state(v1::DOCUMENT_STATE_COMPLETE);
        rec.set_durable_size(size);
        rec.set_expires_ms(0);
        save(ctx, Cf::kDocuments, document_key(id), rec);
        out = rec.document();
        return Status::ok();
      },
      [this, state, done = std::move(done)](Result<v1::Document> doc) mutable {
        writer_->post([this, state, doc = std::move(doc), done = std::move(done)]() mutable {
          UploadState& s = *state;
          if (doc) {
            s.recorded = s.declared;
            release(state, /*forget=*/true);
            log::info("document_uploaded")
                .kv("document", s.id)
                .kv("bytes", s.declared)
                .kv("type", doc->content_type());
            if (done) (*done)(UploadOutcome{.offset = s.declared, .document = std::move(*doc)});
            return;
          }
          // Not complete (the mentorship ended, the upload was abandoned,
          // a failed write): the bytes stay recorded up to where they were,
          // and the client may ask again (an empty PATCH at the end).
          if (doc.status().code() == v1::ERROR_CODE_NOT_FOUND) remove_bytes(s.id);
          release(state, s.gone);
          if (done) (*done)(doc.status());
        });
      });
}

void Documents::refuse_upload(const std::shared_ptr<UploadState>& state, Status why,
                              std::optional<UploadBody::Done> done) {
  UploadState& s = *state;
  s.gone = true;
  const uint64_t id = s.id;
  const uint64_t owner = s.owner_id;
  const StorageQuota quota = core_.quota;
  core_.committer.submit(
      [id, owner, quota](storage::CommitContext& ctx) -> Status {
        return drop_upload(ctx, id, owner, quota).status();
      },
      [this, state, why, done = std::move(done)](const Status& dropped) mutable {
        dropped.ignore_error();  // NOT_FOUND: gone already; otherwise it expires in time
        writer_->post([this, state, why, done = std::move(done)]() mutable {
          remove_bytes(state->id);
          release(state, /*forget=*/true);
          if (done) (*done)(why);
        });
      });
}

Result<bool> Documents::drop_upload(storage::CommitContext& ctx, uint64_t id, uint64_t owner_id,
                                    const StorageQuota& quota) {
  auto loaded = load_document(ctx, id);
  if (!loaded) return loaded.status();
  if (!loaded->has_value()) return upload_gone();
  const v1::DocumentRecord& rec = **loaded;
  if (rec.state() != v1::DOCUMENT_STATE_UPLOADING || rec.document().owner_id() != owner_id) {
    return failed_precondition(
        "This upload has finished: it is a document now, and is not removed this way.");
  }
  PRECEPTOR_RETURN_IF_ERROR(
      charge_document_bytes(ctx, owner_id, -static_cast<int64_t>(rec.declared_size()), quota));
  ctx.del(Cf::kDocuments, document_key(id));
  ctx.del(Cf::kUserUploads, upload_index_key(owner_id, id));
  ctx.del(Cf::kWorkDue, expiry_key(rec.expires_ms(), id));
  // Due now: should the bytes outlive this (a crash before they are
  // removed), the next timed work finds the record gone and removes them.
  ctx.put(Cf::kWorkDue, expiry_key(ctx.now_ms(), id), "");
  return true;
}

void Documents::remove_bytes(uint64_t id) {
  {
    std::lock_guard lock(mu_);
    auto it = uploads_.find(id);
    if (it != uploads_.end()) {
      it->second->gone = true;
      if (!it->second->busy) uploads_.erase(it);
    }
  }
  if (Status removed = writer_->blobs.remove(id); !removed) {
    // The work_due entry stays: the next timed work tries again.
    log::error("upload_bytes_not_removed").kv("document", id).kv("error", removed.to_string());
  }
}

void Documents::abandon(const v1::User& actor, uint64_t upload_id, Done<bool> done) {
  auto rec = own_upload(core_.membership, core_.store, actor, upload_id);
  if (!rec) return done(rec.status());
  if (rec->state() == v1::DOCUMENT_STATE_COMPLETE) {
    return done(failed_precondition("This upload has finished: it is document " + std::to_string(upload_id) +
                                    " now, and is not abandoned."));
  }
  const v1::User who = actor;
  const StorageQuota quota = core_.quota;
  core_.committer.submit(
      [who, upload_id, quota](storage::CommitContext& ctx) -> Status {
        auto loaded = load_document(ctx, upload_id);
        if (!loaded) return loaded.status();
        if (!loaded->has_value()) return no_such_upload(upload_id);
        auto member = work_member(ctx, who, (**loaded).document().mentorship_id(), /*need_active=*/false);
        if (!member) {
          return member.status().code() == v1::ERROR_CODE_NOT_FOUND ? no_such_upload(upload_id)
                                                                    : member.status();
        }
        if ((**loaded).document().owner_id() != who.id()) return not_the_uploader();
        return drop_upload(ctx, upload_id, who.id(), quota).status();
      },
      [this, upload_id, done = std::move(done)](const Status& st) {
        if (!st) return done(st);
        writer_->post([this, upload_id, done] {
          remove_bytes(upload_id);
          done(true);
        });
      });
}

Result<v1::Document> Documents::document(const v1::User& actor, uint64_t document_id) const {
  if (oversees_program(actor)) return refuse_overseer();
  auto rec = load_document(core_.store, document_id);
  if (!rec) return rec.status();
  if (!rec->has_value() || (*rec)->state() != v1::DOCUMENT_STATE_COMPLETE)
    return no_such_document(document_id);
  auto member =
      work_member(core_.membership, actor, (*rec)->document().mentorship_id(), /*need_active=*/false);
  if (!member) {
    return member.status().code() == v1::ERROR_CODE_NOT_FOUND ? no_such_document(document_id)
                                                              : member.status();
  }
  return (*rec)->document();
}

std::unique_ptr<storage::BlobReader> Documents::reader(uint64_t document_id) const {
  return std::make_unique<storage::BlobReader>(core_.store, document_id);
}

size_t Documents::run_timed_work() {
  const int64_t now = std::max<int64_t>(0, core_.clock.now_ms());
  std::vector<keys::WorkDue> due;
  const std::string end =
      keys::WorkDue{.due_ms = static_cast<uint64_t>(now) + 1, .kind = 0, .id = 0}.encode();
  auto scanned = core_.store.scan(Cf::kWorkDue, {.end = end},
                                  [&](std::string_view key, std::string_view) {
                                    if (auto entry = keys::WorkDue::decode(key);
                                        entry && entry->kind == keys::WorkDue::kUploadExpiry)
                                      due.push_back(*entry);
                                    return true;
                                  },
                                  {.max_entries = kMaxDueEntriesPerPass});
  if (!scanned) return 0;  // logged by the store; the next pass tries again

  // At most kMaxExpiriesInFlight wait in the committer at once.
  BoundedSubmitter submitter(core_.committer, kMaxExpiriesInFlight);
  std::mutex mu;  // guards to_remove
  std::vector<uint64_t> to_remove;
  const StorageQuota quota = core_.quota;
  for (const keys::WorkDue& entry : due) {
    {
      std::lock_guard lock(mu_);
      auto it = uploads_.find(entry.id);
      if (it != uploads_.end() && it->second->busy) continue;  // bytes are arriving: its record moves
    }
    auto remove = std::make_shared<bool>(false);
    submitter.submit(
        [entry, quota, remove](storage::CommitContext& ctx) -> Status {
          const std::string key = entry.encode();
          auto still = ctx.get(Cf::kWorkDue, key);
          if (!still) return still.status();
          if (!still->has_value()) return Status::ok();  // handled already
          auto loaded = load_document(ctx, entry.id);
          if (!loaded) return loaded.status();
          ctx.del(Cf::kWorkDue, key);
          if (!loaded->has_value()) {  // abandoned: its bytes may still be there
            *remove = true;
            return Status::ok();
          }
          const v1::DocumentRecord& rec = **loaded;
          if (rec.state() != v1::DOCUMENT_STATE_UPLOADING) return Status::ok();
          if (static_cast<uint64_t>(std::max<int64_t>(0, rec.expires_ms())) != entry.due_ms) {
            return Status::ok();  // moved since (its entry is the one at expires_ms)
          }
          if (rec.expires_ms() > ctx.now_ms()) {
            ctx.put(Cf::kWorkDue, key, "");  // not yet after all
            return Status::ok();
          }
          PRECEPTOR_RETURN_IF_ERROR(charge_document_bytes(ctx, rec.document().owner_id(),
                                                          -static_cast<int64_t>(rec.declared_size()), quota));
          ctx.del(Cf::kDocuments, document_key(entry.id));
          ctx.del(Cf::kUserUploads, upload_index_key(rec.document().owner_id(), entry.id));
          *remove = true;
          return Status::ok();
        },
        [&, remove, id = entry.id](const Status& st) {
          st.ignore_error();  // a failed write is logged by the committer; the entry stays due
          std::lock_guard lock(mu);
          if (st && *remove) to_remove.push_back(id);
        });
  }
  submitter.wait_all();
  if (!to_remove.empty()) {
    std::promise<void> removed;
    writer_->post([&] {
      for (uint64_t id : to_remove) remove_bytes(id);
      removed.set_value();
    });
    removed.get_future().wait();
    log::info("uploads_expired").kv("removed", static_cast<uint64_t>(to_remove.size()));
  }
  return due.size();
}

}  // namespace preceptor::services
