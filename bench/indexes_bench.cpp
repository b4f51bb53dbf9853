// What the directory and the scheduler read, before and after the index
// families users_by_role and mentorships_by_due (issue 10, item 14), on one
// store in one run, so the two can be compared as a ratio:
//
//   build-test/bench/preceptor-indexes-bench --benchmark_min_time=1
//
// The store: 20 000 users of whom every 100th is a mentor (200, all listed),
// and 10 000 active mentorships on a weekly agreement, none of them due.
// The loops do the reads (and, for the old scheduler, the mutations) the
// services did and do, record for record; they leave out building the
// reply, which is the same both ways. bench/ may not include the services
// (scripts/check-layering), so the queries are spelled out here against
// storage/ and are kept next to server/services/mentorships.cpp by review.
//
// - DirectoryFirst100Mentors/UserScan: pages of at most 2 000 users looked
//   at (kMaxUsersExaminedPerPage), as many as it takes to list 100 mentors.
// - DirectoryFirst100Mentors/RoleIndex: the mentors' range of users_by_role.
// - SchedulerPassNothingDue/MentorshipScan: every mentorship read, and one
//   mutation per active one with an agreement (it reads the mentorship and
//   the conversation, finds nothing due, writes nothing).
// - SchedulerPassNothingDue/DueIndex: the entries of mentorships_by_due
//   due by now (none).

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <latch>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "preceptor/v1/records.pb.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace preceptor::storage {
namespace {

constexpr uint64_t kUsers = 20000;
constexpr uint64_t kMentorEvery = 100;
constexpr uint64_t kMentorships = 10000;
constexpr size_t kPage = 100;
constexpr size_t kMaxUsersExaminedPerPage = 2000;
constexpr int64_t kWeekMs = 7LL * 24 * 3600 * 1000;

std::filesystem::path bench_root() {
  const char* dir = std::getenv("PRECEPTOR_BENCH_DIR");
  return dir != nullptr && *dir != '\0' ? std::filesystem::path(dir) : std::filesystem::temp_directory_path();
}

Status commit_and_wait(Committer& committer, ApplyFn apply) {
  std::promise<Status> written;
  auto result = written.get_future();
  committer.submit(std::move(apply), [&written](const Status& st) { written.set_value(st); });
  return result.get();
}

// The store, built once for every benchmark of the run.
struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<Store> store;
  SystemClock clock;
  std::unique_ptr<Committer> committer;
  int64_t now = 0;

  Fixture() {
    dir = bench_root() / ("preceptor-indexes-bench-" + std::to_string(std::random_device()()));
    auto opened = Store::open(StoreOptions{.path = dir.string()});
    if (!opened.is_ok()) std::abort();
    store = std::move(opened).value();
    committer = std::make_unique<Committer>(*store, clock);
    now = clock.now_ms();
    for (uint64_t first = 1; first <= kUsers; first += 1000) {
      Status st = commit_and_wait(*committer, [first](CommitContext& ctx) {
        for (uint64_t id = first; id < first + 1000 && id <= kUsers; ++id) {
          v1::UserRecord rec;
          rec.mutable_user()->set_id(id);
          rec.mutable_user()->set_username("user." + std::to_string(id));
          rec.mutable_user()->set_display_name("User " + std::to_string(id));
          const bool mentor = id % kMentorEvery == 0;
          rec.mutable_user()->set_role(mentor ? v1::ROLE_MENTOR : v1::ROLE_MENTEE);
          rec.set_password_hash(std::string(97, 'h'));  // about an argon2id string
          ctx.put(Cf::kUsers, keys::User{.user_id = id}.encode(), rec.SerializeAsString());
          ctx.put(Cf::kUsersByRole,
                  keys::UserByRole{.role = static_cast<uint64_t>(rec.user().role()), .user_id = id}.encode(),
                  "");
          if (mentor) {
            v1::MentorProfileRecord profile;
            profile.mutable_profile()->set_accepting_requests(true);
            profile.mutable_profile()->set_capacity(3);
            ctx.put(Cf::kMentorProfiles, keys::MentorProfile{.mentor_id = id}.encode(),
                    profile.SerializeAsString());
          }
        }
        return Status::ok();
      });
      if (!st.is_ok()) std::abort();
    }
    for (uint64_t first = 1; first <= kMentorships; first += 1000) {
      Status st = commit_and_wait(*committer, [first, now = now](CommitContext& ctx) {
        for (uint64_t id = first; id < first + 1000 && id <= kMentorships; ++id) {
          v1::MentorshipRecord rec;
          auto* m = rec.mutable_mentorship();
          m->set_id(id);
          m->set_mentor_id(kMentorEvery);
          m->set_mentee_id(id);
          m->set_state(v1::MENTORSHIP_STATE_ACTIVE);
          m->set_conversation_id(id);
          m->mutable_agreement()->set_cadence(v1::CADENCE_WEEKLY);
          ctx.put(Cf::kMentorships, keys::Mentorship{.mentorship_id = id}.encode(), rec.SerializeAsString());
          v1::ConversationRecord conv;
          conv.set_id(id);
          conv.set_mentorship_id(id);
          conv.set_last_contact_ms(now);
          ctx.put(Cf::kConversations, keys::Conversation{.conversation_id = id}.encode(),
                  conv.SerializeAsString());
          ctx.put(Cf::kMentorshipsByDue,
                  keys::MentorshipByDue{.due_ms = static_cast<uint64_t>(now + kWeekMs), .mentorship_id = id}
                      .encode(),
                  "");
        }
        return Status::ok();
      });
      if (!st.is_ok()) std::abort();
    }
  }
  ~Fixture() {
    committer.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// A listed mentor's profile, read as list_mentors does.
bool listed(const Store& store, uint64_t id) {
  auto raw = store.get(Cf::kMentorProfiles, keys::MentorProfile{.mentor_id = id}.encode());
  v1::MentorProfileRecord profile;
  return raw.is_ok() && raw->has_value() && profile.ParseFromString(**raw) &&
         profile.profile().accepting_requests();
}

void BM_DirectoryFirst100Mentors_UserScan(benchmark::State& state) {
  Fixture& f = fixture();
  size_t requests = 0;
  for (auto _ : state) {
    size_t mentors = 0;
    uint64_t after = 0;
    bool more = true;
    while (mentors < kPage && more) {
      ++requests;
      const std::string begin = keys::User{.user_id = after + 1}.encode();
      auto scanned = f.store->scan(
          Cf::kUsers, {.begin = begin},
          [&](std::string_view key, std::string_view value) {
            if (mentors == kPage) return false;
            v1::UserRecord rec;
            rec.ParseFromArray(value.data(), static_cast<int>(value.size()));
            if (rec.user().role() == v1::ROLE_MENTOR && !rec.disabled() && listed(*f.store, rec.user().id()))
              ++mentors;
            after = keys::User::decode(key)->user_id;
            return true;
          },
          {.max_entries = kMaxUsersExaminedPerPage});
      more = scanned.is_ok() && *scanned != ScanEnd::kEndOfRange && mentors < kPage;
    }
    benchmark::DoNotOptimize(mentors);
  }
  state.counters["requests_per_page"] =
      benchmark::Counter(static_cast<double>(requests) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_DirectoryFirst100Mentors_UserScan)->Unit(benchmark::kMicrosecond);

void BM_DirectoryFirst100Mentors_RoleIndex(benchmark::State& state) {
  Fixture& f = fixture();
  const uint64_t role = static_cast<uint64_t>(v1::ROLE_MENTOR);
  const std::string begin = keys::UserByRole{.role = role, .user_id = 1}.encode();
  const std::string end = keys::prefix_end(keys::UserByRole::prefix(role));
  for (auto _ : state) {
    size_t mentors = 0;
    auto scanned = f.store->scan(Cf::kUsersByRole, {.begin = begin, .end = end},
                                 [&](std::string_view key, std::string_view) {
                                   if (mentors == kPage) return false;
                                   const uint64_t id = keys::UserByRole::decode(key)->user_id;
                                   auto raw = f.store->get(Cf::kUsers, keys::User{.user_id = id}.encode());
                                   v1::UserRecord rec;
                                   if (raw.is_ok() && raw->has_value() && rec.ParseFromString(**raw) &&
                                       !rec.disabled() && listed(*f.store, id))
                                     ++mentors;
                                   return true;
                                 });
    benchmark::DoNotOptimize(scanned);
    benchmark::DoNotOptimize(mentors);
  }
  state.counters["requests_per_page"] = 1;
}
BENCHMARK(BM_DirectoryFirst100Mentors_RoleIndex)->Unit(benchmark::kMicrosecond);

void BM_SchedulerPassNothingDue_MentorshipScan(benchmark::State& state) {
  Fixture& f = fixture();
  size_t submitted = 0;
  for (auto _ : state) {
    std::vector<uint64_t> candidates;
    auto scanned = f.store->scan(Cf::kMentorships, {}, [&](std::string_view, std::string_view value) {
      v1::MentorshipRecord rec;
      rec.ParseFromArray(value.data(), static_cast<int>(value.size()));
      if (rec.mentorship().state() == v1::MENTORSHIP_STATE_ACTIVE && rec.mentorship().has_agreement())
        candidates.push_back(rec.mentorship().id());
      return true;
    });
    benchmark::DoNotOptimize(scanned);
    std::latch finished(static_cast<std::ptrdiff_t>(candidates.size()));
    for (uint64_t id : candidates) {
      f.committer->submit(
          [id, now = f.now](CommitContext& ctx) -> Status {
            auto m = ctx.get(Cf::kMentorships, keys::Mentorship{.mentorship_id = id}.encode());
            if (!m.is_ok()) return m.status();
            v1::MentorshipRecord rec;
            if (m->has_value()) rec.ParseFromString(**m);
            auto c = ctx.get(Cf::kConversations, keys::Conversation{.conversation_id = id}.encode());
            if (!c.is_ok()) return c.status();
            v1::ConversationRecord conv;
            if (c->has_value()) conv.ParseFromString(**c);
            benchmark::DoNotOptimize(now - conv.last_contact_ms() < kWeekMs);  // not due: nothing written
            return Status::ok();
          },
          [&finished](const Status& st) {
            st.ignore_error();
            finished.count_down();
          });
    }
    finished.wait();
    submitted += candidates.size();
  }
  state.counters["mutations_per_pass"] =
      benchmark::Counter(static_cast<double>(submitted) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_SchedulerPassNothingDue_MentorshipScan)->Unit(benchmark::kMicrosecond);

void BM_SchedulerPassNothingDue_DueIndex(benchmark::State& state) {
  Fixture& f = fixture();
  const std::string end =
      keys::MentorshipByDue{.due_ms = static_cast<uint64_t>(f.now) + 1, .mentorship_id = 0}.encode();
  for (auto _ : state) {
    size_t due = 0;
    auto scanned =
        f.store->scan(Cf::kMentorshipsByDue, {.end = end}, [&](std::string_view, std::string_view) {
          ++due;
          return true;
        });
    benchmark::DoNotOptimize(scanned);
    benchmark::DoNotOptimize(due);
  }
  state.counters["mutations_per_pass"] = 0;
}
BENCHMARK(BM_SchedulerPassNothingDue_DueIndex)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace preceptor::storage

BENCHMARK_MAIN();
