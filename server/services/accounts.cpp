#include "server/services/accounts.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <future>
#include <limits>
#include <memory>
#include <set>
#include <utility>

#include "preceptor/v1/events.pb.h"
#include "server/hub/hub.h"
#include "server/services/audit.h"
#include "server/services/indexes.h"
#include "server/services/record_io.h"
#include "server/services/text_checks.h"
#include "server/services/time_zones.h"
#include "server/services/token_crypto.h"
#include "storage/keys.h"

namespace preceptor::services {

namespace {

using storage::Cf;

constexpr size_t kMaxDeviceNameBytes = 100;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

const char* const kWrongCredentials = "Wrong username or password.";
const char* const kMalformedToken = "This token is not valid; sign in again.";
const char* const kStopping = "The server is shutting down; sign in again in a moment.";
const char* const kConnectionGone = "The connection closed before the password was checked.";
const char* const kUnknownToken =
    "This token is not valid (it was revoked or never existed); sign in again with your password.";

// "7 days", "1 hour", "30 minutes": the largest unit that fits.
std::string describe_duration(int64_t ms) {
  auto plural = [](int64_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (ms >= kDayMs) return plural((ms + kDayMs / 2) / kDayMs, "day");
  if (ms >= 3600 * 1000) return plural((ms + 1800 * 1000) / (3600 * 1000), "hour");
  if (ms >= 60 * 1000) return plural((ms + 30 * 1000) / (60 * 1000), "minute");
  return plural(std::max<int64_t>(1, (ms + 999) / 1000), "second");
}

std::string device_name_of(const std::string& requested) {
  if (requested.empty() || is_blank(requested) || !valid_utf8(requested)) return "unnamed device";
  return truncate_utf8(requested, kMaxDeviceNameBytes);
}

std::string user_key(uint64_t user_id) { return storage::encode_u64(user_id); }

// The name a sign-in tried, as the audit log keeps it: only a valid
// username (anything else may be a password typed into the wrong field).
std::string attempted_name(const std::string& username) {
  return valid_username(username) ? username : std::string();
}

std::string sessions_ended(uint32_t n) {
  return "ended " + std::to_string(n) + " session" + (n == 1 ? "" : "s");
}

Status unreadable_user(uint64_t user_id) {
  return data_loss("The stored record of user " + std::to_string(user_id) +
                   " cannot be read; restore the store from a backup.");
}

Status unreadable_token() {
  return data_loss("The stored record of this token cannot be read; sign in again.");
}

// OK when the token may still be used at `now_ms`; UNAUTHENTICATED saying why not.
Status check_token_times(const v1::TokenRecord& rec, int64_t now_ms) {
  if (now_ms >= rec.expires_at_ms()) return unauthenticated("Your session expired; sign in again.");
  if (rec.idle_timeout_ms() > 0 && now_ms > rec.last_used_ms() + rec.idle_timeout_ms()) {
    return unauthenticated("Your session expired after " + describe_duration(rec.idle_timeout_ms()) +
                           " without use; sign in again.");
  }
  return Status::ok();
}

Result<std::optional<v1::TokenRecord>> parse_token(const Result<std::optional<std::string>>& raw) {
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<v1::TokenRecord>();
  v1::TokenRecord rec;
  if (!rec.ParseFromString(**raw)) return unreadable_token();
  return std::optional<v1::TokenRecord>(std::move(rec));
}

Result<std::optional<v1::UserRecord>> parse_user(uint64_t user_id,
                                                 const Result<std::optional<std::string>>& raw) {
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<v1::UserRecord>();
  v1::UserRecord rec;
  if (!rec.ParseFromString(**raw)) return unreadable_user(user_id);
  return std::optional<v1::UserRecord>(std::move(rec));
}

// How many of a user's token index entries one login looks at to find the
// oldest. More than any cap in use; a user with more (tokens made before
// the cap existed) is brought under it by sweeps and later logins.
constexpr size_t kMaxTokensScannedPerLogin = 1000;

struct EndedTokens {
  std::vector<std::string> hashes;  // of the tokens deleted
  // When the user's newest token was made (created_ms), whether kept or
  // ended; minimum when they had none.
  int64_t newest_ms = std::numeric_limits<int64_t>::min();
};

// Inside a mutation: deletes the user's oldest tokens until at most `keep`
// are left. Entries whose token record is missing or damaged count as
// oldest.
Result<EndedTokens> end_oldest_tokens(storage::CommitContext& ctx, uint64_t user_id, size_t keep) {
  std::vector<std::pair<int64_t, std::string>> live;  // created_ms, hash
  Status damaged;
  auto scanned = ctx.scan_prefix(
      Cf::kUserTokens, storage::keys::UserToken::prefix(user_id),
      [&](std::string_view key, std::string_view) {
        const std::optional<storage::keys::UserToken> entry = storage::keys::UserToken::decode(key);
        if (!entry) return true;  // not a token entry
        std::string hash(entry->token_hash);
        auto rec = ctx.get(Cf::kTokens, hash);
        if (!rec) {
          damaged = rec.status();
          return false;
        }
        v1::TokenRecord token;
        const bool readable = rec->has_value() && token.ParseFromString(**rec);
        live.emplace_back(readable ? token.created_ms() : std::numeric_limits<int64_t>::min(),
                          std::move(hash));
        return true;
      },
      storage::ScanLimits{.max_entries = kMaxTokensScannedPerLogin});
  if (!scanned) return scanned.status();
  if (!damaged) return damaged;
  EndedTokens ended;
  std::sort(live.begin(), live.end());
  if (!live.empty()) ended.newest_ms = live.back().first;
  for (size_t i = 0; i + keep < live.size(); ++i) {
    ctx.del(Cf::kTokens, live[i].second);
    ctx.del(Cf::kUserTokens, storage::user_token_key(user_id, live[i].second));
    ended.hashes.push_back(std::move(live[i].second));
  }
  return ended;
}

// Writes one new user inside a mutation; ALREADY_EXISTS when the name is taken.
Result<v1::User> put_new_user(storage::CommitContext& ctx, const NewUser& user,
                              const std::string& password_hash) {
  const std::string name_key = storage::username_key(user.username);
  auto taken = ctx.get(Cf::kUsernames, name_key);
  if (!taken) return taken.status();
  if (taken->has_value())
    return already_exists("A user named " + user.username + " already exists.", "username");
  const uint64_t id = ctx.next_id("user");
  v1::UserRecord rec;
  v1::User* u = rec.mutable_user();
  u->set_id(id);
  u->set_username(user.username);
  u->set_display_name(user.display_name);
  u->set_role(user.role);
  u->set_specialty(user.specialty);
  u->set_training_level(user.training_level);
  u->set_time_zone(user.time_zone);
  rec.set_password_hash(password_hash);
  rec.set_created_ms(ctx.now_ms());
  ctx.put(Cf::kUsers, user_key(id), rec.SerializeAsString());
  ctx.put(Cf::kUsernames, name_key, user_key(id));
  index_user_role(ctx, rec.user());
  v1::Event event;
  *event.mutable_user_created()->mutable_user() = rec.user();
  ctx.append_event(std::move(event), {id});
  v1::AuditEntry entry = audit_entry(v1::AUDIT_KIND_USER_CREATED, AuditActor{}, id, user.username);
  entry.set_role(user.role);
  append_audit(ctx, std::move(entry));
  return rec.user();
}

}  // namespace

Status validate_new_user_format(const NewUser& user) {
  if (user.username.empty()) return invalid_argument("The username is missing.", "username");
  if (!valid_username(user.username)) {
    return invalid_argument(
        "The username may contain only letters, digits, '.', '_', '-' and '@' (3-64 characters).",
        "username");
  }
  PRECEPTOR_RETURN_IF_ERROR(check_password_length(user.password));
  PRECEPTOR_RETURN_IF_ERROR(check_text(user.display_name, "display_name", "display name", true));
  if (user.role == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(user.role)) {
    return invalid_argument("The role is missing; use mentee, mentor, program director or admin.", "role");
  }
  PRECEPTOR_RETURN_IF_ERROR(check_text(user.specialty, "specialty", "specialty", false));
  PRECEPTOR_RETURN_IF_ERROR(check_text(user.training_level, "training_level", "training level", false));
  PRECEPTOR_RETURN_IF_ERROR(check_time_zone(user.time_zone));
  return Status::ok();
}

Accounts::Accounts(storage::Store& store, storage::Committer& committer, const Clock& clock,
                   const MonotonicClock& monotonic_clock, Executor& blocking, AccountsOptions options,
                   hub::Hub* hub)
    : store_(store),
      committer_(committer),
      clock_(clock),
      blocking_(blocking),
      options_(options),
      hub_(hub),
      login_limits_(
          LoginLimitRates{
              .per_username_address =
                  TokenRate::one_every_ms(options.login_failures_per_username_address_refill_ms,
                                          options.login_failures_per_username_address_burst),
              .per_address = TokenRate::one_every_ms(options.login_failures_per_address_refill_ms,
                                                     options.login_failures_per_address_burst),
              .per_username = TokenRate::one_every_ms(options.login_failures_per_username_refill_ms,
                                                      options.login_failures_per_username_burst)},
          monotonic_clock),
      login_queue_(LoginQueueBounds{.per_connection = options.logins_in_flight_per_connection,
                                    .per_address = options.logins_in_flight_per_address,
                                    .total = options.logins_in_flight_total}),
      refusal_records_by_address_(TokenRate::one_every_ms(kRefusalRecordPerAddressMs, 1), monotonic_clock,
                                  10'000),
      refusal_records_overall_(TokenRate::one_every_ms(kRefusalRecordOverallMs, 60), monotonic_clock) {
  init_sodium_once();
  // Same cost as real hashes, so that verifying against it takes as long.
  std::array<unsigned char, 16> junk;
  randombytes_buf(junk.data(), junk.size());
  auto dummy =
      hash_password(to_hex(std::string_view(reinterpret_cast<const char*>(junk.data()), junk.size())));
  if (dummy) dummy_hash_ = std::move(*dummy);
  // else: left empty; verification of unknown names then fails fast, which is still a failure.
}

Result<std::string> Accounts::hash_password(std::string_view password) const {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), options_.pwhash_opslimit,
                            options_.pwhash_memlimit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return internal_error(
        "The server could not hash the password (out of memory, or the configured argon2id cost is invalid); "
        "try again later or ask the operator to check pwhash settings.");
  }
  return std::string(out.data());
}

// Everything that can refuse a sign-in cheaply does so before the (slow)
// check: the password's length, the queue bounds, then the limits, whose
// tokens are taken now and given back unless the attempt was a wrong guess.
void Accounts::login(const v1::Login& request, const LoginSource& source,
                     std::function<void(Result<LoginOutcome>)> done) {
  if (request.password().size() > kMaxPasswordBytes) {
    done(invalid_argument("The password is longer than " + std::to_string(kMaxPasswordBytes) +
                              " bytes, which no password here can be; check what is being sent.",
                          "password"));
    return;
  }
  if (logins_stopped_.load()) {
    done(unavailable(kStopping));
    return;
  }
  auto place = login_queue_.enter(source.connection_id, address_limit_key(source.address));
  if (!place) {
    record_refused_sign_in(source.address, attempted_name(request.username()), place.status());
    done(place.status());
    return;
  }
  const bool name_ok = valid_username(request.username());
  const std::string name_key =
      name_ok ? storage::username_key(request.username()) : std::string(kInvalidUsernameLimitKey);
  auto reservation = login_limits_.reserve(name_key, source.address);
  if (!reservation) {
    record_refused_sign_in(source.address, attempted_name(request.username()), reservation.status());
    done(reservation.status());
    return;
  }

  // Look the user up now (a fast read); verify on the blocking executor.
  std::optional<v1::UserRecord> record;
  if (name_ok) {
    auto found = [&]() -> Status {
      auto id_raw = store_.get(Cf::kUsernames, name_key);
      if (!id_raw) return id_raw.status();
      if (!id_raw->has_value()) return Status::ok();
      auto id = storage::decode_u64(**id_raw);
      if (!id) {
        return data_loss("The stored index entry of user " + request.username() +
                         " cannot be read; restore the store from a backup.");
      }
      auto rec = parse_user(*id, store_.get(Cf::kUsers, user_key(*id)));
      if (!rec) return rec.status();
      record = std::move(*rec);
      return Status::ok();
    }();
    if (!found) {
      login_limits_.release(*reservation);
      done(found);
      return;
    }
  }

  blocking_.run([this, record = std::move(record), password = request.password(),
                 device = device_name_of(request.device_name()), place = std::move(*place),
                 reservation = std::move(*reservation), gone = source.gone, address = source.address,
                 attempted = attempted_name(request.username()), name_ok, done = std::move(done)]() mutable {
    if (logins_stopped_.load() || (gone && gone->load())) {
      // Nobody waits for the answer, or the server is stopping: no check, so no guess was made.
      sodium_memzero(password.data(), password.size());
      login_limits_.release(reservation);
      place.reset();
      done(unavailable(logins_stopped_.load() ? kStopping : kConnectionGone));
      return;
    }
    const std::string& hash = record ? record->password_hash() : dummy_hash_;
    bool ok = !hash.empty() && crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    sodium_memzero(password.data(), password.size());
    place.reset();  // the slow part is over
    if (!record || record->disabled()) ok = false;
    if (!ok) {
      // Failures are bounded by the limits above (each took a reservation) and by the queue.
      const char* why = !record              ? (name_ok ? "no such user" : "not a valid username")
                        : record->disabled() ? "the account is disabled"
                                             : "wrong password";
      submit_audit(committer_, audit_entry(v1::AUDIT_KIND_SIGN_IN_FAILED, AuditActor{.address = address},
                                           record ? record->user().id() : 0, attempted, why));
      done(unauthenticated(kWrongCredentials));  // the reservation stays taken: it was a wrong guess
      return;
    }
    login_limits_.release(reservation);

    IssuedToken issued = issue_token();
    LoginOutcome outcome;
    outcome.token = std::move(issued.token);
    const std::string token_hash = std::move(issued.hash);

    const int64_t now = clock_.now_ms();
    v1::TokenRecord token;
    token.set_user_id(record->user().id());
    token.set_device_name(device);
    token.set_created_ms(now);
    token.set_last_used_ms(now);
    token.set_expires_at_ms(now + options_.token_lifetime_ms);
    token.set_idle_timeout_ms(options_.token_idle_timeout_ms);

    AuthSession& session = outcome.session;
    session.user = record->user();
    session.token_hash = token_hash;
    session.device_name = device;
    session.idle_expires_at_ms = now + options_.token_idle_timeout_ms;
    session.expires_at_ms = token.expires_at_ms();

    struct Issued {
      LoginOutcome outcome;
      std::vector<std::string> ended;  // hashes of the older tokens this login ended
      bool refused = false;            // the account changed during the check: a failure, audited
    };
    const AuditActor by{
        .user_id = record->user().id(), .username = record->user().username(), .address = address};
    const uint64_t user_id = record->user().id();
    const int max_tokens = options_.max_tokens_per_user;
    commit_with_result<Issued>(
        committer_,
        [user_id, token_hash, max_tokens, token = std::move(token), verified_hash = record->password_hash(),
         outcome = std::move(outcome), by](storage::CommitContext& ctx, Issued& out) -> Status {
          // The user may have been disabled or given a new password while we verified.
          auto current = parse_user(user_id, ctx.get(Cf::kUsers, user_key(user_id)));
          if (!current) return current.status();
          if (!current->has_value() || (*current)->disabled() ||
              (*current)->password_hash() != verified_hash) {
            append_audit(ctx, audit_entry(v1::AUDIT_KIND_SIGN_IN_FAILED, AuditActor{.address = by.address},
                                          user_id, by.username,
                                          "the account was disabled or its password reset during the check"));
            out.refused = true;
            return Status::ok();
          }
          v1::TokenRecord stored = token;
          if (max_tokens > 0) {
            auto ended = end_oldest_tokens(ctx, user_id, static_cast<size_t>(max_tokens) - 1);
            if (!ended) return ended.status();
            out.ended = std::move(ended->hashes);
            // Sign-ins within one millisecond: the later is made a millisecond
            // after, so the oldest is always the one signed in first (ties
            // would fall to the hashes' order).
            if (ended->newest_ms >= stored.created_ms()) stored.set_created_ms(ended->newest_ms + 1);
          }
          ctx.put(Cf::kTokens, token_hash, stored.SerializeAsString());
          ctx.put(Cf::kUserTokens, storage::user_token_key(user_id, token_hash), "");
          std::string detail = "device " + token.device_name();
          if (!out.ended.empty())
            detail = sessions_ended(static_cast<uint32_t>(out.ended.size())) + "; " + detail;
          append_audit(ctx, audit_entry(v1::AUDIT_KIND_SIGN_IN_SUCCEEDED, by, user_id, by.username, detail));
          out.outcome = outcome;
          return Status::ok();
        },
        [this, max_tokens, done = std::move(done)](Result<Issued> issued) {
          if (!issued) return done(issued.status());
          if (issued->refused) return done(unauthenticated(kWrongCredentials));
          if (hub_ != nullptr) {
            for (const std::string& ended : issued->ended) {
              hub_->end_token(ended, "You are signed in on more than " + std::to_string(max_tokens) +
                                         " devices; this, the oldest sign-in, was ended.");
            }
          }
          done(std::move(issued->outcome));
        });
  });
}

void Accounts::stop_logins() { logins_stopped_.store(true); }

void Accounts::record_refused_sign_in(const std::string& address, const std::string& attempted,
                                      const Status& why) {
  uint64_t unrecorded = 0;
  {
    std::lock_guard lock(refusal_mu_);
    // The overall bucket is only asked once the address's allows it, so a
    // busy address cannot use up everyone's entries.
    if (!refusal_records_by_address_.try_take(address_limit_key(address)) ||
        !refusal_records_overall_.try_take()) {
      ++refusals_unrecorded_;
      return;
    }
    unrecorded = std::exchange(refusals_unrecorded_, 0);
  }
  std::string detail = why.message();
  if (unrecorded > 0)
    detail += " (" + std::to_string(unrecorded) + " refusals since the last entry were not recorded)";
  submit_audit(committer_, audit_entry(v1::AUDIT_KIND_SIGN_IN_REFUSED, AuditActor{.address = address}, 0,
                                       attempted, detail));
}

Result<TokenSweep> Accounts::sweep_expired_tokens() {
  std::lock_guard lock(sweep_mu_);
  TokenSweep sweep;
  const int64_t now = clock_.now_ms();
  std::vector<std::pair<std::string, uint64_t>> expired;  // hash, user
  std::string last;
  auto scanned = store_.scan(
      Cf::kTokens, storage::KeyRange{.begin = sweep_next_},
      [&](std::string_view key, std::string_view value) {
        ++sweep.checked;
        last = key;
        v1::TokenRecord rec;
        // A damaged record is left alone: authenticate refuses it with DATA_LOSS, which says more.
        if (rec.ParseFromArray(value.data(), static_cast<int>(value.size())) && !check_token_times(rec, now))
          expired.emplace_back(std::string(key), rec.user_id());
        return true;
      },
      storage::ScanLimits{.max_entries = std::max<size_t>(1, options_.token_sweep_batch)});
  if (!scanned) return scanned.status();
  sweep.finished = *scanned != storage::ScanEnd::kLimitReached;
  // The smallest key after `last`.
  sweep_next_ = sweep.finished ? std::string() : last + '\0';
  if (expired.empty()) return sweep;

  // The mutation deletes every expired one and gives back those past their
  // lifetime, whose live connections are ended (see the header).
  auto deleted = std::make_shared<size_t>(0);
  std::promise<Result<std::vector<std::string>>> written;
  auto ended_future = written.get_future();
  commit_with_result<std::vector<std::string>>(
      committer_,
      [expired = std::move(expired), now, deleted](storage::CommitContext& ctx,
                                                   std::vector<std::string>& ended) -> Status {
        ended.clear();
        *deleted = 0;
        for (const auto& [hash, user_id] : expired) {
          // Re-checked: it may have been used (or ended) since the scan.
          auto cur = parse_token(ctx.get(Cf::kTokens, hash));
          if (!cur) return cur.status();
          if (!cur->has_value() || check_token_times(**cur, now)) continue;
          ctx.del(Cf::kTokens, hash);
          ctx.del(Cf::kUserTokens, storage::user_token_key(user_id, hash));
          ++*deleted;
          if (now >= (*cur)->expires_at_ms()) ended.push_back(hash);
        }
        return Status::ok();
      },
      [&written](Result<std::vector<std::string>> ended) { written.set_value(std::move(ended)); });
  Result<std::vector<std::string>> ended = ended_future.get();
  if (!ended) return ended.status();
  if (hub_ != nullptr) {
    for (const std::string& hash : *ended) hub_->end_token(hash, "Your session expired; sign in again.");
  }
  sweep.ended = *deleted;
  return sweep;
}

Result<AuthSession> Accounts::authenticate(std::string_view token) {
  std::optional<std::string> presented_hash = hash_of_presented_token(token);
  if (!presented_hash) return unauthenticated(kMalformedToken);
  return session_of(*presented_hash);
}

Result<AuthSession> Accounts::refresh(const AuthSession& session) {
  Result<AuthSession> now = session_of(session.token_hash);
  if (now && now->user.id() != session.user.id()) return unauthenticated(kUnknownToken);
  return now;
}

Result<AuthSession> Accounts::session_of(const std::string& token_hash) {
  auto rec = parse_token(store_.get(Cf::kTokens, token_hash));
  if (!rec) return rec.status();
  if (!rec->has_value()) return unauthenticated(kUnknownToken);
  const v1::TokenRecord& t = **rec;
  const int64_t now = clock_.now_ms();

  if (Status times = check_token_times(t, now); !times) {
    // Tidy up: nobody can use it again. Re-checked inside, in case it was refreshed meanwhile.
    const uint64_t user_id = t.user_id();
    committer_.submit(
        [token_hash, user_id, now](storage::CommitContext& ctx) -> Status {
          auto cur = parse_token(ctx.get(Cf::kTokens, token_hash));
          if (!cur || !cur->has_value() || check_token_times(**cur, now)) return Status::ok();
          ctx.del(Cf::kTokens, token_hash);
          ctx.del(Cf::kUserTokens, storage::user_token_key(user_id, token_hash));
          return Status::ok();
        },
        [](const Status& st) { st.ignore_error(); });  // best effort; the token is refused either way
    return times;
  }

  auto user = parse_user(t.user_id(), store_.get(Cf::kUsers, user_key(t.user_id())));
  if (!user) return user.status();
  if (!user->has_value() || (*user)->disabled()) return unauthenticated(kUnknownToken);

  int64_t last_used = t.last_used_ms();
  if (now - t.last_used_ms() >= options_.token_touch_interval_ms) {
    last_used = now;
    // Fire and forget; captures no `this`, so it may outlive the Accounts.
    committer_.submit(
        [token_hash, now](storage::CommitContext& ctx) -> Status {
          auto cur = parse_token(ctx.get(Cf::kTokens, token_hash));
          if (!cur) return cur.status();
          if (!cur->has_value() || (*cur)->last_used_ms() >= now) return Status::ok();  // ended, or newer
          v1::TokenRecord updated = **cur;
          updated.set_last_used_ms(now);
          ctx.put(Cf::kTokens, token_hash, updated.SerializeAsString());
          return Status::ok();
        },
        [](const Status& st) { st.ignore_error(); });  // a lost touch only shortens the idle window
  }

  AuthSession session;
  session.user = (*user)->user();
  session.token_hash = token_hash;
  session.device_name = t.device_name();
  session.idle_expires_at_ms = last_used + t.idle_timeout_ms();
  session.expires_at_ms = t.expires_at_ms();
  return session;
}

void Accounts::logout(const AuditActor& by, const std::string& token_hash, uint64_t asking_connection,
                      std::function<void(const Status&)> done) {
  committer_.submit(
      [by, token_hash](storage::CommitContext& ctx) -> Status {
        auto rec = parse_token(ctx.get(Cf::kTokens, token_hash));
        if (!rec) return rec.status();
        if (!rec->has_value()) return Status::ok();  // already ended: signing out again is fine
        ctx.del(Cf::kTokens, token_hash);
        ctx.del(Cf::kUserTokens, storage::user_token_key((*rec)->user_id(), token_hash));
        append_audit(ctx, audit_entry(v1::AUDIT_KIND_SIGNED_OUT, by, (*rec)->user_id(), by.username,
                                      "device " + (*rec)->device_name()));
        return Status::ok();
      },
      [this, token_hash, asking_connection, done = std::move(done)](const Status& st) {
        // Live sessions are told before `done`, so a caller that saw OK knows they were.
        if (st && hub_ != nullptr) hub_->end_token(token_hash, "You signed out.", asking_connection);
        done(st);
      });
}

namespace {

// Deletes every token of `user_id`, those created earlier in this same group
// included (the mutation's scan sees the group's writes); adds to `count`.
Status end_all_tokens(storage::CommitContext& ctx, uint64_t user_id, uint32_t& count) {
  auto scanned = ctx.scan_prefix(
      Cf::kUserTokens, storage::keys::UserToken::prefix(user_id),
      [&](std::string_view key, std::string_view) {
        const std::optional<storage::keys::UserToken> entry = storage::keys::UserToken::decode(key);
        if (!entry) return true;  // not a token entry; nothing to end
        ctx.del(Cf::kTokens, storage::keys::Token{.token_hash = entry->token_hash}.encode());
        ctx.del(Cf::kUserTokens, key);
        ++count;
        return true;
      });
  if (!scanned) return scanned.status();
  return Status::ok();
}

}  // namespace

void Accounts::revoke_tokens(const AuditActor& by, uint64_t user_id,
                             std::function<void(Result<uint32_t>)> done) {
  commit_with_result<uint32_t>(
      committer_,
      [by, user_id](storage::CommitContext& ctx, uint32_t& count) -> Status {
        count = 0;
        auto user = parse_user(user_id, ctx.get(Cf::kUsers, user_key(user_id)));
        if (!user) return user.status();
        if (!user->has_value()) return not_found("No user with id " + std::to_string(user_id) + ".");
        PRECEPTOR_RETURN_IF_ERROR(end_all_tokens(ctx, user_id, count));
        append_audit(ctx, audit_entry(v1::AUDIT_KIND_TOKENS_REVOKED, by, user_id, (*user)->user().username(),
                                      sessions_ended(count)));
        return Status::ok();
      },
      [this, user_id, done = std::move(done)](Result<uint32_t> count) {
        if (count && hub_ != nullptr) hub_->end_user(user_id, "An administrator ended your sessions.");
        done(std::move(count));
      });
}

Status Accounts::validate_new_user(const NewUser& user) const {
  PRECEPTOR_RETURN_IF_ERROR(validate_new_user_format(user));
  auto taken = store_.get(Cf::kUsernames, storage::username_key(user.username));
  if (!taken) return taken.status();
  if (taken->has_value())
    return already_exists("A user named " + user.username + " already exists.", "username");
  return Status::ok();
}

// Hashing (~0.1 s and 64 MiB at the default cost) runs on the caller's thread.
void Accounts::create_user(const NewUser& user, std::function<void(Result<v1::User>)> done) {
  if (Status st = validate_new_user(user); !st) {
    done(st);
    return;
  }
  auto hash = hash_password(user.password);
  if (!hash) {
    done(hash.status());
    return;
  }
  NewUser stored = user;
  sodium_memzero(stored.password.data(), stored.password.size());
  stored.password.clear();
  commit_with_result<v1::User>(
      committer_,
      [stored = std::move(stored), hash = std::move(*hash)](storage::CommitContext& ctx,
                                                            v1::User& created) -> Status {
        auto u = put_new_user(ctx, stored, hash);
        if (!u) return u.status();
        created = std::move(*u);
        return Status::ok();
      },
      std::move(done));
}

void Accounts::create_users(const std::vector<NewUser>& users,
                            std::function<void(Result<std::vector<v1::User>>)> done,
                            std::function<void(size_t hashed, size_t total)> on_hashed) {
  // Everything that can fail before the write fails before the slow hashing.
  std::set<std::string> seen;
  for (const NewUser& u : users) {
    if (Status st = validate_new_user(u); !st) {
      done(Status(st.code(), "User " + u.username + ": " + st.message(), st.field()));
      return;
    }
    if (!seen.insert(storage::username_key(u.username)).second) {
      done(
          already_exists("The username " + u.username + " appears more than once in this list.", "username"));
      return;
    }
  }
  if (users.empty()) {
    done(std::vector<v1::User>());
    return;
  }

  struct Row {
    NewUser user;  // password cleared
    std::string hash;
  };
  auto rows = std::make_shared<std::vector<Row>>();
  rows->reserve(users.size());
  for (const NewUser& u : users) {
    auto hash = hash_password(u.password);
    if (!hash) {
      done(hash.status());
      return;
    }
    Row row{u, std::move(*hash)};
    sodium_memzero(row.user.password.data(), row.user.password.size());
    row.user.password.clear();
    rows->push_back(std::move(row));
    if (on_hashed) on_hashed(rows->size(), users.size());
  }

  commit_with_result<std::vector<v1::User>>(
      committer_,
      [rows](storage::CommitContext& ctx, std::vector<v1::User>& created) -> Status {
        created.clear();
        for (const Row& row : *rows) {
          auto u = put_new_user(ctx, row.user, row.hash);
          if (!u) return u.status();  // rejects the whole mutation: all or none
          created.push_back(std::move(*u));
        }
        append_audit(ctx, audit_entry(v1::AUDIT_KIND_ROSTER_IMPORTED, AuditActor{}, 0, {},
                                      "created " + std::to_string(created.size()) + " user" +
                                          (created.size() == 1 ? "" : "s")));
        return Status::ok();
      },
      std::move(done));
}

// Hashing runs on the caller's thread.
void Accounts::set_password(const AuditActor& by, uint64_t user_id, const std::string& password,
                            std::function<void(Result<uint32_t>)> done) {
  if (Status st = check_password_length(password); !st) {
    done(st);
    return;
  }
  auto hash = hash_password(password);
  if (!hash) {
    done(hash.status());
    return;
  }
  commit_with_result<uint32_t>(
      committer_,
      [by, user_id, hash = std::move(*hash)](storage::CommitContext& ctx, uint32_t& count) -> Status {
        count = 0;
        auto rec = parse_user(user_id, ctx.get(Cf::kUsers, user_key(user_id)));
        if (!rec) return rec.status();
        if (!rec->has_value()) return not_found("No user with id " + std::to_string(user_id) + ".");
        v1::UserRecord updated = std::move(**rec);
        updated.set_password_hash(hash);
        ctx.put(Cf::kUsers, user_key(user_id), updated.SerializeAsString());
        // Whoever knew the old password is signed out everywhere.
        PRECEPTOR_RETURN_IF_ERROR(end_all_tokens(ctx, user_id, count));
        append_audit(ctx, audit_entry(v1::AUDIT_KIND_PASSWORD_RESET, by, user_id, updated.user().username(),
                                      sessions_ended(count)));
        return Status::ok();
      },
      [this, user_id, done = std::move(done)](Result<uint32_t> count) {
        if (count && hub_ != nullptr) {
          hub_->end_user(user_id, "Your password was reset by an administrator; sign in with the new one.");
        }
        done(std::move(count));
      });
}

void Accounts::reset_password(const AuditActor& by, uint64_t user_id, std::string password,
                              std::function<void(Result<uint32_t>)> done) {
  blocking_.run([this, by, user_id, password = std::move(password), done = std::move(done)]() mutable {
    set_password(by, user_id, password, std::move(done));
  });
}

void Accounts::set_disabled(const AuditActor& by, uint64_t user_id, bool disabled,
                            std::function<void(Result<std::pair<v1::User, uint32_t>>)> done) {
  commit_with_result<std::pair<v1::User, uint32_t>>(
      committer_,
      [by, user_id, disabled](storage::CommitContext& ctx, std::pair<v1::User, uint32_t>& out) -> Status {
        out.second = 0;
        auto rec = parse_user(user_id, ctx.get(Cf::kUsers, user_key(user_id)));
        if (!rec) return rec.status();
        if (!rec->has_value()) return not_found("No user with id " + std::to_string(user_id) + ".");
        v1::UserRecord updated = std::move(**rec);
        updated.set_disabled(disabled);
        ctx.put(Cf::kUsers, user_key(user_id), updated.SerializeAsString());
        out.first = updated.user();
        if (disabled) PRECEPTOR_RETURN_IF_ERROR(end_all_tokens(ctx, user_id, out.second));
        append_audit(
            ctx, audit_entry(disabled ? v1::AUDIT_KIND_ACCOUNT_DISABLED : v1::AUDIT_KIND_ACCOUNT_ENABLED, by,
                             user_id, updated.user().username(),
                             disabled ? sessions_ended(out.second) : std::string()));
        return Status::ok();
      },
      [this, user_id, disabled, done = std::move(done)](Result<std::pair<v1::User, uint32_t>> out) {
        if (out && disabled && hub_ != nullptr) {
          hub_->end_user(user_id, "An administrator disabled your account.");
        }
        done(std::move(out));
      });
}

Result<v1::User> Accounts::get_user(uint64_t user_id) const {
  auto rec = parse_user(user_id, store_.get(Cf::kUsers, user_key(user_id)));
  if (!rec) return rec.status();
  if (!rec->has_value()) return not_found("No user with id " + std::to_string(user_id) + ".");
  return (*rec)->user();
}

Result<v1::User> Accounts::find_user(std::string_view username) const {
  const Status missing = not_found("No user named " + std::string(username) + ".", "username");
  if (!valid_username(username)) return missing;
  auto id_raw = store_.get(Cf::kUsernames, storage::username_key(username));
  if (!id_raw) return id_raw.status();
  if (!id_raw->has_value()) return missing;
  auto id = storage::decode_u64(**id_raw);
  if (!id) {
    return data_loss("The stored index entry of user " + std::string(username) +
                     " cannot be read; restore the store from a backup.");
  }
  return get_user(*id);
}

Result<std::vector<v1::User>> Accounts::list_users() const {
  std::vector<v1::User> out;
  Status damaged;
  auto scanned =
      store_.scan(Cf::kUsers, storage::KeyRange{}, [&](std::string_view key, std::string_view value) {
        v1::UserRecord rec;
        if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          damaged = unreadable_user(storage::decode_u64(key).value_or(0));
          return false;
        }
        out.push_back(std::move(*rec.mutable_user()));
        return true;
      });
  if (!scanned) return scanned.status();
  if (!damaged) return damaged;
  return out;
}

Result<v1::User> create_user_sync(Accounts& accounts, const NewUser& user) {
  std::promise<Result<v1::User>> promise;
  auto future = promise.get_future();
  accounts.create_user(user, [&promise](Result<v1::User> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace preceptor::services
