#include "bench/preceptor_bench/fixture.h"

#include <fstream>
#include <stdexcept>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/shards.h"

namespace preceptor::bench {
namespace {

// The mentorship between the pair's mentor and mentee that can carry
// messages: an existing active one, or a fresh one requested and accepted.
asio::awaitable<void> make_active(Connection& mentor, Connection& mentee, const BenchUser& mentor_user,
                                  BenchPair& pair) {
  v1::ClientFrame request;
  request.mutable_request_mentorship()->set_mentor_id(mentor_user.id);
  request.mutable_request_mentorship()->set_purpose(v1::PURPOSE_CLINICAL_SKILLS);
  request.mutable_request_mentorship()->set_note("preceptor-bench");
  v1::Response r = co_await mentee.call(request);
  uint64_t mentorship_id = 0;
  if (r.has_request_mentorship()) {
    mentorship_id = r.request_mentorship().mentorship().id();
  } else {
    // Already paired (a server reused across runs): find that mentorship, page by page.
    v1::ClientFrame list;
    list.mutable_list_mentorships();
    for (bool more = true; more;) {
      v1::Response l = co_await mentee.call(list);
      if (l.has_error()) throw CallError("ListMentorships: " + describe(l.error()));
      for (const auto& view : l.list_mentorships().mentorships()) {
        const auto& m = view.mentorship();
        if (m.mentor_id() != mentor_user.id) continue;
        if (m.state() == v1::MENTORSHIP_STATE_ACTIVE) {
          pair.mentorship_id = m.id();
          pair.conversation_id = m.conversation_id();
          co_return;
        }
        if (m.state() == v1::MENTORSHIP_STATE_REQUESTED) mentorship_id = m.id();
      }
      more = l.list_mentorships().has_more();
      list.mutable_list_mentorships()->set_after_mentorship_id(
          l.list_mentorships().next_after_mentorship_id());
    }
    if (mentorship_id == 0) {
      throw CallError("RequestMentorship " + mentor_user.username + ": " + describe(r.error()));
    }
  }
  v1::ClientFrame accept;
  accept.mutable_accept_mentorship()->set_mentorship_id(mentorship_id);
  v1::Response a = co_await mentor.call(accept);
  if (a.has_error()) throw CallError("AcceptMentorship: " + describe(a.error()));
  pair.mentorship_id = mentorship_id;
  pair.conversation_id = a.accept_mentorship().mentorship().conversation_id();
  if (pair.conversation_id == 0) throw CallError("AcceptMentorship returned no conversation_id");
}

}  // namespace

Population Population::make(size_t pairs) {
  Population p;
  p.users.reserve(pairs * 2);
  for (size_t i = 0; i < pairs; ++i) {
    BenchUser mentor;
    mentor.username = "bench.mentor." + std::to_string(i);
    mentor.password = "bench-mentor-pw-" + std::to_string(i);
    mentor.mentor = true;
    BenchUser mentee;
    mentee.username = "bench.mentee." + std::to_string(i);
    mentee.password = "bench-mentee-pw-" + std::to_string(i);
    p.users.push_back(std::move(mentor));
    p.users.push_back(std::move(mentee));
    p.pairs.push_back(BenchPair{2 * i, 2 * i + 1});
  }
  return p;
}

void Population::write_roster(const std::string& path) const {
  std::ofstream out(path);
  out << "username,display_name,role,specialty,training_level,time_zone,password\n";
  for (size_t i = 0; i < users.size(); ++i) {
    const auto& u = users[i];
    out << u.username << ",Bench " << (u.mentor ? "Mentor " : "Mentee ") << i / 2 << ","
        << (u.mentor ? "mentor" : "mentee") << ",Internal medicine," << (u.mentor ? "Attending" : "PGY-1")
        << ",UTC," << u.password << "\n";
  }
  if (!out) throw std::runtime_error("could not write " + path);
}

void Population::sign_in_and_pair(const Endpoint& endpoint, size_t lanes) {
  Shards shards(1);
  std::string first_error;
  size_t failures = 0;
  shards.run([&](size_t) -> asio::awaitable<void> {
    auto& io = shards.io(0);
    co_await for_each_parallel(pairs.size(), lanes, [&](size_t i) -> asio::awaitable<void> {
      BenchPair& pair = pairs[i];
      BenchUser& mentor = users[pair.mentor];
      BenchUser& mentee = users[pair.mentee];
      try {
        Connection mentor_conn(io);
        Connection mentee_conn(io);
        co_await mentor_conn.open(endpoint);
        co_await mentee_conn.open(endpoint);
        auto ml = co_await mentor_conn.login(mentor.username, mentor.password);
        mentor.id = ml.user().id();
        mentor.token = ml.token();
        auto el = co_await mentee_conn.login(mentee.username, mentee.password);
        mentee.id = el.user().id();
        mentee.token = el.token();
        co_await make_active(mentor_conn, mentee_conn, mentor, pair);
      } catch (const std::exception& e) {
        if (failures++ == 0) first_error = "pair " + std::to_string(i) + ": " + e.what();
      }
    });
  });
  shards.settle();
  if (failures > 0) {
    throw std::runtime_error(std::to_string(failures) + " of " + std::to_string(pairs.size()) +
                             " pairs could not be signed in and paired; first: " + first_error);
  }
}

}  // namespace preceptor::bench
