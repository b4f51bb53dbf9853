#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/histogram.h"
#include "bench/preceptor_bench/json.h"
#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// The booking scenario (issue 12): a few popular mentors publish office hours
// for the whole program; many mentees at once list four weeks of slots and
// book the same popular ones, moving on to later slots as they fill. Every
// field: default and unit.
struct BookingOptions {
  size_t mentors = 10;     // the mentors of pairs [0, mentors)
  size_t mentees = 1000;   // the mentees of pairs [0, mentees); mentee i books with mentor i % mentors
  size_t per_mentee = 20;  // bookings each mentee makes, then it stops
  // Office hours of every popular mentor: every day [day_start, day_end)
  // local minutes in `time_zone`, slots of slot_minutes, no buffer.
  std::string time_zone = "America/New_York";
  uint32_t day_start_minute = 8 * 60;
  uint32_t day_end_minute = 20 * 60;
  uint32_t slot_minutes = 15;
  uint32_t min_notice_minutes = 1500;  // 25 h: no booking's 1440-minute reminder falls due during the suite
  std::vector<uint32_t> seats = {1, 4, 10, 25};  // mentor j: seats[j % size]
  // A mentee lists, then books one of the earliest `spread` slots of that
  // listing it has not tried yet, at random, until it has per_mentee; it
  // lists again after a refusal, or when it has tried every listed slot.
  size_t spread = 16;
  uint32_t list_days = 28;       // the ListSlots range
  size_t quiet_lists = 2000;     // ListSlots measured before the booking load (no other load)
  size_t quiet_connections = 1;  // one call at a time: latency, not queueing on the I/O thread
};

struct BookingResult {
  BookingOptions options;
  uint64_t slots_per_listing = 0;  // slots the first quiet ListSlots of mentor 0 returned
  LatencyHistogram list_quiet;     // ListSlots, four weeks, client-side, nothing else running
  LatencyHistogram list_loaded;    // ListSlots during the booking load
  LatencyHistogram list_after;     // ListSlots as list_quiet, after the booking load
  LatencyHistogram book_latency;   // BookSlot, client-side, every reply
  uint64_t lists = 0;
  uint64_t booked = 0;         // successful BookSlot
  uint64_t refused_full = 0;   // FAILED_PRECONDITION "full"
  uint64_t refused_other = 0;  // other FAILED_PRECONDITION (e.g. the slot passed the minimum notice)
  uint64_t other_errors = 0;   // anything else (fails the run)
  std::map<std::string, uint64_t> errors;
  std::vector<uint64_t> mentees_per_mentor;
  uint64_t mentees_done = 0;       // booked per_mentee
  uint64_t mentees_exhausted = 0;  // no free slot left to try
  double seconds = 0;              // first ListSlots to last reply of the booking load
  double bookings_per_second = 0;
  double attempts_per_second = 0;  // BookSlot replies (booked + refused) per s
  // The check: seats taken per slot, from the successful replies and from
  // every mentor's ListMeetings; over-booked slots (must be 0) and mismatches.
  uint64_t slots_booked = 0;           // distinct (mentor, start) with a booking
  uint64_t overbooked_slots = 0;       // more bookings than seats (from the replies)
  uint64_t overbooked_in_listing = 0;  // more bookings than seats (from ListMeetings)
  uint64_t listed_bookings = 0;        // office-hours meetings ListMeetings showed
  uint64_t missing_in_listing = 0;     // successful bookings ListMeetings did not show
  std::string first_problem;
  uint64_t connect_failures = 0;
  std::string first_error;

  Json to_json() const;
};

// Runs the booking scenario on the population (mentors and mentees signed
// in: their tokens are used). Call from the main thread.
BookingResult run_booking(const Endpoint& endpoint, const Population& population,
                          const BookingOptions& options, const std::function<void()>& at_start = {},
                          const std::function<void()>& at_stop = {});

// Reminders due during a load: `meetings` accepted meetings between the
// pairs [first_pair, first_pair + pairs), four per pair, each member with
// reminder times kReminderMinutes, so that exactly one reminder of each
// member per meeting falls due in [due_from_ms, due_from_ms + due_span_ms)
// (wall-clock ms; the others fall due two hours apart after it, or were
// already past). Each pair's four meetings are hours apart: no clash.
struct ReminderSeedOptions {
  size_t meetings = 10000;
  size_t first_pair = 0;
  int64_t due_from_ms = 0;
  int64_t due_span_ms = 10000;
  size_t lanes = 64;  // pairs seeded at once
};

struct ReminderSeedResult {
  uint64_t meetings = 0;         // accepted
  uint64_t reminders_due = 0;    // in the window: 2 per meeting
  uint64_t preferences_set = 0;  // users
  uint64_t failures = 0;
  std::string first_error;
  double seconds = 0;
  Json to_json() const;
};

// Pairs needed for `meetings`.
size_t reminder_pairs_for(size_t meetings);

ReminderSeedResult seed_reminder_meetings(const Endpoint& endpoint, const Population& population,
                                          const ReminderSeedOptions& options);

// Counts the MeetingReminder events the users of the pairs got (Sync from
// the start): how many, how many marked late, and how many users could not
// be read.
struct ReminderCheck {
  uint64_t users = 0;
  uint64_t reminders = 0;
  uint64_t late = 0;
  uint64_t failures = 0;
  std::string first_error;
};
ReminderCheck count_reminders(const Endpoint& endpoint, const Population& population, size_t first_pair,
                              size_t pairs);

}  // namespace preceptor::bench
