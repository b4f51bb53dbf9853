#include "server/services/document_book.h"

#include <string>

#include "server/services/record_io.h"
#include "storage/keys.h"

namespace preceptor::services {
namespace {

using storage::Cf;

std::string document_key(uint64_t id) { return storage::keys::IdKey{.id = id}.encode(); }

}  // namespace

Result<std::optional<v1::DocumentRecord>> load_document(storage::CommitContext& ctx, uint64_t id) {
  return load<v1::DocumentRecord>(ctx, Cf::kDocuments, document_key(id));
}

Result<std::optional<v1::DocumentRecord>> load_document(const storage::Store& store, uint64_t id) {
  return load<v1::DocumentRecord>(store, Cf::kDocuments, document_key(id));
}

Result<v1::Document> claim_document(storage::CommitContext& ctx, uint64_t document_id, uint64_t mentorship_id,
                                    uint64_t submitter_id, uint64_t assignment_id, uint32_t version) {
  auto rec = load_document(ctx, document_id);
  if (!rec) return rec.status();
  if (!rec->has_value() || (*rec)->document().mentorship_id() != mentorship_id) {
    return not_found("No document " + std::to_string(document_id) + " in this mentorship; upload it first.",
                     "document_id");
  }
  v1::DocumentRecord& doc = **rec;
  if (doc.state() != v1::DOCUMENT_STATE_COMPLETE) {
    return Status(v1::ERROR_CODE_FAILED_PRECONDITION,
                  "Document " + std::to_string(document_id) +
                      " is still being uploaded; submit it once the upload has finished.",
                  "document_id");
  }
  if (doc.document().owner_id() != submitter_id) {
    return Status(v1::ERROR_CODE_PERMISSION_DENIED, "Submit a document you uploaded yourself.",
                  "document_id");
  }
  if (doc.used_by_assignment() != 0) {
    return already_exists("Document " + std::to_string(document_id) + " is already version " +
                              std::to_string(doc.used_by_version()) + " of assignment " +
                              std::to_string(doc.used_by_assignment()) +
                              "; upload the new version as a new file.",
                          "document_id");
  }
  doc.set_used_by_assignment(assignment_id);
  doc.set_used_by_version(version);
  save(ctx, Cf::kDocuments, document_key(document_id), doc);
  return doc.document();
}

}  // namespace preceptor::services
