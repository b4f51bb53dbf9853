#include "server/services/audit.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "common/log.h"
#include "preceptor/v1/records.pb.h"
#include "server/services/accounts.h"
#include "server/services/record_io.h"
#include "server/services/text_checks.h"
#include "storage/keys.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

constexpr uint32_t kDefaultAuditPage = 200;
constexpr uint32_t kMaxAuditPage = 1000;
// Entries a filtered page looks at, at most, before it answers (perhaps with
// none) and has_more: a filter matching nothing does not read the whole log
// in one request.
constexpr size_t kMaxExaminedPerPage = 20'000;

// `text` as one line of valid UTF-8 of at most `max` bytes.
std::string bounded(std::string_view text, size_t max) {
  if (text.empty()) return {};
  if (!valid_utf8(text)) return "(not UTF-8)";
  std::string out(text);
  for (char& c : out) {
    if ((c >= 0 && c < 0x20) || c == 0x7f) c = ' ';
  }
  return truncate_utf8(std::move(out), max);
}

Status damaged_entry() {
  return data_loss("An entry of the audit log in the database is damaged; restore the store from a backup.");
}

}  // namespace

AuditActor audit_actor(const api::Caller& caller) {
  AuditActor by{.address = caller.peer_address};
  if (caller.session) {
    by.user_id = caller.user().id();
    by.username = caller.user().username();
  }
  return by;
}

v1::AuditEntry audit_entry(v1::AuditKind kind, const AuditActor& by, uint64_t subject_id,
                           std::string_view subject_username, std::string_view detail) {
  v1::AuditEntry entry;
  entry.set_kind(kind);
  entry.set_actor_id(by.user_id);
  entry.set_actor_username(by.username);
  entry.set_address(by.address);
  entry.set_subject_id(subject_id);
  entry.set_username(std::string(subject_username));
  entry.set_detail(std::string(detail));
  return entry;
}

uint64_t append_audit(storage::CommitContext& ctx, v1::AuditEntry entry) {
  const uint64_t sequence = ctx.next_id("audit");
  entry.set_sequence(sequence);
  entry.set_time_ms(ctx.now_ms());
  entry.set_actor_username(bounded(entry.actor_username(), kMaxAuditUsernameBytes));
  entry.set_username(bounded(entry.username(), kMaxAuditUsernameBytes));
  entry.set_address(bounded(entry.address(), kMaxAuditAddressBytes));
  entry.set_detail(bounded(entry.detail(), kMaxAuditDetailBytes));
  v1::AuditRecord record;
  *record.mutable_entry() = std::move(entry);
  ctx.put(Cf::kAudit, keys::Audit{.sequence = sequence}.encode(), record.SerializeAsString());
  return sequence;
}

void submit_audit(storage::Committer& committer, v1::AuditEntry entry,
                  std::function<void(const Status&)> done) {
  committer.submit(
      [entry = std::move(entry)](storage::CommitContext& ctx) -> Status {
        append_audit(ctx, entry);
        return Status::ok();
      },
      [kind = entry.kind(), done = std::move(done)](const Status& st) {
        if (!st)
          log::warn("audit_write_failed").kv("kind", audit_kind_name(kind)).kv("error", st.to_string());
        if (done) done(st);
      });
}

Result<v1::ListAuditResult> list_audit(const storage::Store& store, const Accounts& accounts,
                                       const v1::ListAudit& request) {
  if (request.limit() > kMaxAuditPage) {
    return invalid_argument("limit may be at most " + std::to_string(kMaxAuditPage) + " entries a page.",
                            "limit");
  }
  const uint32_t limit = request.limit() == 0 ? kDefaultAuditPage : request.limit();
  const bool filtered = !request.username().empty();
  uint64_t user_id = 0;  // the filter's user, when one has that name
  std::string name_key;  // the filter's canonical name
  if (filtered) {
    if (!valid_username(request.username())) {
      return invalid_argument(
          "The username to filter by may contain only letters, digits, '.', '_', '-' and '@' (3-64 "
          "characters).",
          "username");
    }
    name_key = keys::Username{.username = request.username()}.encode();
    auto user = accounts.find_user(request.username());
    if (user) {
      user_id = user->id();
    } else if (user.status().code() != v1::ERROR_CODE_NOT_FOUND) {
      return user.status();
    }
  }
  auto matches = [&](const v1::AuditEntry& e) {
    if (!filtered) return true;
    if (user_id != 0 && (e.actor_id() == user_id || e.subject_id() == user_id)) return true;
    return e.subject_id() == 0 && !e.username().empty() &&
           keys::Username{.username = e.username()}.encode() == name_key;
  };

  v1::ListAuditResult out;
  out.set_next_after_sequence(request.after_sequence());
  if (request.after_sequence() == std::numeric_limits<uint64_t>::max()) return out;
  const std::string begin = keys::Audit{.sequence = request.after_sequence() + 1}.encode();
  size_t bytes = 0;
  size_t examined = 0;
  Status st;
  auto scanned = store.scan(Cf::kAudit, {.begin = begin}, [&](std::string_view key, std::string_view value) {
    const std::optional<keys::Audit> k = keys::Audit::decode(key);
    v1::AuditRecord record;
    if (!k || !record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      st = damaged_entry();
      return false;
    }
    if (++examined > kMaxExaminedPerPage) {
      out.set_has_more(true);
      return false;
    }
    if (!matches(record.entry())) {
      out.set_next_after_sequence(k->sequence);
      return true;
    }
    const size_t size = record.entry().ByteSizeLong();
    if (static_cast<uint32_t>(out.entries_size()) == limit ||
        (out.entries_size() > 0 && bytes + size > kMaxPageBytes)) {
      out.set_has_more(true);
      return false;
    }
    bytes += size;
    *out.add_entries() = std::move(*record.mutable_entry());
    out.set_next_after_sequence(k->sequence);
    return true;
  });
  if (!scanned) return scanned.status();
  if (!st) return st;
  return out;
}

AuditRetention::AuditRetention(storage::Store& store, storage::Committer& committer, const Clock& clock,
                               AuditOptions options)
    : store_(store), committer_(committer), clock_(clock), options_(options) {}

Result<AuditSweep> AuditRetention::sweep_once() {
  AuditSweep sweep;
  const int64_t cutoff = clock_.now_ms() - options_.retention_ms;
  std::vector<uint64_t> expired;
  bool contiguous = true;  // every entry scanned so far is in `expired`
  bool young = false;      // reached an entry to keep
  const std::string begin = keys::Audit{.sequence = swept_through_ + 1}.encode();
  auto scanned = store_.scan(
      Cf::kAudit, {.begin = begin},
      [&](std::string_view key, std::string_view value) {
        const std::optional<keys::Audit> k = keys::Audit::decode(key);
        v1::AuditRecord record;
        if (!k || !record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          contiguous = false;  // a damaged entry is kept for whoever restores the store
          return true;
        }
        if (record.entry().time_ms() >= cutoff) {
          young = true;
          return false;
        }
        expired.push_back(k->sequence);
        return true;
      },
      storage::ScanLimits{.max_entries = std::max<size_t>(1, options_.sweep_batch)});
  if (!scanned) return scanned.status();
  sweep.finished = young || *scanned != storage::ScanEnd::kLimitReached;
  if (expired.empty()) return sweep;

  std::promise<Status> written;
  auto done = written.get_future();
  committer_.submit(
      [expired](storage::CommitContext& ctx) -> Status {
        for (uint64_t sequence : expired) ctx.del(Cf::kAudit, keys::Audit{.sequence = sequence}.encode());
        return Status::ok();
      },
      [&written](const Status& st) { written.set_value(st); });
  Status st = done.get();
  if (!st) return st;
  if (contiguous) swept_through_ = expired.back();
  sweep.deleted = expired.size();
  log::info("audit_entries_expired")
      .kv("deleted", static_cast<uint64_t>(expired.size()))
      .kv("through_sequence", expired.back())
      .kv("retention_days", static_cast<int64_t>(options_.retention_ms / (24LL * 3600 * 1000)));
  return sweep;
}

std::string audit_kind_name(v1::AuditKind kind) {
  std::string name = v1::AuditKind_Name(kind);
  constexpr std::string_view kPrefix = "AUDIT_KIND_";
  if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.empty()) name = "kind_" + std::to_string(static_cast<int>(kind));
  return name;
}

}  // namespace preceptor::services
