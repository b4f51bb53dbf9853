#pragma once

// Office hours: a mentor's recurring availability in their own time zone,
// the slots mentees book (each booking an accepted meeting), and the
// drop-in queue while the hours are open. Internal to server/services;
// the module (office_hours_api.cpp) adds its requests to the router.

#include <cstdint>
#include <functional>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/meetings.pb.h"
#include "preceptor/v1/records.pb.h"
#include "server/services/accounts.h"
#include "server/services/busy_mirror.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// Limits of OfficeHours (see meetings.proto).
inline constexpr int kMaxWeeklyRules = 28;
inline constexpr int kMaxDateOverrides = 100;
inline constexpr int kMaxExtraWindows = 8;
inline constexpr uint32_t kMinSlotMinutes = 10;
inline constexpr uint32_t kMaxSlotMinutes = 240;
inline constexpr uint32_t kMaxBufferMinutes = 120;
inline constexpr uint32_t kMaxNoticeMinutes = 20160;  // 14 days
inline constexpr uint32_t kMaxHorizonDays = 180;
inline constexpr uint32_t kMaxSeats = 50;
inline constexpr uint32_t kMaxCancelNoticeMinutes = 10080;  // 7 days
// ListSlots covers at most this many days at once.
inline constexpr int64_t kMaxSlotListDays = 42;
// Mentees waiting in one queue at most.
inline constexpr size_t kMaxQueueWaiting = 50;

// OK when `oh` may be published: every rule of meetings.proto. Otherwise
// INVALID_ARGUMENT naming the field relative to OfficeHours ("time_zone",
// "rules[2].window", "overrides[0].date", "slot_minutes", ...). Reads the
// zone files (check_time_zone); safe from any thread.
Status check_office_hours(const v1::OfficeHours& oh);

// For whoever cancels an office-hours booking (the meetings service):
// frees the seat `m` held in slot_bookings, in the same mutation. Nothing
// for a meeting that is not a booking.
Status release_slot_seat(storage::CommitContext& ctx, const v1::Meeting& m);

// The office hours service. Every change is one committer mutation that
// re-checks everything on the committer thread (so concurrent bookings never
// take more seats than a slot has). Thread-safe; callbacks run on the
// committer's delivery thread.
//
// Who may see a mentor's office hours (Get, ListSlots, BookSlot, the
// queue): the mentor; mentees in the audience (AUDIENCE_PROGRAM: every
// mentee; AUDIENCE_OWN_MENTEES: mentees with an ACTIVE mentorship with the
// mentor), while the hours are enabled. Anyone else gets NOT_FOUND, the same
// as for a mentor without office hours.
class OfficeHoursService {
 public:
  template <class T>
  using Done = std::function<void(Result<T>)>;

  OfficeHoursService(storage::Store& store, storage::Committer& committer, Accounts& accounts,
                     const Clock& clock, BusyMirror& busy);

  // REQUIRES: actor is a mentor (the router checks). Replaces the whole set;
  // bookings already made stay.
  void set(const v1::User& actor, const v1::SetOfficeHours& req, Done<v1::OfficeHours> done);
  Result<v1::GetOfficeHoursResult> get(const v1::User& actor, const v1::GetOfficeHours& req) const;
  // Reads the mentor's accepted meetings in the range once, from the busy
  // mirror (a slot's shared entry says how many seats are taken).
  Result<v1::ListSlotsResult> list_slots(const v1::User& actor, const v1::ListSlots& req) const;
  // REQUIRES: actor is a mentee.
  void book(const v1::User& actor, const v1::BookSlot& req, Done<v1::Meeting> done);

  // The drop-in queue. Join and leave: mentees; call next and skip: the mentor.
  void join_queue(const v1::User& actor, const v1::JoinQueue& req, Done<v1::QueueEntry> done);
  void leave_queue(const v1::User& actor, const v1::LeaveQueue& req, Done<v1::LeaveQueueResult> done);
  void call_next(const v1::User& actor, Done<v1::QueueEntry> done);
  void skip(const v1::User& actor, const v1::SkipInQueue& req, Done<v1::SkipInQueueResult> done);
  Result<v1::GetQueueResult> get_queue(const v1::User& actor, const v1::GetQueue& req) const;

  // Closes the lines whose window has ended (those waiting get
  // QUEUE_STATE_CLOSED), one mutation per line. Reads the queues family
  // (one row per mentor who ever had a line). Blocks until committed;
  // returns how many mutations it submitted.
  size_t run_timed_work();

 private:
  storage::Store& store_;
  storage::Committer& committer_;
  Accounts& accounts_;
  const Clock& clock_;
  BusyMirror& busy_;
};

}  // namespace preceptor::services
