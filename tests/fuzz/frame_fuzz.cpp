// libFuzzer target: bytes -> v1::ClientFrame -> the real Router, over the real
// services (tests/harness: RocksDB in a temporary folder, the committer, the
// hub, every module) on a manual clock, as a WebSocket session hands frames
// over, from callers not signed in and signed in with each role.
//
// An input is a sequence of requests, each `op, len (2 bytes, little-endian),
// len bytes of ClientFrame` (the last may be short), so that one input can
// create something and then act on it. op's low 3 bits choose the caller
// (kCallers); bit 3 first advances the clock an hour and runs every module's
// timed work. Undecodable frames are dropped, as the session answers them
// without the router.
//
// Checked beyond the sanitizers: every request is answered exactly once
// (twice asserts in the router), within kAnswerWait, with its request id and
// either an error or a result.
//
// The store starts with a small program (kMentee..kAdmin, one active
// mentorship with a message) and is rebuilt every kRebuildEvery inputs so
// that it stays small; tests/fuzz/make_corpus writes seeds against it.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>

#include "common/log.h"
#include "tests/harness/services_harness.h"

namespace {

using preceptor::harness::frame;
using preceptor::harness::ServicesHarness;
namespace api = preceptor::api;
namespace v1 = preceptor::v1;
using F = v1::ClientFrame;

constexpr auto kAnswerWait = std::chrono::seconds(10);
constexpr int kRebuildEvery = 2000;
constexpr int kMaxRequests = 16;

[[noreturn]] void fail(const char* what, const v1::ClientFrame& frame) {
  std::fprintf(stderr, "frame_fuzz: %s\nframe: %s\n", what, frame.ShortDebugString().c_str());
  std::abort();
}

struct World {
  ServicesHarness h;
  // kCallers, by op & 7: 0 and 7 are not signed in; 6 is a mentee whose session has expired.
  v1::User users[5];
  api::Caller callers[8];
};

// Answers `f` as `caller` through the router; aborts unless exactly one
// well-formed answer comes in time.
v1::Response dispatch(World& w, const api::Caller& caller, const v1::ClientFrame& f) {
  auto promise = std::make_shared<std::promise<api::Outcome>>();
  auto future = promise->get_future();
  std::optional<api::Outcome> now = w.h.router().dispatch(
      caller, f, [promise](api::Outcome later) { promise->set_value(std::move(later)); });
  v1::Response r;
  if (now) {
    r = std::move(now->response);
  } else {
    if (future.wait_for(kAnswerWait) != std::future_status::ready) fail("no answer", f);
    r = future.get().response;
  }
  if (r.request_id() != f.request_id()) fail("answer with another request id", f);
  if (r.result_case() == v1::Response::RESULT_NOT_SET) fail("answer with neither error nor result", f);
  return r;
}

std::unique_ptr<World> make_world() {
  auto w = std::make_unique<World>();
  const char* names[] = {"mentee", "mentor", "director", "admin", "mentee2"};
  const v1::Role roles[] = {v1::ROLE_MENTEE, v1::ROLE_MENTOR, v1::ROLE_PROGRAM_DIRECTOR, v1::ROLE_ADMIN,
                            v1::ROLE_MENTEE};
  for (int i = 0; i < 5; ++i) {
    w->users[i] = w->h.add_user(names[i], roles[i]);
    w->h.connect(w->users[i], 100 + i);
  }
  for (int i = 1; i <= 5; ++i) w->callers[i] = w->h.caller(w->users[i - 1], 100 + i - 1);
  w->callers[6] = w->h.caller(w->users[0], 200);
  w->callers[6].session->expires_at_ms = w->h.clock().now_ms() - 1;
  w->callers[0].peer_address = w->callers[7].peer_address = "fuzz";

  v1::AssignMentorship assign;
  assign.set_mentor_id(w->users[1].id());
  assign.set_mentee_id(w->users[0].id());
  assign.set_purpose(v1::PURPOSE_CAREER);
  v1::Response assigned = w->h.call(w->callers[3], frame(&F::mutable_assign_mentorship, assign));
  if (!assigned.has_assign_mentorship()) {
    std::fprintf(stderr, "frame_fuzz: setup failed: %s\n", assigned.ShortDebugString().c_str());
    std::abort();
  }
  v1::SendMessage send;
  send.set_conversation_id(assigned.assign_mentorship().mentorship().conversation_id());
  send.set_client_message_id("seed-1");
  send.set_body("Welcome!");
  v1::Response sent = w->h.call(w->callers[2], frame(&F::mutable_send_message, send));
  if (!sent.has_send_message()) {
    std::fprintf(stderr, "frame_fuzz: setup failed: %s\n", sent.ShortDebugString().c_str());
    std::abort();
  }
  return w;
}

// Rebuilt in place, never destroyed at exit: RocksDB's own statics may be
// gone by then.
World* world = nullptr;
int inputs = 0;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  preceptor::log::set_level(preceptor::log::Level::kError);
  world = make_world().release();
  const auto& m = world->users;
  std::fprintf(stderr, "frame_fuzz: users mentee=%llu mentor=%llu director=%llu admin=%llu mentee2=%llu\n",
               static_cast<unsigned long long>(m[0].id()), static_cast<unsigned long long>(m[1].id()),
               static_cast<unsigned long long>(m[2].id()), static_cast<unsigned long long>(m[3].id()),
               static_cast<unsigned long long>(m[4].id()));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (++inputs % kRebuildEvery == 0) {
    delete world;
    world = make_world().release();
  }
  World& w = *world;
  for (int n = 0; n < kMaxRequests && size > 0; ++n) {
    const uint8_t op = data[0];
    size_t len = size >= 3 ? data[1] | (size_t{data[2]} << 8) : 0;
    const size_t header = size >= 3 ? 3 : size;
    data += header;
    size -= header;
    if (len > size) len = size;
    v1::ClientFrame f;
    const bool decoded = f.ParseFromArray(data, static_cast<int>(len));
    data += len;
    size -= len;
    if (op & 0x08) {
      w.h.clock().advance_ms(60 * 60 * 1000);
      w.h.run_timed_work();
    }
    if (!decoded) continue;
    dispatch(w, w.callers[op & 7], f);
  }
  return 0;
}
