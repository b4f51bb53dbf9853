#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/executor.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/records.pb.h"
#include "server/api/session.h"
#include "server/services/audit.h"
#include "server/services/login_limits.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::hub {
class Hub;
}

namespace preceptor::services {

struct AccountsOptions {
  int64_t token_idle_timeout_ms = 7LL * 24 * 3600 * 1000;  // default 7 days without use ends a token
  int64_t token_lifetime_ms = 30LL * 24 * 3600 * 1000;     // default 30 days after login, whatever the use
  int64_t token_touch_interval_ms = 60 * 1000;  // last-used is persisted at most this often (default 1 min)
  // argon2id cost (libsodium crypto_pwhash). Defaults: libsodium's INTERACTIVE
  // (2 passes, 64 MiB). Tests use the minimum so they stay fast.
  uint64_t pwhash_opslimit = 2;
  size_t pwhash_memlimit_bytes = 64u << 20;
  // Failed-login limits, as token buckets: `burst` wrong guesses at once,
  // then one more per `refill_ms` (docs/security.md). Either <= 0 turns that
  // limit off.
  // One username from one client address: past it, RESOURCE_EXHAUSTED with retry_after_ms.
  int login_failures_per_username_address_burst = 5;                  // default 5
  int64_t login_failures_per_username_address_refill_ms = 60 * 1000;  // default 1 per minute
  // Any username from one client address: past it, RESOURCE_EXHAUSTED with retry_after_ms.
  int login_failures_per_address_burst = 20;                 // default 20
  int64_t login_failures_per_address_refill_ms = 10 * 1000;  // default 1 per 10 s
  // One username from every address together. Past it nobody is refused:
  // each address may then guess that username once per full refill of its
  // (username, address) limit (5 minutes by default).
  int login_failures_per_username_burst = 50;                 // default 50
  int64_t login_failures_per_username_refill_ms = 30 * 1000;  // default 1 per 30 s
  // Sign-ins waiting for or in the password check; past a bound the sign-in
  // is refused at once (RESOURCE_EXHAUSTED, retry_after_ms 1000). <= 0: no bound.
  int logins_in_flight_per_connection = 2;  // default 2
  int logins_in_flight_per_address = 8;     // default 8
  int logins_in_flight_total = 32;          // default 32
  // Live tokens per user; a login past it ends the user's oldest token (and
  // its live connections). <= 0: no cap. Default 20.
  int max_tokens_per_user = 20;
  // Timed work checks at most this many tokens per batch for expiry (default 1000).
  size_t token_sweep_batch = 1000;
};

// A user to create (admin tool, roster import, demo, tests).
struct NewUser {
  std::string username;      // 3-64 chars: letters, digits, '.', '_', '-', '@'; unique case-insensitively
  std::string password;      // 10-1024 bytes
  std::string display_name;  // 1-200 bytes UTF-8
  v1::Role role = v1::ROLE_UNSPECIFIED;  // required
  std::string specialty;
  std::string training_level;
  std::string time_zone = "UTC";  // IANA name
};

// What a connection holds once it is logged in or authenticated.
using AuthSession = api::Session;

// Where a sign-in comes from.
struct LoginSource {
  std::string address;         // the client's IP address; "" (unknown): no per-address limits
  uint64_t connection_id = 0;  // 0 (not a connection: tools, tests): no per-connection bound
  // Set once nobody waits for the answer (the connection closed): a sign-in
  // still queued is then dropped unchecked. Null: always wanted.
  std::shared_ptr<const std::atomic<bool>> gone = nullptr;
};

// What one pass of Accounts::sweep_expired_tokens did.
struct TokenSweep {
  size_t checked = 0;     // tokens looked at
  size_t ended = 0;       // expired ones deleted
  bool finished = false;  // it reached the last token; the next pass starts from the first
};

struct LoginOutcome {
  std::string token;  // what the client keeps (64 lowercase hex chars = 256 random bits)
  AuthSession session;
};

// Users, passwords and tokens. Thread-safe. Every sign-in, failed sign-in,
// sign-out and account change leaves an entry in the audit log
// (server/services/audit.h), in the same write as the change; `by` names who
// asked (AuditActor{}: the server, or preceptor-admin on the data folder). Writes go through the Committer;
// slow password hashing runs on `blocking`; callbacks run on the committer
// thread or a `blocking` thread, so keep them short (post to a strand).
// Must outlive the work it hands to the committer and to `blocking`
// (stop the committer before destroying it). Failed-login limits live in
// memory only: a restart forgets them.
class Accounts {
 public:
  // `clock` dates tokens; `monotonic_clock` times the failed-login limits.
  // Both must outlive the Accounts.
  Accounts(storage::Store& store, storage::Committer& committer, const Clock& clock,
           const MonotonicClock& monotonic_clock, Executor& blocking, AccountsOptions options = {},
           hub::Hub* hub = nullptr);

  // Checks the password and creates a token. A wrong password and an unknown
  // username give the same UNAUTHENTICATED error ("Wrong username or
  // password."), in about the same time. A password over 1024 bytes is
  // INVALID_ARGUMENT, unchecked. Wrong guesses are limited (LoginLimits;
  // each attempt is counted before its check), and so are sign-ins waiting
  // for their check (LoginQueue): RESOURCE_EXHAUSTED with retry_after_ms.
  // A login past max_tokens_per_user ends the user's oldest tokens.
  // Audit: a success or failure is recorded with the source's address (a
  // failure in a write of its own, after the check); a refusal by a limit at
  // most once a minute per address and once a second in all (see
  // kRefusalRecord*), so refusals cannot grow the log faster than that.
  void login(const v1::Login& request, const LoginSource& source,
             std::function<void(Result<LoginOutcome>)> done);

  // From now on, sign-ins still queued are answered UNAVAILABLE without a
  // check, and new ones at once: shutting down does not wait for a backlog.
  void stop_logins();

  // Deletes expired tokens, checking at most options' token_sweep_batch
  // tokens, from where the last call stopped. Live connections of a token
  // past its lifetime are ended through the hub. Those of a token that only
  // went unused for token_idle_timeout_ms are left alone: a live connection
  // does not refresh last-used, so it may well be in use; the token just can
  // no longer be presented again. Blocks until the deletions are durable.
  // For timed work; one caller at a time.
  Result<TokenSweep> sweep_expired_tokens();

  // Checks a token (read only, fast). UNAUTHENTICATED with a sentence saying
  // whether it is unknown/revoked or expired. Refreshes last-used (through
  // the committer, at most every token_touch_interval_ms).
  Result<AuthSession> authenticate(std::string_view token);

  // Re-checks a session already bound to a connection, as authenticate()
  // does a token: revoked, signed out, expired or the user disabled give
  // UNAUTHENTICATED. A live connection calls it on each request (its use
  // counts, like a new Authenticate) and when the session's expiry comes.
  // The answer carries the new expiry times.
  Result<AuthSession> refresh(const AuthSession& session);

  // Ends one token now; live connections using it, except the connection
  // `asking_connection` that signed out (it closes after its reply), are
  // ended through the hub after the write is durable.
  void logout(const AuditActor& by, const std::string& token_hash, uint64_t asking_connection,
              std::function<void(const Status&)> done);

  // Ends every token of a user; `done` gets how many were ended.
  void revoke_tokens(const AuditActor& by, uint64_t user_id, std::function<void(Result<uint32_t>)> done);

  // Validates without writing (used by roster dry-run). Checks format only,
  // plus whether the username is taken in the store.
  Status validate_new_user(const NewUser& user) const;
  // Hashes the password on the calling thread, then commits. ALREADY_EXISTS
  // when the username is taken. Audited as created by the server (these are
  // called by tools and the demo only).
  void create_user(const NewUser& user, std::function<void(Result<v1::User>)> done);
  // Creates all or none, in one write (roster import), audited as one
  // ROSTER_IMPORTED entry after a USER_CREATED entry each. Hashes every password
  // on the calling thread first; `on_hashed(hashed, total)`, when set, is
  // called on that thread after each one (progress for long imports).
  void create_users(const std::vector<NewUser>& users,
                    std::function<void(Result<std::vector<v1::User>>)> done,
                    std::function<void(size_t hashed, size_t total)> on_hashed = {});
  // Hashes the password on the calling thread, then commits. Every token of the user ends with it (live
  // sessions too); `done` gets how many.
  void set_password(const AuditActor& by, uint64_t user_id, const std::string& password,
                    std::function<void(Result<uint32_t>)> done);
  // set_password with the hashing on the blocking executor (for requests
  // from the network).
  void reset_password(const AuditActor& by, uint64_t user_id, std::string password,
                      std::function<void(Result<uint32_t>)> done);
  // Disables (every token and live session of the user ends; `done` gets
  // the user and how many tokens ended) or enables the account again.
  void set_disabled(const AuditActor& by, uint64_t user_id, bool disabled,
                    std::function<void(Result<std::pair<v1::User, uint32_t>>)> done);

  Result<v1::User> get_user(uint64_t user_id) const;
  Result<v1::User> find_user(std::string_view username) const;
  Result<std::vector<v1::User>> list_users() const;

 private:
  // authenticate() after the token is hashed.
  Result<AuthSession> session_of(const std::string& token_hash);
  // Argon2id string of `password` with options_' cost; INTERNAL when out of memory.
  Result<std::string> hash_password(std::string_view password) const;
  // Audits a sign-in refused by a limit, unless this address (or everyone)
  // had one recorded too recently; those are counted into the next entry.
  void record_refused_sign_in(const std::string& address, const std::string& attempted, const Status& why);

  storage::Store& store_;
  storage::Committer& committer_;
  const Clock& clock_;
  Executor& blocking_;
  AccountsOptions options_;
  hub::Hub* hub_;

  std::string dummy_hash_;  // verified against for unknown usernames, so they take as long as known ones

  LoginLimits login_limits_;  // wrong guesses by (username, address), address, username
  LoginQueue login_queue_;    // sign-ins waiting for their check

  // Refused sign-ins recorded in the audit log: per address (limit key) and in all.
  static constexpr int64_t kRefusalRecordPerAddressMs = 60 * 1000;  // one a minute per address
  static constexpr int64_t kRefusalRecordOverallMs = 1000;          // one a second in all, 60 at once
  std::mutex refusal_mu_;
  KeyedTokenBuckets refusal_records_by_address_;  // GUARDED_BY(refusal_mu_)
  TokenBucket refusal_records_overall_;           // GUARDED_BY(refusal_mu_)
  uint64_t refusals_unrecorded_ = 0;              // GUARDED_BY(refusal_mu_); since the last entry
  std::atomic<bool> logins_stopped_{false};

  std::mutex sweep_mu_;
  std::string sweep_next_;  // GUARDED_BY(sweep_mu_); first token key of the next sweep batch
};

// The format checks of Accounts::validate_new_user, without the store: for
// checking a roster before any store exists. INVALID_ARGUMENT with `field`.
Status validate_new_user_format(const NewUser& user);

// Blocking helpers for tools and tests: submit and wait for `done`.
Result<v1::User> create_user_sync(Accounts& accounts, const NewUser& user);

}  // namespace preceptor::services
