#pragma once

#include <cstdint>

#include "common/status.h"
#include "preceptor/v1/chat.pb.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// The bytes one account may keep stored: message text and documents
// (UserUsage), counted together. A write that would pass it is refused with
// RESOURCE_EXHAUSTED and a sentence; deleting gives the bytes back.
struct StorageQuota {
  uint64_t bytes_per_user = 256ull << 20;  // 0: no limit
};

// The stored text of a message that counts against its sender's quota.
uint64_t quota_bytes_of(const v1::Message& message);

// Inside a mutation: adds `delta` (may be negative) to what `user_id` has
// stored. A positive delta that would take the user past the quota rejects
// the mutation (nothing is written); a negative one always passes.
Status charge_stored_bytes(storage::CommitContext& ctx, uint64_t user_id, int64_t delta,
                           const StorageQuota& quota);

// The same for documents: `delta` bytes of documents (an upload's declared
// length, reserved when it starts; negative when an upload is abandoned or
// expires). Past the quota: RESOURCE_EXHAUSTED on "quota", nothing written.
Status charge_document_bytes(storage::CommitContext& ctx, uint64_t user_id, int64_t delta,
                             const StorageQuota& quota);

// What `user_id` has stored, in bytes (committed data).
Result<uint64_t> stored_bytes(const storage::Store& store, uint64_t user_id);

}  // namespace preceptor::services
