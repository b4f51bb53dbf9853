#pragma once

// The bytes of documents, in the document_chunks family: written apart from
// the committer, without the write-ahead log, so that each byte reaches the
// disk once (in a blob file) instead of twice (the log, then the table), and
// the committer that chat goes through never carries megabytes.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/store.h"

namespace rocksdb {
class Iterator;
}

namespace preceptor::storage {

// Writes a document's bytes as pieces keyed document_id | offset
// (keys::PairKey), each piece the bytes from its offset on. A piece goes to
// the memtable only: a crash loses it until make_durable() has flushed the
// family (its table and blob files synced). So an upload records how far it
// got (through the committer) only after make_durable() returned, and
// nothing past that record is ever read as the document's.
//
// Thread-safe, but make_durable() blocks on a disk flush: call it from a
// thread of one's own, never a network thread or the committer's. The
// documents service has one writer thread for append/truncate and one
// thread that calls make_durable.
class BlobWriter {
 public:
  explicit BlobWriter(Store& store) : store_(store) {}
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // The piece of `document_id` that starts at `offset`. REQUIRES: `bytes`
  // not empty; no other piece of the document starts inside it (truncate a
  // stale tail first, see truncate()).
  Status append(uint64_t document_id, uint64_t offset, std::string_view bytes);

  // Whether a piece of `document_id` starts at or after `from`: what a
  // crash left past the offset an upload recorded.
  Result<bool> has_pieces_from(uint64_t document_id, uint64_t from) const;
  // Drops the pieces of `document_id` that start at or after `from`, also
  // without the log: on disk with the next make_durable(), and in any case
  // before anything appended after it is.
  Status truncate(uint64_t document_id, uint64_t from);

  // Flushes document_chunks and waits: what append() and truncate() wrote
  // before the call is on disk when it returns OK. May run on one thread
  // while another appends (or flushes too).
  Status make_durable();

  // Removes every piece of `document_id` with one synced write through the
  // write-ahead log (an abandoned or expired upload): durable on return.
  Status remove(uint64_t document_id);

  // Bytes appended since the last make_durable() began (a failed one gives
  // its bytes back): what waits in memtables, for deciding when to flush.
  uint64_t unflushed_bytes() const { return unflushed_.load(std::memory_order_acquire); }

 private:
  Store& store_;
  std::atomic<uint64_t> unflushed_{0};
};

// Reads one document's bytes by offset (committed and durable pieces, as
// any Store read). Keeps the last piece it read, so a download that reads
// forward in small steps reads each piece from the disk once, and finds the
// next piece with a point lookup. Not thread-safe: one reader per download;
// any thread.
class BlobReader {
 public:
  BlobReader(const Store& store, uint64_t document_id) : store_(store), document_id_(document_id) {}

  // Copies up to `max` bytes from `offset` into `out` and returns how many:
  // 0 when no piece holds `offset` (at or past the end of what is stored).
  Result<size_t> read_at(uint64_t offset, char* out, size_t max);

 private:
  // Loads the piece holding `offset` into piece_; false when there is none.
  Result<bool> load_piece(uint64_t offset);

  const Store& store_;
  uint64_t document_id_;
  bool loaded_ = false;
  uint64_t piece_offset_ = 0;
  std::string piece_;
};

}  // namespace preceptor::storage
