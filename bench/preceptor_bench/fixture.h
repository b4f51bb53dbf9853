#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// One user of the benchmark population. Pair i is the mentor
// "bench.mentor.i" (users[2i]) and the mentee "bench.mentee.i" (users[2i+1]).
struct BenchUser {
  std::string username;
  std::string password;
  bool mentor = false;
  uint64_t id = 0;    // LoginResult.user.id, after sign-in
  std::string token;  // from Login, for Authenticate on later connections
};

// An active mentorship between two bench users, and its conversation.
struct BenchPair {
  size_t mentor = 0;  // index into the users
  size_t mentee = 0;
  uint64_t mentorship_id = 0;
  uint64_t conversation_id = 0;
};

// The users and mentorships every scenario runs on.
struct Population {
  std::vector<BenchUser> users;
  std::vector<BenchPair> pairs;

  // Names and passwords for `pairs` pairs (no ids or tokens yet).
  static Population make(size_t pairs);

  // The roster CSV that preceptor-admin import-roster reads.
  void write_roster(const std::string& path) const;

  // Signs every user in (Login, one connection each) and makes each pair an
  // active mentorship (RequestMentorship by the mentee, AcceptMentorship by
  // the mentor), reusing a mentorship the pair already has. Runs `lanes`
  // pairs at a time. Throws std::runtime_error naming the first failure.
  void sign_in_and_pair(const Endpoint& endpoint, size_t lanes);
};

}  // namespace preceptor::bench
