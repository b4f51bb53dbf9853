#include "server/services/calls.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <ctime>

#include "server/hub/hub.h"
#include "server/services/meeting_book.h"
#include "server/services/membership.h"
#include "server/services/record_io.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace preceptor::services {
namespace {

using storage::Cf;

// "2026-03-29 14:45 UTC"
std::string utc_minute(int64_t ms) {
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (!gmtime_r(&s, &tm)) return std::to_string(ms) + " ms";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string call_not_found(uint64_t id) { return "No call " + std::to_string(id) + " among yours."; }

bool url_has_scheme(const std::string& url, std::initializer_list<std::string_view> schemes) {
  for (std::string_view s : schemes) {
    if (url.size() > s.size() && url.compare(0, s.size(), s) == 0) return true;
  }
  return false;
}

Status check_urls(const std::vector<std::string>& urls, const std::string& flag,
                  std::initializer_list<std::string_view> schemes) {
  if (urls.size() > kMaxIceUrls)
    return invalid_argument(flag + " is given " + std::to_string(urls.size()) + " times; at most " +
                            std::to_string(kMaxIceUrls) + " URLs are handed to the apps.");
  for (const std::string& url : urls) {
    if (url.size() > kMaxIceUrlBytes)
      return invalid_argument(flag + ": a URL of " + std::to_string(url.size()) +
                              " bytes is too long (at most " + std::to_string(kMaxIceUrlBytes) + ").");
    for (unsigned char c : url) {
      if (std::iscntrl(c) || c == ' ')
        return invalid_argument(flag + ": " + url + " holds a space or a control character.");
    }
    if (!url_has_scheme(url, schemes)) {
      std::string names;
      for (std::string_view s : schemes) names += (names.empty() ? "" : " or ") + std::string(s);
      return invalid_argument(flag + ": " + url + " is not a " + names + " URL (e.g. " +
                              std::string(*schemes.begin()) + "host.example.org:3478).");
    }
  }
  return Status::ok();
}

}  // namespace

TurnCredential turn_credential(std::string_view secret, int64_t expiry_unix_s, uint64_t user_id) {
  TurnCredential out;
  out.username = std::to_string(expiry_unix_s) + ":" + std::to_string(user_id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const unsigned char* made =
      HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(out.username.data()), out.username.size(), mac, &mac_len);
  assert(made != nullptr && mac_len == 20);  // HMAC-SHA1 of a short string cannot fail
  (void)made;
  const size_t b64_len = sodium_base64_ENCODED_LEN(mac_len, sodium_base64_VARIANT_ORIGINAL);
  std::string b64(b64_len, '\0');
  sodium_bin2base64(b64.data(), b64.size(), mac, mac_len, sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64_len - 1);  // the terminating NUL
  out.credential = std::move(b64);
  return out;
}

Status check_call_options(const CallOptions& options) {
  PRECEPTOR_RETURN_IF_ERROR(check_urls(options.stun_urls, "--stun-url", {"stun:", "stuns:"}));
  PRECEPTOR_RETURN_IF_ERROR(check_urls(options.turn_urls, "--turn-url", {"turn:", "turns:"}));
  if (!options.turn_urls.empty() && options.turn_secret.empty())
    return invalid_argument(
        "--turn-url needs the TURN server's shared secret (coturn's static-auth-secret): give "
        "--turn-secret-file or PRECEPTOR_TURN_SECRET.");
  if (options.turn_ttl_seconds < 60 || options.turn_ttl_seconds > 7 * 24 * 3600)
    return invalid_argument("--turn-ttl-seconds must be between 60 and 604800 (7 days).");
  return Status::ok();
}

Calls::Calls(const storage::Store& store, hub::Hub& hub, const Clock& clock,
             const MonotonicClock& monotonic_clock, CallOptions options)
    : store_(store),
      hub_(hub),
      clock_(clock),
      monotonic_clock_(monotonic_clock),
      options_(std::move(options)),
      // Ids grow across restarts (a client holding the id of a call from
      // before one does not meet a new call under it).
      next_id_(static_cast<uint64_t>(std::max<int64_t>(1, clock.now_ms()))),
      starts_(TokenRate::one_every_ms(kStartCallIntervalMs, kStartCallBurst), monotonic_clock, 100'000) {}

v1::GetIceServersResult Calls::ice_servers(const v1::User& actor) const {
  v1::GetIceServersResult out;
  if (!options_.stun_urls.empty()) {
    auto* stun = out.add_ice_servers();
    for (const std::string& url : options_.stun_urls) stun->add_urls(url);
  }
  if (!options_.turn_urls.empty()) {
    const int64_t expiry_s = clock_.now_ms() / 1000 + options_.turn_ttl_seconds;
    TurnCredential cred = turn_credential(options_.turn_secret, expiry_s, actor.id());
    auto* turn = out.add_ice_servers();
    for (const std::string& url : options_.turn_urls) turn->add_urls(url);
    turn->set_username(std::move(cred.username));
    turn->set_credential(std::move(cred.credential));
    out.set_expires_ms(expiry_s * 1000);
  }
  return out;
}

Result<Calls::Peer> Calls::peer_for(const v1::User& actor, const v1::StartCall& req) const {
  if (oversees_program(actor)) {
    return permission_denied(
        "Program directors do not take part in calls; only the two members of a meeting call each other.");
  }
  if (req.meeting_id() != 0 && req.mentee_id() != 0)
    return invalid_argument("Give meeting_id or mentee_id, not both.", "meeting_id");
  const int64_t now = clock_.now_ms();
  if (req.meeting_id() != 0) {
    const uint64_t id = req.meeting_id();
    auto rec = load_meeting(store_, id);
    if (!rec) return rec.status();
    if (!rec->has_value() ||
        ((*rec)->meeting().mentor_id() != actor.id() && (*rec)->meeting().mentee_id() != actor.id())) {
      return not_found("No meeting " + std::to_string(id) + " among yours.", "meeting_id");
    }
    const v1::Meeting& m = (*rec)->meeting();
    if (m.state() != v1::MEETING_STATE_ACCEPTED) {
      return failed_precondition("Meeting " + std::to_string(id) +
                                 " is not an accepted meeting; a call starts only for an accepted one.");
    }
    if (now < m.start_ms() - kCallEarlyMs) {
      return failed_precondition("The call for meeting " + std::to_string(id) + " can start from " +
                                 utc_minute(m.start_ms() - kCallEarlyMs) +
                                 ", 15 minutes before the meeting.");
    }
    if (now > meeting_end_ms(m) + kCallLateMs) {
      return failed_precondition("Meeting " + std::to_string(id) + " ended at " +
                                 utc_minute(meeting_end_ms(m)) +
                                 "; its call could start until an hour after the end.");
    }
    return Peer{.user_id = m.mentor_id() == actor.id() ? m.mentee_id() : m.mentor_id(), .meeting_id = id};
  }
  if (req.mentee_id() == 0) {
    return invalid_argument(
        "Give the meeting to call for (meeting_id), or the mentee you called from your queue (mentee_id).",
        "meeting_id");
  }
  if (actor.role() != v1::ROLE_MENTOR) {
    return permission_denied(
        "Only a mentor starts a call from the drop-in queue; a mentee is called and answers.");
  }
  auto queue =
      load<v1::QueueRecord>(store_, Cf::kQueues, storage::keys::MentorKey{.mentor_id = actor.id()}.encode());
  if (!queue) return queue.status();
  if (!queue->has_value() || (*queue)->called_mentee_id() != req.mentee_id() ||
      now - (*queue)->called_ms() > kQueueCallWindowMs) {
    return failed_precondition("You have not called mentee " + std::to_string(req.mentee_id()) +
                               " from your queue in the last 30 minutes; call them with CallNext first.");
  }
  return Peer{.user_id = req.mentee_id(), .meeting_id = 0};
}

Result<v1::StartCallResult> Calls::start(const v1::User& actor, const v1::StartCall& req) {
  // The store read first, outside the lock; what it checked (the meeting's
  // time, the queue) does not need to hold beyond this instant.
  auto peer = peer_for(actor, req);
  if (!peer) return peer.status();
  std::lock_guard lock(mu_);
  expire_locked();
  if (auto it = call_of_.find(actor.id()); it != call_of_.end()) {
    return failed_precondition("You are in call " + std::to_string(it->second) +
                               " already; hang up before you start another.");
  }
  if (call_of_.contains(peer->user_id)) {
    return failed_precondition("The other member is in another call now; try again when it ends.");
  }
  // Checked under this lock: a session that leaves after this check reaches
  // on_presence after the call is in the table, and ends it.
  if (!hub_.is_online(peer->user_id)) {
    return failed_precondition(
        "The other member is not connected now, so the call cannot ring; try again when they are online.");
  }
  if (calls_.size() >= options_.max_calls) {
    return resource_exhausted("The server carries " + std::to_string(options_.max_calls) +
                                  " calls at once, at most; try again in a minute.",
                              60'000);
  }
  if (const TokenTake take = starts_.try_take(storage::encode_u64(actor.id())); !take) {
    return resource_exhausted("You started too many calls in a short time; wait a little.",
                              take.retry_after_ms);
  }
  const uint64_t id = next_id_++;
  const TokenRate rate = TokenRate::per_second(kCallSignalsPerSecond, kCallSignalBurst);
  auto [it, inserted] = calls_.emplace(id, Call{.id = id,
                                                .caller = actor.id(),
                                                .callee = peer->user_id,
                                                .meeting_id = peer->meeting_id,
                                                .accepted = false,
                                                .caller_signals = TokenBucket(rate, monotonic_clock_),
                                                .callee_signals = TokenBucket(rate, monotonic_clock_),
                                                .signals = 0});
  assert(inserted);
  call_of_[actor.id()] = id;
  call_of_[peer->user_id] = id;
  ringing_.emplace_back(monotonic_clock_.now_ns() + options_.ring_timeout_ms * 1'000'000, id);
  publish_locked(it->second, v1::CALL_CHANGE_RINGING, actor.id(), {}, {peer->user_id});
  v1::StartCallResult out;
  out.set_call_id(id);
  out.set_peer_id(peer->user_id);
  return out;
}

Status Calls::answer(const v1::User& actor, const v1::AnswerCall& req) {
  std::lock_guard lock(mu_);
  expire_locked();
  auto call = find_locked(actor, req.call_id());
  if (!call) return call.status();
  Call& c = **call;
  if (c.callee != actor.id()) return failed_precondition("Only the person called answers a call.");
  if (c.accepted) return failed_precondition("Call " + std::to_string(c.id) + " was answered already.");
  if (!req.accept()) {
    // To the callee too: their other devices stop ringing.
    finish_locked(c.id, v1::CALL_CHANGE_DECLINED, actor.id(), {}, {c.caller, c.callee});
    return Status::ok();
  }
  c.accepted = true;
  publish_locked(c, v1::CALL_CHANGE_ACCEPTED, actor.id(), {}, {c.caller, c.callee});
  return Status::ok();
}

Status Calls::hang_up(const v1::User& actor, const v1::HangUp& req) {
  std::lock_guard lock(mu_);
  expire_locked();
  auto call = find_locked(actor, req.call_id());
  if (!call) return call.status();
  const Call& c = **call;
  finish_locked(c.id, v1::CALL_CHANGE_ENDED, actor.id(), {}, {c.caller, c.callee});
  return Status::ok();
}

Status Calls::relay(const v1::User& actor, const v1::SendCallSignal& req) {
  const v1::CallSignal& in = req.signal();
  switch (in.payload_case()) {
    case v1::CallSignal::kSdpOffer:
    case v1::CallSignal::kSdpAnswer: {
      const std::string& sdp = in.has_sdp_offer() ? in.sdp_offer() : in.sdp_answer();
      const char* field = in.has_sdp_offer() ? "signal.sdp_offer" : "signal.sdp_answer";
      if (sdp.empty()) return invalid_argument("The session description is empty.", field);
      if (sdp.size() > kMaxCallSdpBytes) {
        return invalid_argument(
            "A session description is at most 16 KiB; this one is " + std::to_string(sdp.size()) + " bytes.",
            field);
      }
      break;
    }
    case v1::CallSignal::kIceCandidate:
      if (in.ice_candidate().empty())
        return invalid_argument("The ICE candidate is empty.", "signal.ice_candidate");
      if (in.ice_candidate().size() > kMaxCallCandidateBytes) {
        return invalid_argument("An ICE candidate is at most 1 KiB; this one is " +
                                    std::to_string(in.ice_candidate().size()) + " bytes.",
                                "signal.ice_candidate");
      }
      break;
    case v1::CallSignal::PAYLOAD_NOT_SET:
      return invalid_argument("Give the signal to relay: sdp_offer, sdp_answer or ice_candidate.", "signal");
  }
  std::lock_guard lock(mu_);
  expire_locked();
  auto call = find_locked(actor, in.call_id());
  if (!call) return call.status();
  Call& c = **call;
  if (c.signals >= options_.max_signals_per_call) {
    return resource_exhausted("Call " + std::to_string(c.id) + " has relayed " +
                                  std::to_string(options_.max_signals_per_call) +
                                  " signals, as many as a call may; hang up and call again.",
                              0);
  }
  TokenBucket& bucket = c.caller == actor.id() ? c.caller_signals : c.callee_signals;
  if (const TokenTake take = bucket.try_take(); !take) {
    return resource_exhausted("Signals are limited to 50 a second per call (100 at once); wait a moment.",
                              take.retry_after_ms);
  }
  ++c.signals;
  v1::Event e;
  e.set_time_ms(clock_.now_ms());
  v1::CallSignal* out = e.mutable_call_signal();
  *out = in;
  out->set_from_id(actor.id());  // whatever the client wrote there
  hub_.publish_live({c.caller == actor.id() ? c.callee : c.caller}, e);
  return Status::ok();
}

void Calls::on_presence(uint64_t user_id, bool online) {
  if (online) return;
  std::lock_guard lock(mu_);
  auto mine = call_of_.find(user_id);
  if (mine == call_of_.end()) return;
  auto it = calls_.find(mine->second);
  assert(it != calls_.end());
  const Call& c = it->second;
  const uint64_t other = c.caller == user_id ? c.callee : c.caller;
  finish_locked(c.id, v1::CALL_CHANGE_ENDED, user_id, "The other member disconnected.", {other});
}

void Calls::expire_unanswered() {
  std::lock_guard lock(mu_);
  expire_locked();
}

size_t Calls::size() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

Result<Calls::Call*> Calls::find_locked(const v1::User& actor, uint64_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end() || (it->second.caller != actor.id() && it->second.callee != actor.id()))
    return not_found(call_not_found(id), "call_id");
  return &it->second;
}

void Calls::publish_locked(const Call& call, v1::CallChange change, uint64_t actor_id,
                           const std::string& reason, const std::vector<uint64_t>& audience) {
  v1::Event e;
  e.set_time_ms(clock_.now_ms());
  v1::CallUpdate* u = e.mutable_call_update();
  u->set_call_id(call.id);
  u->set_change(change);
  u->set_meeting_id(call.meeting_id);
  u->set_caller_id(call.caller);
  u->set_callee_id(call.callee);
  u->set_actor_id(actor_id);
  u->set_reason(reason);
  hub_.publish_live(audience, e);
}

void Calls::finish_locked(uint64_t id, v1::CallChange change, uint64_t actor_id, const std::string& reason,
                          const std::vector<uint64_t>& audience) {
  auto it = calls_.find(id);
  assert(it != calls_.end());
  publish_locked(it->second, change, actor_id, reason, audience);
  call_of_.erase(it->second.caller);
  call_of_.erase(it->second.callee);
  calls_.erase(it);
}

void Calls::expire_locked() {
  const int64_t now = monotonic_clock_.now_ns();
  while (!ringing_.empty() && ringing_.front().first <= now) {
    const uint64_t id = ringing_.front().second;
    ringing_.pop_front();
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second.accepted) continue;  // answered or over already
    const Call& c = it->second;
    finish_locked(id, v1::CALL_CHANGE_ENDED, 0,
                  "Not answered within " + std::to_string(options_.ring_timeout_ms / 1000) + " seconds.",
                  {c.caller, c.callee});
  }
}

}  // namespace preceptor::services
