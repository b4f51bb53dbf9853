#pragma once

// The security log: an append-only record, in the `audit` family, of
// sign-ins (and failed ones), sign-outs, revocations, account changes,
// created users and program directors' reads (docs/security.md). Never
// message text, notes, bios, passwords or tokens: an entry carries ids,
// usernames, an address, a role and a short detail sentence written here or
// by the service that records it, never text a user wrote.
//
// Entries of a change are written by the change's own mutation
// (append_audit), so the change and its record are durable together or not
// at all. What is not a change (a failed sign-in, a director's read) is
// written by a mutation of its own. Nothing edits or deletes an entry but the
// retention sweep.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/audit.pb.h"
#include "server/api/session.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

class Accounts;

// Who did something, as an audit entry names them.
struct AuditActor {
  uint64_t user_id = 0;       // 0: the server itself, or preceptor-admin working on the data folder
  std::string username = {};  // "" with user_id 0
  // The client's IP address (api::Caller::peer_address, what the sign-in
  // limits count); "" without a network client.
  std::string address = {};
};

// The signed-in caller of a request, from its address.
AuditActor audit_actor(const api::Caller& caller);

inline constexpr size_t kMaxAuditDetailBytes = 200;
inline constexpr size_t kMaxAuditUsernameBytes = 64;  // the longest valid username
inline constexpr size_t kMaxAuditAddressBytes = 64;   // longer than any IPv6 address text

struct AuditOptions {
  // Entries older than this are deleted by timed work (default 365 days).
  // REQUIRES: > 0.
  int64_t retention_ms = 365LL * 24 * 3600 * 1000;
  size_t sweep_batch = 1000;  // entries deleted per mutation at most (default 1000)
};

// An entry of `kind` by `by` about `subject_id` (0: nobody in particular),
// whose username is `subject_username`; sequence and time are set when it
// is appended.
v1::AuditEntry audit_entry(v1::AuditKind kind, const AuditActor& by, uint64_t subject_id = 0,
                           std::string_view subject_username = {}, std::string_view detail = {});

// Inside a mutation: stores `entry` under the next audit sequence (meta
// "next_id/audit"), dated with the group's commit time. Text fields are cut
// to their bounds (valid UTF-8 kept). Returns the sequence. Rolled back with
// the mutation.
uint64_t append_audit(storage::CommitContext& ctx, v1::AuditEntry entry);

// Writes `entry` in a mutation of its own; `done` (committer thread, keep it
// short; may be empty) gets the outcome.
void submit_audit(storage::Committer& committer, v1::AuditEntry entry,
                  std::function<void(const Status&)> done = {});

// One page of the log (see ListAudit in audit.proto), read from committed
// data. `accounts` resolves the username filter. INVALID_ARGUMENT for a
// limit above 1000 or a filter that is not a valid username. Any thread.
Result<v1::ListAuditResult> list_audit(const storage::Store& store, const Accounts& accounts,
                                       const v1::ListAudit& request);

// What one retention pass did.
struct AuditSweep {
  size_t deleted = 0;
  bool finished = false;  // no expired entry is left
};

// Deletes entries older than options.retention_ms at `clock`'s now, oldest
// first, at most options.sweep_batch in one mutation, and logs how many went
// (event=audit_entries_expired; no entry is written for it, or every sweep
// would leave one more to sweep). Blocks until durable: for timed work, one
// caller at a time.
class AuditRetention {
 public:
  AuditRetention(storage::Store& store, storage::Committer& committer, const Clock& clock,
                 AuditOptions options);
  Result<AuditSweep> sweep_once();

 private:
  storage::Store& store_;
  storage::Committer& committer_;
  const Clock& clock_;
  AuditOptions options_;
  // Every sequence up to here is known to be deleted: scans start after it,
  // not over the tombstones of earlier sweeps. Forgotten on restart.
  uint64_t swept_through_ = 0;
};

// "sign_in_failed" for AUDIT_KIND_SIGN_IN_FAILED: the name tools print.
std::string audit_kind_name(v1::AuditKind kind);

}  // namespace preceptor::services
