#include "storage/rocksdb_status.h"

#include <cassert>
#include <string>

namespace preceptor::storage {

Status from_rocksdb(const rocksdb::Status& s, std::string_view doing) {
  assert(!s.ok() && "only a failure becomes a Status");
  std::string msg(doing);
  msg += " (";
  msg += s.ToString();
  msg += ").";
  if (s.IsCorruption()) return data_loss(std::move(msg));
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return unavailable(std::move(msg));
  return internal_error(std::move(msg));
}

}  // namespace preceptor::storage
