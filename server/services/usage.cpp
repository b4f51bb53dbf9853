#include "server/services/usage.h"

#include <algorithm>
#include <string>

#include "preceptor/v1/records.pb.h"
#include "server/services/record_io.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

std::string in_mib(uint64_t bytes) {
  const uint64_t mib = (bytes + (1u << 19)) >> 20;  // rounded
  return std::to_string(mib) + " MiB";
}

}  // namespace

uint64_t quota_bytes_of(const v1::Message& message) {
  return message.body().size() + message.check_in().note().size();
}

namespace {

// Adds `delta` to one of the two counts of `user_id`'s UserUsage; a positive
// delta must keep both counts together within the quota.
Status charge(storage::CommitContext& ctx, uint64_t user_id, int64_t delta, const StorageQuota& quota,
              bool documents) {
  if (delta == 0) return Status::ok();
  const std::string key = keys::UserUsage{.user_id = user_id}.encode();
  auto usage = load<v1::UserUsage>(ctx, Cf::kUserUsage, key);
  if (!usage) return usage.status();
  v1::UserUsage record = usage->value_or(v1::UserUsage());
  const uint64_t before = documents ? record.document_bytes() : record.message_bytes();
  const uint64_t other = documents ? record.message_bytes() : record.document_bytes();
  uint64_t after = 0;
  if (delta < 0) {
    after = before - std::min<uint64_t>(before, static_cast<uint64_t>(-delta));
  } else {
    after = before + static_cast<uint64_t>(delta);
    if (quota.bytes_per_user != 0 && after + other > quota.bytes_per_user) {
      const std::string stores = "Your account stores " + in_mib(record.message_bytes()) +
                                 " of messages and " + in_mib(record.document_bytes()) +
                                 " of documents, and its limit is " + in_mib(quota.bytes_per_user);
      if (documents) {
        return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                      stores + "; this upload needs " + in_mib(static_cast<uint64_t>(delta)) +
                          " more. Abandon uploads you will not finish, or ask an administrator to raise the "
                          "limit (--user-quota-mb).",
                      "quota");
      }
      return resource_exhausted(stores +
                                    ". Delete messages you no longer need, or ask an administrator to raise "
                                    "the limit (--user-quota-mb).",
                                0);
    }
  }
  if (documents) {
    record.set_document_bytes(after);
  } else {
    record.set_message_bytes(after);
  }
  save(ctx, Cf::kUserUsage, key, record);
  return Status::ok();
}

}  // namespace

Status charge_stored_bytes(storage::CommitContext& ctx, uint64_t user_id, int64_t delta,
                           const StorageQuota& quota) {
  return charge(ctx, user_id, delta, quota, false);
}

Status charge_document_bytes(storage::CommitContext& ctx, uint64_t user_id, int64_t delta,
                             const StorageQuota& quota) {
  return charge(ctx, user_id, delta, quota, true);
}

Result<uint64_t> stored_bytes(const storage::Store& store, uint64_t user_id) {
  auto usage = load<v1::UserUsage>(store, Cf::kUserUsage, keys::UserUsage{.user_id = user_id}.encode());
  if (!usage) return usage.status();
  return usage->has_value() ? (*usage)->message_bytes() + (*usage)->document_bytes() : 0;
}

}  // namespace preceptor::services
