#pragma once

#include <cstdint>

namespace preceptor::services {

// The documents service's settings (server/config.h fills them from flags).
struct DocumentOptions {
  // Upload-Length at most, bytes (--max-upload-mb; default 25 MiB).
  uint64_t max_upload_bytes = 25ull << 20;
};

}  // namespace preceptor::services
