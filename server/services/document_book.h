#pragma once

// Document records as the other work services see them (the documents
// service owns uploads, bytes and downloads). Internal to server/services.

#include <cstdint>

#include "common/status.h"
#include "preceptor/v1/records.pb.h"
#include "preceptor/v1/work.pb.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// Document `id`'s record; nullopt when there is none.
Result<std::optional<v1::DocumentRecord>> load_document(storage::CommitContext& ctx, uint64_t id);
Result<std::optional<v1::DocumentRecord>> load_document(const storage::Store& store, uint64_t id);

// For SubmitVersion, in its mutation: document `document_id` becomes
// version `version` of assignment `assignment_id` (in mentorship
// `mentorship_id`, submitted by `submitter_id`), and is returned. Refused:
//   no such document, another mentorship's, or an upload not finished:
//     NOT_FOUND / FAILED_PRECONDITION on "document_id";
//   uploaded by someone else: PERMISSION_DENIED ("Submit a document you uploaded.");
//   already a version (of any assignment): ALREADY_EXISTS.
Result<v1::Document> claim_document(storage::CommitContext& ctx, uint64_t document_id, uint64_t mentorship_id,
                                    uint64_t submitter_id, uint64_t assignment_id, uint32_t version);

}  // namespace preceptor::services
