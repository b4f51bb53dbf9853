#pragma once

// Internal to storage/: nothing outside this folder sees a RocksDB status.

#include <rocksdb/status.h>

#include <string_view>

#include "common/status.h"

namespace preceptor::storage {

// A failed RocksDB call as a Status: corruption is DATA_LOSS; I/O errors,
// busy, timed out and try-again are UNAVAILABLE (the disk or a lock, worth
// retrying later); anything else is INTERNAL. `doing` is the sentence that
// says what was being done, e.g. "Could not read from messages", and is what
// a client may read; RocksDB's own text (which can name files) is only the
// detail, for the log.
// REQUIRES: !s.ok()
Status from_rocksdb(const rocksdb::Status& s, std::string_view doing);

}  // namespace preceptor::storage
