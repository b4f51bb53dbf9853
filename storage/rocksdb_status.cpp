#include "storage/rocksdb_status.h"

#include <cassert>
#include <string>

#include "common/log.h"

namespace preceptor::storage {

Status from_rocksdb(const rocksdb::Status& s, std::string_view doing) {
  assert(!s.ok() && "only a failure becomes a Status");
  log::error("storage_error").kv("doing", doing).kv("error", s.ToString());
  std::string msg(doing);
  msg += ".";
  if (s.IsCorruption()) return data_loss(std::move(msg)).with_detail(s.ToString());
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return unavailable(std::move(msg)).with_detail(s.ToString());
  }
  return internal_error(std::move(msg)).with_detail(s.ToString());
}

}  // namespace preceptor::storage
