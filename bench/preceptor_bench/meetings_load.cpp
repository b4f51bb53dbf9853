#include "bench/preceptor_bench/meetings_load.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <set>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/report.h"
#include "bench/preceptor_bench/shards.h"

// GCC 12 warns falsely (in sanitizer builds) where one Asio coroutine of this
// file calls another that it inlines: it sees the frame's operator new and
// operator delete (Asio's recycling allocator) both inlined and cannot pair them.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace preceptor::bench {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kDayMs = 24 * 60 * kMinuteMs;
// Each reminder user's reminder times: two hours apart, so a pair's four
// meetings (one due per time) never overlap and the reminders of the other
// times fall due hours after the window (or were already past).
constexpr uint32_t kReminderMinutes[4] = {10080, 9960, 9840, 9720};

// The server's clock: the wall clock, in ms.
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void note_error(uint64_t& failures, std::string& first, const std::string& what) {
  if (failures++ == 0) first = what;
}

}  // namespace

Json BookingResult::to_json() const {
  Json j = Json::object();
  Json o = Json::object();
  o["mentors"] = static_cast<uint64_t>(options.mentors);
  o["mentees"] = static_cast<uint64_t>(options.mentees);
  o["per_mentee"] = static_cast<uint64_t>(options.per_mentee);
  o["time_zone"] = options.time_zone;
  o["day_start_minute"] = static_cast<uint64_t>(options.day_start_minute);
  o["day_end_minute"] = static_cast<uint64_t>(options.day_end_minute);
  o["slot_minutes"] = static_cast<uint64_t>(options.slot_minutes);
  o["min_notice_minutes"] = static_cast<uint64_t>(options.min_notice_minutes);
  Json seats = Json::array();
  for (uint32_t s : options.seats) seats.push_back(static_cast<uint64_t>(s));
  o["seats"] = std::move(seats);
  o["spread"] = static_cast<uint64_t>(options.spread);
  o["list_days"] = static_cast<uint64_t>(options.list_days);
  j["options"] = std::move(o);
  j["slots_per_listing"] = slots_per_listing;
  j["list_slots_quiet_ms"] = histogram_json(list_quiet);
  j["list_slots_under_load_ms"] = histogram_json(list_loaded);
  j["list_slots_quiet_after_ms"] = histogram_json(list_after);
  j["book_slot_ms"] = histogram_json(book_latency);
  j["lists"] = lists;
  j["booked"] = booked;
  j["refused_full"] = refused_full;
  j["refused_other"] = refused_other;
  j["other_errors"] = other_errors;
  Json errs = Json::object();
  for (const auto& [k, v] : errors) errs[k] = v;
  j["errors"] = std::move(errs);
  Json per = Json::array();
  for (uint64_t n : mentees_per_mentor) per.push_back(n);
  j["mentees_per_mentor"] = std::move(per);
  j["mentees_done"] = mentees_done;
  j["mentees_exhausted"] = mentees_exhausted;
  j["seconds"] = seconds;
  j["bookings_per_second"] = bookings_per_second;
  j["attempts_per_second"] = attempts_per_second;
  j["slots_booked"] = slots_booked;
  j["overbooked_slots"] = overbooked_slots;
  j["overbooked_in_listing"] = overbooked_in_listing;
  j["listed_bookings"] = listed_bookings;
  j["missing_in_listing"] = missing_in_listing;
  j["first_problem"] = first_problem;
  j["connect_failures"] = connect_failures;
  j["first_error"] = first_error;
  return j;
}

BookingResult run_booking(const Endpoint& endpoint, const Population& population,
                          const BookingOptions& options, const std::function<void()>& at_start,
                          const std::function<void()>& at_stop) {
  BookingResult r;
  r.options = options;
  const size_t mentors = std::min(options.mentors, population.pairs.size());
  const size_t mentees = std::min(options.mentees, population.pairs.size());
  if (mentors == 0 || mentees == 0) throw std::runtime_error("booking: no mentors or mentees");
  Shards shards(1);
  auto& io = shards.io(0);
  std::vector<std::unique_ptr<Connection>> mentor_conns(mentors), mentee_conns(mentees);
  auto seats_of = [&](size_t j) { return options.seats[j % options.seats.size()]; };
  auto mentor_id = [&](size_t j) { return population.users[population.pairs[j].mentor].id; };

  // 1. Office hours, and every mentee signed in.
  shards.run([&](size_t) -> asio::awaitable<void> {
    co_await for_each_parallel(mentors, 16, [&](size_t j) -> asio::awaitable<void> {
      try {
        auto c = std::make_unique<Connection>(io);
        co_await c->open(endpoint);
        co_await c->authenticate(population.users[population.pairs[j].mentor].token);
        v1::ClientFrame f;
        v1::OfficeHours* oh = f.mutable_set_office_hours()->mutable_office_hours();
        oh->set_enabled(true);
        oh->set_time_zone(options.time_zone);
        for (int day = v1::WEEKDAY_MONDAY; day <= v1::WEEKDAY_SUNDAY; ++day) {
          auto* rule = oh->add_rules();
          rule->set_day(static_cast<v1::Weekday>(day));
          rule->mutable_window()->set_start_minute(options.day_start_minute);
          rule->mutable_window()->set_end_minute(options.day_end_minute);
        }
        oh->set_slot_minutes(options.slot_minutes);
        oh->set_buffer_minutes(0);
        oh->set_min_notice_minutes(options.min_notice_minutes);
        oh->set_horizon_days(std::min<uint32_t>(180, options.list_days + 2));
        oh->set_seats(seats_of(j));
        oh->set_audience(v1::AUDIENCE_PROGRAM);
        v1::Response resp = co_await c->call(f);
        if (resp.has_error()) throw CallError("SetOfficeHours: " + describe(resp.error()));
        mentor_conns[j] = std::move(c);
      } catch (const std::exception& e) {
        note_error(r.connect_failures, r.first_error, "mentor " + std::to_string(j) + ": " + e.what());
      }
    });
    co_await for_each_parallel(mentees, 64, [&](size_t i) -> asio::awaitable<void> {
      try {
        auto c = std::make_unique<Connection>(io);
        co_await c->open(endpoint);
        co_await c->authenticate(population.users[population.pairs[i].mentee].token);
        mentee_conns[i] = std::move(c);
      } catch (const std::exception& e) {
        note_error(r.connect_failures, r.first_error, "mentee " + std::to_string(i) + ": " + e.what());
      }
    });
  });
  if (r.connect_failures > 0) {
    for (auto& c : mentor_conns)
      if (c) c->close();
    for (auto& c : mentee_conns)
      if (c) c->close();
    shards.settle();
    return r;
  }

  auto list_frame = [&](size_t j) {
    v1::ClientFrame f;
    const int64_t now = wall_ms();
    f.mutable_list_slots()->set_mentor_id(mentor_id(j));
    f.mutable_list_slots()->set_from_ms(now);
    f.mutable_list_slots()->set_to_ms(now + static_cast<int64_t>(options.list_days) * kDayMs);
    return f;
  };

  // 2. ListSlots for four weeks with nothing else running (again after the
  // rush: the listing then also reads every booking in the range).
  auto quiet_lists = [&](LatencyHistogram& into) {
    shards.run([&](size_t) -> asio::awaitable<void> {
      const size_t conns = std::max<size_t>(1, std::min(options.quiet_connections, mentees));
      co_await for_each_parallel(conns, conns, [&](size_t q) -> asio::awaitable<void> {
        for (size_t n = q; n < options.quiet_lists; n += conns) {
          const size_t j = n % mentors;
          const int64_t t0 = now_ns();
          v1::Response resp = co_await mentee_conns[q]->call(list_frame(j));
          into.record(now_ns() - t0);
          if (resp.has_error()) {
            ++r.other_errors;
            ++r.errors["ListSlots: " + describe(resp.error())];
            co_return;
          }
          if (n == 0 && &into == &r.list_quiet)
            r.slots_per_listing = static_cast<uint64_t>(resp.list_slots().slots_size());
        }
      });
    });
  };
  quiet_lists(r.list_quiet);

  // Mentees per mentor in proportion to the seats (demand follows capacity):
  // mentee i books with the mentor whose share of the seats holds i.
  std::vector<size_t> mentor_of(mentees);
  {
    uint64_t total = 0;
    for (size_t j = 0; j < mentors; ++j) total += seats_of(j);
    size_t j = 0;
    uint64_t below = seats_of(0);  // seats of mentors [0, j]
    for (size_t i = 0; i < mentees; ++i) {
      while (j + 1 < mentors && static_cast<uint64_t>(i) * total >= below * mentees) below += seats_of(++j);
      mentor_of[i] = j;
    }
    for (size_t k = 0; k < mentors; ++k) {
      r.mentees_per_mentor.push_back(
          static_cast<uint64_t>(std::count(mentor_of.begin(), mentor_of.end(), k)));
    }
  }

  // 3. The booking rush: every mentee at once.
  struct Booking {
    size_t mentor;
    int64_t start;
    uint64_t meeting_id;
  };
  std::vector<Booking> bookings;
  if (at_start) at_start();
  const int64_t t0 = now_ns();
  int64_t last_reply = t0;
  shards.run([&](size_t) -> asio::awaitable<void> {
    co_await for_each_parallel(mentees, mentees, [&](size_t i) -> asio::awaitable<void> {
      Connection& c = *mentee_conns[i];
      std::set<int64_t> mine;
      const size_t j = mentor_of[i];
      std::mt19937 rng(static_cast<uint32_t>(i * 7919 + 1));
      std::vector<int64_t> untried;  // free slots of the last listing not tried since, by start
      size_t done = 0;
      bool listed_since_try = false;
      while (done < options.per_mentee) {
        if (untried.empty()) {
          if (listed_since_try) {  // a fresh listing with nothing to try: every seat is taken
            ++r.mentees_exhausted;
            co_return;
          }
          const int64_t l0 = now_ns();
          v1::Response listed = co_await c.call(list_frame(j));
          last_reply = now_ns();
          r.list_loaded.record(last_reply - l0);
          ++r.lists;
          if (listed.has_error()) {
            ++r.other_errors;
            ++r.errors["ListSlots: " + describe(listed.error())];
            co_return;
          }
          for (const auto& s : listed.list_slots().slots()) {
            if (s.seats_left() > 0 && !mine.count(s.start_ms())) untried.push_back(s.start_ms());
          }
          listed_since_try = true;
          continue;
        }
        // One of the earliest `spread` untried slots: the popular ones.
        const size_t k = rng() % std::max<size_t>(1, std::min(options.spread, untried.size()));
        const int64_t start = untried[k];
        untried.erase(untried.begin() + static_cast<std::ptrdiff_t>(k));
        listed_since_try = false;
        v1::ClientFrame f;
        f.mutable_book_slot()->set_mentor_id(mentor_id(j));
        f.mutable_book_slot()->set_start_ms(start);
        const int64_t b0 = now_ns();
        v1::Response booked = co_await c.call(f);
        last_reply = now_ns();
        r.book_latency.record(last_reply - b0);
        if (!booked.has_error()) {
          ++r.booked;
          ++done;
          mine.insert(start);
          bookings.push_back({j, booked.book_slot().meeting().start_ms(), booked.book_slot().meeting().id()});
          if (booked.book_slot().meeting().start_ms() != start ||
              booked.book_slot().meeting().seats() != seats_of(j)) {
            note_error(r.other_errors, r.first_problem,
                       "BookSlot answered a meeting at another start or seats");
          }
          continue;
        }
        if (booked.error().code() == v1::ERROR_CODE_FAILED_PRECONDITION) {
          if (booked.error().message().find("full") != std::string::npos) {
            ++r.refused_full;
          } else {
            ++r.refused_other;  // e.g. the slot passed the minimum notice during the run
            ++r.errors["BookSlot refused: " + describe(booked.error())];
          }
          untried.clear();  // what the app does when told a slot is full: list again
          continue;
        }
        ++r.other_errors;
        ++r.errors["BookSlot: " + describe(booked.error())];
        co_return;
      }
      ++r.mentees_done;
    });
  });
  r.seconds = static_cast<double>(last_reply - t0) / 1e9;
  if (at_stop) at_stop();
  if (r.seconds > 0) {
    r.bookings_per_second = static_cast<double>(r.booked) / r.seconds;
    r.attempts_per_second = static_cast<double>(r.book_latency.count()) / r.seconds;
  }

  quiet_lists(r.list_after);

  // 4. The check: no slot with more bookings than seats, from the replies...
  std::map<std::pair<size_t, int64_t>, uint64_t> by_slot;
  for (const Booking& b : bookings) ++by_slot[{b.mentor, b.start}];
  r.slots_booked = by_slot.size();
  for (const auto& [slot, n] : by_slot) {
    if (n > seats_of(slot.first)) {
      note_error(r.overbooked_slots, r.first_problem,
                 "mentor " + std::to_string(slot.first) + " slot " + std::to_string(slot.second) + ": " +
                     std::to_string(n) + " bookings for " + std::to_string(seats_of(slot.first)) + " seats");
    }
  }
  // ... and from each mentor's own ListMeetings.
  std::map<size_t, std::set<uint64_t>> ids_by_mentor;
  for (const Booking& b : bookings) ids_by_mentor[b.mentor].insert(b.meeting_id);
  shards.run([&](size_t) -> asio::awaitable<void> {
    for (size_t j = 0; j < mentors; ++j) {
      std::map<int64_t, uint64_t> listed_by_start;
      std::set<uint64_t> listed_ids;
      v1::ClientFrame f;
      const int64_t now = wall_ms();
      f.mutable_list_meetings()->set_from_ms(now - kDayMs);
      f.mutable_list_meetings()->set_to_ms(now + static_cast<int64_t>(options.list_days + 3) * kDayMs);
      f.mutable_list_meetings()->set_limit(500);
      for (bool more = true; more;) {
        v1::Response resp = co_await mentor_conns[j]->call(f);
        if (resp.has_error()) {
          note_error(r.other_errors, r.first_problem, "ListMeetings: " + describe(resp.error()));
          break;
        }
        for (const auto& view : resp.list_meetings().meetings()) {
          const auto& m = view.meeting();
          if (!m.office_hours() || m.state() != v1::MEETING_STATE_ACCEPTED) continue;
          ++listed_by_start[m.start_ms()];
          listed_ids.insert(m.id());
          ++r.listed_bookings;
        }
        more = resp.list_meetings().has_more();
        *f.mutable_list_meetings()->mutable_after() = resp.list_meetings().next_after();
      }
      for (const auto& [start, n] : listed_by_start) {
        if (n > seats_of(j)) {
          note_error(r.overbooked_in_listing, r.first_problem,
                     "ListMeetings of mentor " + std::to_string(j) + ": " + std::to_string(n) +
                         " bookings at " + std::to_string(start) + " for " + std::to_string(seats_of(j)) +
                         " seats");
        }
      }
      for (uint64_t id : ids_by_mentor[j]) {
        if (!listed_ids.count(id)) {
          note_error(r.missing_in_listing, r.first_problem,
                     "meeting " + std::to_string(id) + " booked but not in mentor " + std::to_string(j) +
                         "'s ListMeetings");
        }
      }
    }
    for (auto& c : mentor_conns) c->close();
    for (auto& c : mentee_conns) c->close();
  });
  shards.settle();
  return r;
}

// ---------------------------------------------------------------- reminders

size_t reminder_pairs_for(size_t meetings) { return (meetings + 3) / 4; }

Json ReminderSeedResult::to_json() const {
  Json j = Json::object();
  j["meetings"] = meetings;
  j["reminders_due_in_window"] = reminders_due;
  j["users_with_preferences"] = preferences_set;
  j["failures"] = failures;
  j["first_error"] = first_error;
  j["seconds"] = seconds;
  return j;
}

ReminderSeedResult seed_reminder_meetings(const Endpoint& endpoint, const Population& population,
                                          const ReminderSeedOptions& options) {
  ReminderSeedResult r;
  const size_t pairs = reminder_pairs_for(options.meetings);
  if (options.first_pair + pairs > population.pairs.size()) {
    throw std::runtime_error("reminders: the population has too few pairs");
  }
  Shards shards(1);
  auto& io = shards.io(0);
  const int64_t t0 = now_ns();
  shards.run([&](size_t) -> asio::awaitable<void> {
    co_await for_each_parallel(pairs, options.lanes, [&](size_t p) -> asio::awaitable<void> {
      const BenchPair& pair = population.pairs[options.first_pair + p];
      try {
        Connection mentor(io), mentee(io);
        co_await mentor.open(endpoint);
        co_await mentee.open(endpoint);
        co_await mentor.authenticate(population.users[pair.mentor].token);
        co_await mentee.authenticate(population.users[pair.mentee].token);
        for (Connection* c : {&mentor, &mentee}) {
          v1::ClientFrame f;
          for (uint32_t m : kReminderMinutes)
            f.mutable_set_meeting_preferences()->mutable_preferences()->add_reminder_minutes(m);
          v1::Response resp = co_await c->call(f);
          if (resp.has_error()) throw CallError("SetMeetingPreferences: " + describe(resp.error()));
          ++r.preferences_set;
        }
        for (size_t k = 0; k < 4; ++k) {
          const size_t i = p * 4 + k;
          if (i >= options.meetings) break;
          const int64_t due =
              options.due_from_ms + options.due_span_ms * static_cast<int64_t>(i) /
                                        static_cast<int64_t>(std::max<size_t>(1, options.meetings));
          v1::ClientFrame f;
          auto* pm = f.mutable_propose_meeting();
          pm->set_mentorship_id(pair.mentorship_id);
          pm->set_start_ms(due + static_cast<int64_t>(kReminderMinutes[k]) * kMinuteMs);
          pm->set_duration_minutes(30);
          pm->set_time_zone("UTC");
          pm->set_agenda("preceptor-bench reminder load");
          pm->mutable_where()->set_kind(v1::WHERE_KIND_IN_APP_CALL);
          v1::Response proposed = co_await mentee.call(f);
          if (proposed.has_error()) throw CallError("ProposeMeeting: " + describe(proposed.error()));
          v1::ClientFrame a;
          a.mutable_accept_meeting()->set_meeting_id(proposed.propose_meeting().meeting().id());
          v1::Response accepted = co_await mentor.call(a);
          if (accepted.has_error()) throw CallError("AcceptMeeting: " + describe(accepted.error()));
          ++r.meetings;
          r.reminders_due += 2;
        }
        mentor.close();
        mentee.close();
      } catch (const std::exception& e) {
        note_error(r.failures, r.first_error,
                   "pair " + std::to_string(options.first_pair + p) + ": " + e.what());
      }
    });
  });
  shards.settle();
  r.seconds = static_cast<double>(now_ns() - t0) / 1e9;
  return r;
}

ReminderCheck count_reminders(const Endpoint& endpoint, const Population& population, size_t first_pair,
                              size_t pairs) {
  ReminderCheck r;
  Shards shards(1);
  auto& io = shards.io(0);
  shards.run([&](size_t) -> asio::awaitable<void> {
    co_await for_each_parallel(pairs * 2, 64, [&](size_t u) -> asio::awaitable<void> {
      const BenchPair& pair = population.pairs[first_pair + u / 2];
      try {
        Connection c(io);
        co_await c.open(endpoint);
        co_await c.authenticate(population.users[u % 2 ? pair.mentee : pair.mentor].token);
        v1::ClientFrame f;
        f.mutable_sync()->set_limit(1000);
        for (bool more = true; more;) {
          v1::Response resp = co_await c.call(f);
          if (resp.has_error()) throw CallError("Sync: " + describe(resp.error()));
          for (const auto& e : resp.sync().events()) {
            if (!e.has_meeting_reminder()) continue;
            ++r.reminders;
            if (e.meeting_reminder().late()) ++r.late;
          }
          more = resp.sync().has_more();
          *f.mutable_sync()->mutable_since() = resp.sync().next();
        }
        ++r.users;
        c.close();
      } catch (const std::exception& e) {
        note_error(r.failures, r.first_error, e.what());
      }
    });
  });
  shards.settle();
  return r;
}

}  // namespace preceptor::bench
