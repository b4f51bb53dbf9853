#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "preceptor/v1/frames.pb.h"
#include "server/services/accounts.h"
#include "server/services/chat.h"
#include "server/services/mentorships.h"

namespace preceptor::hub {
class Hub;
}

namespace preceptor::api {

// The services a request may reach.
struct Services {
  services::Accounts& accounts;
  services::Mentorships& mentorships;
  services::Chat& chat;
  hub::Hub& hub;
  const Clock& clock;
};

// What a connection knows about itself. Owned by the session and read only on
// its strand; the dispatcher gets a copy per request.
struct ConnectionInfo {
  uint64_t connection_id = 0;
  std::string peer_address;
  std::optional<services::AuthSession> auth;
};

// The outcome of one request, handed back to the session.
struct Reply {
  v1::Response response;
  // Set when the request bound the connection to a user (Login, Authenticate).
  std::optional<services::AuthSession> authenticated;
  // Set when the request ended the connection's own token (Logout).
  bool signed_out = false;
};
using ReplyFn = std::function<void(Reply)>;

// Decoded frame -> authenticate -> authorize -> service -> Reply. Knows
// nothing of sockets. Thread-safe; `reply` is called exactly once, from any
// thread (the session posts it to its strand).
class Dispatcher {
 public:
  explicit Dispatcher(Services services) : s_(services) {}

  void dispatch(const ConnectionInfo& conn, v1::ClientFrame frame, ReplyFn reply);

 private:
  Services s_;
};

// A Reply carrying only an error for `request_id`.
Reply error_reply(uint64_t request_id, const Status& status);

}  // namespace preceptor::api
