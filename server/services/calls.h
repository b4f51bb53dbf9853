#pragma once

// The call: signaling of a one-to-one WebRTC call between the two members of
// an accepted meeting (or a mentor and the mentee they called from the
// drop-in queue), and the ICE servers each member is handed. Media never
// passes through the server; only the ringing, the answer, the hang-up and
// the SDP offers, answers and ICE candidates do, as live-only events.
// Internal to server/services; docs/protocol.md describes the requests.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/token_bucket.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/events.pb.h"
#include "preceptor/v1/meetings.pb.h"

namespace preceptor::storage {
class Store;
}
namespace preceptor::hub {
class Hub;
}

namespace preceptor::services {

// The server's call configuration (server flags --stun-url, --turn-url,
// --turn-secret / --turn-secret-file, --turn-ttl-seconds) and the limits of
// the calls it carries.
struct CallOptions {
  std::vector<std::string> stun_urls;  // "stun:host:port" each; default none
  std::vector<std::string> turn_urls;  // "turn:host:port?transport=udp" each; default none
  // coturn's static-auth-secret (use-auth-secret): TURN credentials are made
  // from it. Required when turn_urls is not empty.
  std::string turn_secret;
  int64_t turn_ttl_seconds = 3600;  // how long a TURN credential is good for, s; default 3600
  size_t max_calls = 10'000;        // calls ringing or in progress on the server at once; default 10 000
  // Signals (offers, answers, candidates) one call relays, both members
  // together, at most; default 2000.
  size_t max_signals_per_call = 2000;
  int64_t ring_timeout_ms = 60'000;  // a call not answered within this ends, ms (monotonic); default 60 000
};

// Limits of the call requests.
inline constexpr size_t kMaxCallSdpBytes = 16 * 1024;       // sdp_offer, sdp_answer
inline constexpr size_t kMaxCallCandidateBytes = 1024;      // ice_candidate
inline constexpr double kCallSignalsPerSecond = 50;         // per member per call, sustained
inline constexpr int64_t kCallSignalBurst = 100;            // per member per call, at once
inline constexpr int64_t kCallEarlyMs = 15 * 60'000;        // a meeting's call starts this early, at most
inline constexpr int64_t kCallLateMs = 60 * 60'000;         // and this long after its end, at most
inline constexpr int64_t kQueueCallWindowMs = 30 * 60'000;  // a queue call within this of CallNext
inline constexpr int64_t kStartCallBurst = 10;              // StartCall per user at once
inline constexpr int64_t kStartCallIntervalMs = 6'000;      // then one per this, ms
inline constexpr size_t kMaxIceUrls = 8;                    // --stun-url, --turn-url each, at most
inline constexpr size_t kMaxIceUrlBytes = 512;

// coturn's use-auth-secret ("TURN REST API") credential for `user_id`, good
// until `expiry_unix_s`: username "<expiry_unix_s>:<user_id>", credential
// base64(HMAC-SHA1(secret, username)) (standard alphabet, padded).
struct TurnCredential {
  std::string username;
  std::string credential;
};
TurnCredential turn_credential(std::string_view secret, int64_t expiry_unix_s, uint64_t user_id);

// Checks the ICE part of `options` as a server's configuration: the URLs'
// schemes (stun:/stuns:, turn:/turns:), their number and size, a secret
// with TURN URLs, a TTL of 60 s to 7 days. INVALID_ARGUMENT naming the flag.
Status check_call_options(const CallOptions& options);

// The calls in progress: an in-memory table (calls do not survive a
// restart; both apps then see their connection drop and call again).
// Thread-safe: one mutex guards the table, and live events are published
// under it so that each member sees a call's events in the order they
// happened. Lock order: this mutex, then the hub's.
//
// A ringing call not answered within ring_timeout_ms (monotonic clock) ends
// on the next call request that comes in or on the timed work
// (expire_unanswered), whichever is first. A call ends when either member's
// last live session leaves the hub (on_presence, a hub presence listener).
class Calls {
 public:
  // Every argument must outlive the Calls.
  Calls(const storage::Store& store, hub::Hub& hub, const Clock& clock, const MonotonicClock& monotonic_clock,
        CallOptions options);

  // The ICE servers for `actor`, with TURN credentials good for
  // turn_ttl_seconds. Empty when none are configured.
  v1::GetIceServersResult ice_servers(const v1::User& actor) const;

  // Rings the other member (CallUpdate RINGING to their live sessions).
  Result<v1::StartCallResult> start(const v1::User& actor, const v1::StartCall& req);
  // The callee accepts (ACCEPTED to both) or declines (DECLINED to both; the call is gone).
  Status answer(const v1::User& actor, const v1::AnswerCall& req);
  // Either member ends the call, ringing or in progress (ENDED to both).
  Status hang_up(const v1::User& actor, const v1::HangUp& req);
  // Relays an offer, answer or candidate to the other member (CallSignal, from_id set).
  Status relay(const v1::User& actor, const v1::SendCallSignal& req);

  // Hub presence listener: a user's last session left (online false) ends their call.
  void on_presence(uint64_t user_id, bool online);
  // Ends the ringing calls whose time to answer is up (timed work).
  void expire_unanswered();

  // Calls ringing or in progress now.
  size_t size() const;

 private:
  struct Call {
    uint64_t id = 0;
    uint64_t caller = 0;
    uint64_t callee = 0;
    uint64_t meeting_id = 0;  // 0: a call from the drop-in queue
    bool accepted = false;
    TokenBucket caller_signals;
    TokenBucket callee_signals;
    size_t signals = 0;  // relayed so far, both members
  };

  // The member `actor` may act on call `id`; NOT_FOUND for anyone else, and
  // for a call that is over. REQUIRES: mu_ held.
  Result<Call*> find_locked(const v1::User& actor, uint64_t id);
  // Removes call `id` and tells `audience` it `change`d. REQUIRES: mu_ held.
  void finish_locked(uint64_t id, v1::CallChange change, uint64_t actor_id, const std::string& reason,
                     const std::vector<uint64_t>& audience);
  void publish_locked(const Call& call, v1::CallChange change, uint64_t actor_id, const std::string& reason,
                      const std::vector<uint64_t>& audience);
  // Ends ringing calls past their deadline. REQUIRES: mu_ held.
  void expire_locked();

  // Who `actor` may call for `req`, and the meeting it is for.
  struct Peer {
    uint64_t user_id = 0;
    uint64_t meeting_id = 0;
  };
  Result<Peer> peer_for(const v1::User& actor, const v1::StartCall& req) const;

  const storage::Store& store_;
  hub::Hub& hub_;
  const Clock& clock_;
  const MonotonicClock& monotonic_clock_;
  const CallOptions options_;

  mutable std::mutex mu_;
  uint64_t next_id_;                                  // GUARDED_BY(mu_)
  std::unordered_map<uint64_t, Call> calls_;          // GUARDED_BY(mu_); call id -> call
  std::unordered_map<uint64_t, uint64_t> call_of_;    // GUARDED_BY(mu_); user id -> their call id
  std::deque<std::pair<int64_t, uint64_t>> ringing_;  // GUARDED_BY(mu_); (deadline ns, call id), by deadline
  KeyedTokenBuckets starts_;                          // GUARDED_BY(mu_); user id -> StartCall bucket
};

}  // namespace preceptor::services
