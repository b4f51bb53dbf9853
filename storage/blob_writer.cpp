#include "storage/blob_writer.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "storage/keys.h"
#include "storage/rocksdb_status.h"

namespace preceptor::storage {
namespace {

std::string piece_key(uint64_t document_id, uint64_t offset) {
  return keys::PairKey{.parent = document_id, .child = offset}.encode();
}

// No write-ahead log: the bytes reach the disk once, when the family is
// flushed (make_durable).
rocksdb::WriteOptions unlogged() {
  rocksdb::WriteOptions o;
  o.disableWAL = true;
  o.sync = false;
  return o;
}

}  // namespace

Status BlobWriter::append(uint64_t document_id, uint64_t offset, std::string_view bytes) {
  assert(!bytes.empty());
  rocksdb::Status s =
      store_.db()->Put(unlogged(), store_.cf(Cf::kDocumentChunks), piece_key(document_id, offset),
                       rocksdb::Slice(bytes.data(), bytes.size()));
  if (!s.ok()) return from_rocksdb(s, "The database could not store the uploaded bytes");
  unflushed_.fetch_add(bytes.size(), std::memory_order_acq_rel);
  return Status::ok();
}

Result<bool> BlobWriter::has_pieces_from(uint64_t document_id, uint64_t from) const {
  const std::string begin = piece_key(document_id, from);
  const std::string end = keys::prefix_end(keys::PairKey::prefix(document_id));
  rocksdb::ReadOptions options;
  rocksdb::Slice upper(end);
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(options, store_.cf(Cf::kDocumentChunks)));
  it->Seek(begin);
  const bool found = it->Valid();
  if (!it->status().ok()) return from_rocksdb(it->status(), "The database could not read an upload's bytes");
  return found;
}

Status BlobWriter::truncate(uint64_t document_id, uint64_t from) {
  const std::string begin = piece_key(document_id, from);
  const std::string end = keys::prefix_end(keys::PairKey::prefix(document_id));
  rocksdb::Status s = store_.db()->DeleteRange(unlogged(), store_.cf(Cf::kDocumentChunks), begin, end);
  if (!s.ok()) return from_rocksdb(s, "The database could not drop the unrecorded end of an upload");
  return Status::ok();
}

Status BlobWriter::make_durable() {
  // Counted from the start: what is appended meanwhile is the next flush's.
  const uint64_t before = unflushed_.exchange(0, std::memory_order_acq_rel);
  rocksdb::FlushOptions options;
  options.wait = true;
  // Never a flush that would stall the database's writes (the committer's
  // among them): wait for the background work that prevents it instead.
  options.allow_write_stall = false;
  rocksdb::Status s = store_.db()->Flush(options, store_.cf(Cf::kDocumentChunks));
  if (!s.ok()) {
    unflushed_.fetch_add(before, std::memory_order_acq_rel);  // still waiting for a flush
    return from_rocksdb(s, "The database could not write the uploaded bytes to the disk");
  }
  return Status::ok();
}

Status BlobWriter::remove(uint64_t document_id) {
  const std::string begin = keys::PairKey::prefix(document_id);
  const std::string end = keys::prefix_end(begin);
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status s = store_.db()->DeleteRange(options, store_.cf(Cf::kDocumentChunks), begin, end);
  if (!s.ok()) return from_rocksdb(s, "The database could not remove a document's bytes");
  return Status::ok();
}

Result<bool> BlobReader::load_piece(uint64_t offset) {
  rocksdb::DB* db = store_.db();
  rocksdb::ColumnFamilyHandle* cf = store_.cf(Cf::kDocumentChunks);
  // Reading forward: the next piece starts where the last one ended.
  if (loaded_ && offset == piece_offset_ + piece_.size()) {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, piece_key(document_id_, offset), &value);
    if (s.ok()) {
      piece_offset_ = offset;
      piece_ = std::move(value);
      return !piece_.empty();
    }
    if (!s.IsNotFound()) return from_rocksdb(s, "The database could not read a document's bytes");
  }
  loaded_ = false;
  piece_.clear();
  const std::string prefix = keys::PairKey::prefix(document_id_);
  rocksdb::ReadOptions options;
  rocksdb::Slice lower(prefix);
  options.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, cf));
  it->SeekForPrev(piece_key(document_id_, offset));
  if (!it->status().ok()) return from_rocksdb(it->status(), "The database could not read a document's bytes");
  if (!it->Valid()) return false;
  const std::optional<keys::PairKey> key = keys::PairKey::decode(it->key().ToStringView());
  if (!key || key->parent != document_id_) return false;
  const rocksdb::Slice value = it->value();
  if (!it->status().ok()) return from_rocksdb(it->status(), "The database could not read a document's bytes");
  if (offset >= key->child + value.size()) return false;
  piece_offset_ = key->child;
  piece_.assign(value.data(), value.size());
  loaded_ = true;
  return true;
}

Result<size_t> BlobReader::read_at(uint64_t offset, char* out, size_t max) {
  if (max == 0) return size_t{0};
  const bool held = loaded_ && offset >= piece_offset_ && offset < piece_offset_ + piece_.size();
  if (!held) {
    auto found = load_piece(offset);
    if (!found) return found.status();
    if (!*found) return size_t{0};
    loaded_ = true;
  }
  const uint64_t at = offset - piece_offset_;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(max, piece_.size() - at));
  std::memcpy(out, piece_.data() + at, n);
  return n;
}

}  // namespace preceptor::storage
