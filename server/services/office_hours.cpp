#include "server/services/office_hours.h"

#include <algorithm>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/services/meeting_book.h"
#include "server/services/membership.h"
#include "server/services/record_io.h"
#include "server/services/slots.h"
#include "server/services/text_checks.h"
#include "server/services/time_zones.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

constexpr int64_t kDayMsHere = 24LL * 3600 * 1000;

std::string mentor_key(uint64_t mentor_id) { return keys::MentorKey{.mentor_id = mentor_id}.encode(); }

std::string slot_key(uint64_t mentor_id, int64_t start_ms) {
  return keys::SlotBooking{.mentor_id = mentor_id,
                           .start_ms = static_cast<uint64_t>(std::max<int64_t>(0, start_ms))}
      .encode();
}

std::string user_busy_key(uint64_t user_id, int64_t start_ms, uint64_t meeting_id) {
  return keys::UserMeeting{.user_id = user_id,
                           .start_ms = static_cast<uint64_t>(std::max<int64_t>(0, start_ms)),
                           .meeting_id = meeting_id}
      .encode();
}

Status no_office_hours(uint64_t mentor_id) {
  return not_found("No office hours of user " + std::to_string(mentor_id) + " open to you.", "mentor_id");
}

std::string window_text(uint32_t start, uint32_t end) {
  auto hm = [](uint32_t m) {
    const std::string h = std::to_string(m / 60), min = std::to_string(m % 60);
    return (h.size() < 2 ? "0" + h : h) + ":" + (min.size() < 2 ? "0" + min : min);
  };
  return hm(start) + "-" + hm(end);
}

Status check_window(const v1::LocalWindow& w, const std::string& field) {
  if (w.end_minute() > kMinutesPerDay || w.start_minute() >= w.end_minute()) {
    return invalid_argument(
        "A window runs from a start to a later end within one day (minutes 0-1440, start before end; "
        "it cannot cross midnight); " +
            std::to_string(w.start_minute()) + "-" + std::to_string(w.end_minute()) + " does not.",
        field);
  }
  return Status::ok();
}

// The ACTIVE mentorship between `mentee_id` and `mentor_id` (any purpose);
// 0 when there is none. `src` is the store or a commit context.
template <class Src>
Result<uint64_t> active_mentorship(Src& src, uint64_t mentee_id, uint64_t mentor_id) {
  const std::string begin =
      keys::OpenPair{.mentee_id = mentee_id, .mentor_id = mentor_id, .purpose = 0}.encode();
  const std::string end =
      keys::OpenPair{.mentee_id = mentee_id, .mentor_id = mentor_id + 1, .purpose = 0}.encode();
  std::vector<uint64_t> ids;
  auto scanned =
      src.scan(Cf::kOpenPairs, {.begin = begin, .end = end}, [&](std::string_view, std::string_view v) {
        if (auto id = storage::decode_u64(v)) ids.push_back(*id);
        return true;
      });
  if (!scanned) return scanned.status();
  for (uint64_t id : ids) {
    auto rec =
        load<v1::MentorshipRecord>(src, Cf::kMentorships, keys::Mentorship{.mentorship_id = id}.encode());
    if (!rec) return rec.status();
    if (rec->has_value() && (*rec)->mentorship().state() == v1::MENTORSHIP_STATE_ACTIVE) return id;
  }
  return uint64_t{0};
}

// Whether `actor` may book `oh` (a mentee in its audience); sets
// `*mentorship_id` to their active mentorship with the mentor (0: none).
template <class Src>
Result<bool> may_book(Src& src, const v1::User& actor, const v1::OfficeHours& oh, uint64_t* mentorship_id) {
  if (actor.role() != v1::ROLE_MENTEE || !oh.enabled()) return false;
  auto active = active_mentorship(src, actor.id(), oh.mentor_id());
  if (!active) return active.status();
  if (mentorship_id) *mentorship_id = *active;
  if (oh.audience() == v1::AUDIENCE_PROGRAM) return true;
  return *active != 0;
}

// The office hours `actor` may see: their own, or a mentor's they may book.
template <class Src>
Result<v1::OfficeHours> visible_office_hours(Src& src, const v1::User& actor, uint64_t mentor_id,
                                             uint64_t* mentorship_id = nullptr) {
  auto rec = load<v1::OfficeHoursRecord>(src, Cf::kOfficeHours, mentor_key(mentor_id));
  if (!rec) return rec.status();
  if (!rec->has_value()) return no_office_hours(mentor_id);
  v1::OfficeHours oh = (*rec)->office_hours();
  oh.set_mentor_id(mentor_id);
  if (actor.id() == mentor_id) return oh;
  auto ok = may_book(src, actor, oh, mentorship_id);
  if (!ok) return ok.status();
  if (!*ok) return no_office_hours(mentor_id);
  return oh;
}

// ---- The queue ----

// One mentor's line inside a mutation.
struct Line {
  uint64_t mentor_id = 0;
  std::optional<v1::OfficeHours> oh;  // enabled office hours; nullopt: none
  std::optional<OpenWindow> open;     // the window open now
  v1::QueueRecord rec;
  std::vector<uint64_t> before;                                // who waited, in order, when loaded
  std::vector<std::pair<uint64_t, v1::QueueState>> left_line;  // who left it in this mutation, how
};

// Whether an entry joined before the window open now (or none is open):
// the line closed on it.
bool stale(const v1::QueueRecord::Waiting& w, const std::optional<OpenWindow>& open) {
  return !open || w.joined_ms() < open->start_ms;
}

Result<Line> load_line(storage::CommitContext& ctx, uint64_t mentor_id) {
  Line line;
  line.mentor_id = mentor_id;
  auto oh = load<v1::OfficeHoursRecord>(ctx, Cf::kOfficeHours, mentor_key(mentor_id));
  if (!oh) return oh.status();
  if (oh->has_value() && (*oh)->office_hours().enabled()) {
    line.oh = (*oh)->office_hours();
    line.oh->set_mentor_id(mentor_id);
    auto open = open_window_at(*line.oh, ctx.now_ms());
    if (!open) return open.status();
    line.open = *open;
  }
  auto rec = load<v1::QueueRecord>(ctx, Cf::kQueues, mentor_key(mentor_id));
  if (!rec) return rec.status();
  if (rec->has_value()) line.rec = std::move(**rec);
  for (const auto& w : line.rec.waiting()) line.before.push_back(w.mentee_id());
  // Those who waited from before the window open now: the line closed on them.
  auto* waiting = line.rec.mutable_waiting();
  for (int i = 0; i < waiting->size();) {
    if (stale(waiting->Get(i), line.open)) {
      line.left_line.emplace_back(waiting->Get(i).mentee_id(), v1::QUEUE_STATE_CLOSED);
      waiting->erase(waiting->begin() + i);
    } else {
      ++i;
    }
  }
  return line;
}

int place_of(const v1::QueueRecord& rec, uint64_t mentee_id) {
  for (int i = 0; i < rec.waiting_size(); ++i) {
    if (rec.waiting(i).mentee_id() == mentee_id) return i + 1;
  }
  return 0;
}

Result<v1::User> user_in(storage::CommitContext& ctx, uint64_t user_id) {
  auto rec = load<v1::UserRecord>(ctx, Cf::kUsers, keys::User{.user_id = user_id}.encode());
  if (!rec) return rec.status();
  if (!rec->has_value()) {
    v1::User u;
    u.set_id(user_id);
    return u;
  }
  return (*rec)->user();
}

// Writes the line and tells everyone whose entry changed: each mentee who
// left it (how), each still waiting whose place moved (the new place), and
// the mentor (the whole line; `subject` is whose entry changed, 0: several).
Status finish_line(storage::CommitContext& ctx, Line& line, uint64_t subject, v1::QueueState subject_state) {
  std::vector<v1::Event> events;
  std::vector<uint64_t> audiences;
  for (const auto& [mentee, state] : line.left_line) {
    v1::Event e;
    auto* q = e.mutable_queue_changed();
    q->set_mentor_id(line.mentor_id);
    q->set_mentee_id(mentee);
    q->set_state(state);
    events.push_back(std::move(e));
    audiences.push_back(mentee);
  }
  for (int i = 0; i < line.rec.waiting_size(); ++i) {
    const uint64_t mentee = line.rec.waiting(i).mentee_id();
    auto was = std::find(line.before.begin(), line.before.end(), mentee);
    const int old_place = was == line.before.end() ? 0 : static_cast<int>(was - line.before.begin()) + 1;
    if (old_place == i + 1) continue;
    v1::Event e;
    auto* q = e.mutable_queue_changed();
    q->set_mentor_id(line.mentor_id);
    q->set_mentee_id(mentee);
    q->set_state(v1::QUEUE_STATE_WAITING);
    q->set_place(static_cast<uint32_t>(i + 1));
    events.push_back(std::move(e));
    audiences.push_back(mentee);
  }
  if (events.empty()) return Status::ok();  // nothing changed
  if (line.rec.waiting_size() == 0 && line.rec.called_mentee_id() == 0) {
    ctx.del(Cf::kQueues, mentor_key(line.mentor_id));
  } else {
    save(ctx, Cf::kQueues, mentor_key(line.mentor_id), line.rec);
  }
  for (size_t i = 0; i < events.size(); ++i) ctx.append_event(std::move(events[i]), {audiences[i]});
  v1::Event e;
  auto* q = e.mutable_queue_changed();
  q->set_mentor_id(line.mentor_id);
  q->set_mentee_id(subject);
  q->set_state(subject_state);
  if (subject_state == v1::QUEUE_STATE_WAITING)
    q->set_place(static_cast<uint32_t>(place_of(line.rec, subject)));
  for (int i = 0; i < line.rec.waiting_size(); ++i) {
    auto* entry = q->add_entries();
    entry->set_mentee_id(line.rec.waiting(i).mentee_id());
    entry->set_place(static_cast<uint32_t>(i + 1));
    entry->set_joined_ms(line.rec.waiting(i).joined_ms());
    auto user = user_in(ctx, entry->mentee_id());
    if (!user) return user.status();
    *entry->mutable_mentee() = std::move(*user);
  }
  ctx.append_event(std::move(e), {line.mentor_id});
  return Status::ok();
}

// Commits only the closing of stale entries (if any).
Status close_only(storage::CommitContext& ctx, Line& line) {
  return finish_line(ctx, line, 0, v1::QUEUE_STATE_CLOSED);
}

}  // namespace

Status check_office_hours(const v1::OfficeHours& oh) {
  PRECEPTOR_RETURN_IF_ERROR(check_time_zone(oh.time_zone()));
  PRECEPTOR_RETURN_IF_ERROR(check_zone_known(oh.time_zone()));
  if (oh.rules_size() > kMaxWeeklyRules) {
    return invalid_argument(
        "Office hours have at most 28 weekly windows; these have " + std::to_string(oh.rules_size()) + ".",
        "rules");
  }
  for (int i = 0; i < oh.rules_size(); ++i) {
    const auto& r = oh.rules(i);
    const std::string field = "rules[" + std::to_string(i) + "]";
    if (r.day() < v1::WEEKDAY_MONDAY || r.day() > v1::WEEKDAY_SUNDAY) {
      return invalid_argument("Each weekly window names a day from Monday to Sunday.", field + ".day");
    }
    PRECEPTOR_RETURN_IF_ERROR(check_window(r.window(), field + ".window"));
    for (int j = 0; j < i; ++j) {
      const auto& o = oh.rules(j);
      if (o.day() == r.day() && r.window().start_minute() < o.window().end_minute() &&
          o.window().start_minute() < r.window().end_minute()) {
        return invalid_argument(
            "The windows " + window_text(o.window().start_minute(), o.window().end_minute()) + " and " +
                window_text(r.window().start_minute(), r.window().end_minute()) +
                " overlap on the same day; make them one window or move one.",
            field + ".window");
      }
    }
  }
  if (oh.slot_minutes() < kMinSlotMinutes || oh.slot_minutes() > kMaxSlotMinutes) {
    return invalid_argument("A slot lasts from 10 to 240 minutes.", "slot_minutes");
  }
  if (oh.buffer_minutes() > kMaxBufferMinutes) {
    return invalid_argument("The break between slots is at most 120 minutes.", "buffer_minutes");
  }
  if (oh.min_notice_minutes() > kMaxNoticeMinutes) {
    return invalid_argument("The minimum notice is at most 14 days (20160 minutes).", "min_notice_minutes");
  }
  if (oh.horizon_days() < 1 || oh.horizon_days() > kMaxHorizonDays) {
    return invalid_argument("Slots can be booked from 1 to 180 days ahead; set horizon_days in that range.",
                            "horizon_days");
  }
  if (oh.seats() < 1 || oh.seats() > kMaxSeats) {
    return invalid_argument("A slot has from 1 to 50 seats (1: one-to-one).", "seats");
  }
  if (oh.audience() != v1::AUDIENCE_OWN_MENTEES && oh.audience() != v1::AUDIENCE_PROGRAM) {
    return invalid_argument("Say who may book: your own mentees or every mentee of the program.", "audience");
  }
  if (oh.cancel_notice_minutes() > kMaxCancelNoticeMinutes) {
    return invalid_argument("The cancel notice is at most 7 days (10080 minutes).", "cancel_notice_minutes");
  }
  if (oh.overrides_size() > kMaxDateOverrides) {
    return invalid_argument("Office hours have at most 100 date overrides; these have " +
                                std::to_string(oh.overrides_size()) + ".",
                            "overrides");
  }
  std::vector<int32_t> dates;
  for (int i = 0; i < oh.overrides_size(); ++i) {
    const auto& o = oh.overrides(i);
    const std::string field = "overrides[" + std::to_string(i) + "]";
    auto day = parse_local_date(o.date());
    if (!day) {
      return invalid_argument(
          "A date override needs a calendar date written YYYY-MM-DD (such as 2026-12-24).", field + ".date");
    }
    if (std::find(dates.begin(), dates.end(), *day) != dates.end()) {
      return invalid_argument("The date " + o.date() + " has two overrides; give each date one.",
                              field + ".date");
    }
    dates.push_back(*day);
    if (o.extra_size() > kMaxExtraWindows) {
      return invalid_argument("A date override has at most 8 extra windows.", field + ".extra");
    }
    if (!o.away() && o.extra_size() == 0) {
      return invalid_argument("A date override either says away or adds windows; this one does neither.",
                              field);
    }
    // The windows of that day: the extra ones, and the weekly ones unless away.
    std::vector<std::pair<uint32_t, uint32_t>> day_windows;
    if (!o.away()) {
      const unsigned weekday =
          static_cast<unsigned>((*day % 7 + 7 + 3) % 7) + 1;  // 1970-01-01 was a Thursday
      for (const auto& r : oh.rules()) {
        if (static_cast<unsigned>(r.day()) == weekday)
          day_windows.emplace_back(r.window().start_minute(), r.window().end_minute());
      }
    }
    for (int j = 0; j < o.extra_size(); ++j) {
      const auto& w = o.extra(j);
      const std::string wfield = field + ".extra[" + std::to_string(j) + "]";
      PRECEPTOR_RETURN_IF_ERROR(check_window(w, wfield));
      for (const auto& [s, e] : day_windows) {
        if (w.start_minute() < e && s < w.end_minute()) {
          return invalid_argument("The extra window " + window_text(w.start_minute(), w.end_minute()) +
                                      " on " + o.date() + " overlaps " + window_text(s, e) + " that day.",
                                  wfield);
        }
      }
      day_windows.emplace_back(w.start_minute(), w.end_minute());
    }
  }
  PRECEPTOR_RETURN_IF_ERROR(check_where(oh.where(), "where"));
  return Status::ok();
}

Status release_slot_seat(storage::CommitContext& ctx, const v1::Meeting& m) {
  if (!m.office_hours()) return Status::ok();
  const std::string key = slot_key(m.mentor_id(), m.start_ms());
  auto raw = ctx.get(Cf::kSlotBookings, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return Status::ok();
  const uint64_t n = storage::decode_u64(**raw).value_or(0);
  if (n <= 1) {
    ctx.del(Cf::kSlotBookings, key);
  } else {
    ctx.put(Cf::kSlotBookings, key, storage::encode_u64(n - 1));
  }
  return Status::ok();
}

OfficeHoursService::OfficeHoursService(storage::Store& store, storage::Committer& committer,
                                       Accounts& accounts, const Clock& clock, BusyMirror& busy)
    : store_(store), committer_(committer), accounts_(accounts), clock_(clock), busy_(busy) {}

void OfficeHoursService::set(const v1::User& actor, const v1::SetOfficeHours& req,
                             Done<v1::OfficeHours> done) {
  v1::OfficeHours oh = req.office_hours();
  oh.set_mentor_id(actor.id());
  if (oh.where().kind() == v1::WHERE_KIND_UNSPECIFIED)
    oh.mutable_where()->set_kind(v1::WHERE_KIND_IN_APP_CALL);
  if (Status st = check_office_hours(oh); !st) return done(st);
  const uint64_t mentor_id = actor.id();
  commit_with_result<v1::OfficeHours>(
      committer_,
      [oh, mentor_id](storage::CommitContext& ctx, v1::OfficeHours& out) {
        v1::OfficeHoursRecord rec;
        *rec.mutable_office_hours() = oh;
        save(ctx, Cf::kOfficeHours, mentor_key(mentor_id), rec);
        v1::Event e;
        *e.mutable_office_hours()->mutable_office_hours() = oh;
        ctx.append_event(std::move(e), {mentor_id});
        out = oh;
        return Status::ok();
      },
      std::move(done));
}

Result<v1::GetOfficeHoursResult> OfficeHoursService::get(const v1::User& actor,
                                                         const v1::GetOfficeHours& req) const {
  auto oh = visible_office_hours(store_, actor, req.mentor_id());
  if (!oh) return oh.status();
  v1::GetOfficeHoursResult result;
  *result.mutable_office_hours() = std::move(*oh);
  return result;
}

Result<v1::ListSlotsResult> OfficeHoursService::list_slots(const v1::User& actor,
                                                           const v1::ListSlots& req) const {
  if (req.to_ms() <= req.from_ms()) {
    return invalid_argument("The range ends before it starts; set to_ms after from_ms.", "to_ms");
  }
  if (req.to_ms() - req.from_ms() > kMaxSlotListDays * kDayMsHere) {
    return invalid_argument("Ask for at most 42 days of slots at once.", "to_ms");
  }
  auto oh = visible_office_hours(store_, actor, req.mentor_id());
  if (!oh) return oh.status();
  v1::ListSlotsResult result;
  result.set_time_zone(oh->time_zone());
  if (!oh->enabled()) return result;
  const int64_t now = clock_.now_ms();
  const int64_t lo =
      std::max({req.from_ms(), now + 1, now + static_cast<int64_t>(oh->min_notice_minutes()) * kMinuteMs,
                kEarliestMeetingMs});
  const int64_t hi = std::min(req.to_ms(), now + static_cast<int64_t>(oh->horizon_days()) * kDayMsHere);
  if (lo >= hi) return result;
  auto slots = expand_slots(*oh, lo, hi);
  if (!slots) return slots.status();
  if (slots->empty()) return result;
  const uint64_t mentor_id = req.mentor_id();
  const int64_t last_end = slots->back().end_ms;

  // The mentor's accepted meetings: one range of user_busy, from the mirror.
  // The bookings of a slot share one entry (meeting id 0) that says how many
  // there are: the seats taken (the same count as slot_bookings for a slot
  // that has not started, which is all ListSlots shows).
  auto busy = busy_.entries(mentor_id, slots->front().start_ms - kMaxMeetingMs, last_end);
  if (!busy) return busy.status();

  // A Slot's encoded size at most (two int64 and two uint32 varints with
  // their tags) plus its own tag and length: a bound without sizing each.
  constexpr size_t kMaxSlotBytes = 2 * (1 + 10) + 2 * (1 + 5) + 2;
  size_t first_busy = 0;  // busy: first that may still overlap
  size_t bytes = 0;
  for (const SlotTime& s : *slots) {
    while (first_busy < busy->size() && (*busy)[first_busy].start_ms + kMaxMeetingMs <= s.start_ms) {
      ++first_busy;
    }
    uint64_t taken = 0;
    bool clash = false;
    for (size_t i = first_busy; i < busy->size() && (*busy)[i].start_ms < s.end_ms; ++i) {
      const BusyEntry& e = (*busy)[i];
      // The slot's own bookings (other seats of this very slot) are not a clash.
      if (e.meeting_id == 0 && e.start_ms == s.start_ms) {
        taken = e.holders;
        continue;
      }
      if (e.end_ms <= s.start_ms) continue;
      clash = true;
      break;
    }
    if (taken >= oh->seats()) continue;
    if (clash) continue;
    auto* slot = result.add_slots();
    slot->set_start_ms(s.start_ms);
    slot->set_end_ms(s.end_ms);
    slot->set_seats(oh->seats());
    slot->set_seats_left(static_cast<uint32_t>(oh->seats() - taken));
    bytes += kMaxSlotBytes;
    // 42 days of 10-minute slots stay far below a page; the bound is a guard.
    if (bytes > kMaxPageBytes) break;
  }
  return result;
}

void OfficeHoursService::book(const v1::User& actor, const v1::BookSlot& req, Done<v1::Meeting> done) {
  if (!valid_utf8(req.agenda()))
    return done(invalid_argument("The agenda is not valid UTF-8 text.", "agenda"));
  if (req.agenda().size() > kMaxAgendaBytes) {
    return done(invalid_argument("The agenda may be at most 4000 bytes.", "agenda"));
  }
  const v1::User mentee = actor;
  const v1::BookSlot request = req;
  commit_with_result<v1::Meeting>(
      committer_,
      [mentee, request](storage::CommitContext& ctx, v1::Meeting& out) -> Status {
        const uint64_t mentor_id = request.mentor_id();
        uint64_t mentorship_id = 0;
        auto oh = visible_office_hours(ctx, mentee, mentor_id, &mentorship_id);
        if (!oh) return oh.status();
        if (!oh->enabled()) return no_office_hours(mentor_id);
        const int64_t start = request.start_ms();
        auto slot = find_slot(*oh, start);
        if (!slot) return slot.status();
        if (!slot->has_value() || start < kEarliestMeetingMs) {
          return not_found("No such slot: " + std::to_string(start) +
                               " is not the start of a slot of these office hours (ListSlots shows them).",
                           "start_ms");
        }
        const int64_t now = ctx.now_ms();
        if (start <= now) return failed_precondition("This slot has already started; choose a later one.");
        if (start < now + static_cast<int64_t>(oh->min_notice_minutes()) * kMinuteMs) {
          return failed_precondition("This slot is too soon: it must be booked at least " +
                                     std::to_string(oh->min_notice_minutes()) + " minutes before it starts.");
        }
        if (start >= now + static_cast<int64_t>(oh->horizon_days()) * kDayMsHere) {
          return failed_precondition("This slot is too far ahead: slots open for booking " +
                                     std::to_string(oh->horizon_days()) + " days before they start.");
        }
        // One seat per mentee: any office-hours booking of theirs with this mentor at this start.
        std::vector<uint64_t> same_start;
        auto scanned = ctx.scan(
            Cf::kUserBusy,
            {.begin = user_busy_key(mentee.id(), start, 0), .end = user_busy_key(mentee.id(), start + 1, 0)},
            [&](std::string_view k, std::string_view) {
              if (auto key = keys::UserMeeting::decode(k)) same_start.push_back(key->meeting_id);
              return true;
            });
        if (!scanned) return scanned.status();
        for (uint64_t id : same_start) {
          auto m = load_meeting(ctx, id);
          if (!m) return m.status();
          if (m->has_value() && (*m)->meeting().office_hours() && (*m)->meeting().mentor_id() == mentor_id) {
            return already_exists("You have already booked this slot (meeting " + std::to_string(id) + ").",
                                  "start_ms");
          }
        }
        const std::string key = slot_key(mentor_id, start);
        auto raw = ctx.get(Cf::kSlotBookings, key);
        if (!raw) return raw.status();
        const uint64_t taken = raw->has_value() ? storage::decode_u64(**raw).value_or(0) : 0;
        if (taken >= oh->seats()) {
          return failed_precondition("This slot is full: all " + std::to_string(oh->seats()) +
                                     (oh->seats() == 1 ? " seat is" : " seats are") +
                                     " booked; choose another slot.");
        }
        const int64_t end = (*slot)->end_ms;
        PRECEPTOR_RETURN_IF_ERROR(check_free(ctx, mentee.id(), start, end, 0, "You"));
        auto mentor = user_in(ctx, mentor_id);
        if (!mentor) return mentor.status();
        const std::string who = mentor->display_name().empty() ? "Your mentor" : mentor->display_name();
        PRECEPTOR_RETURN_IF_ERROR(check_free(ctx, mentor_id, start, end, 0, who, start));

        v1::MeetingRecord rec;
        v1::Meeting* m = rec.mutable_meeting();
        m->set_id(ctx.next_id("meeting"));
        m->set_mentorship_id(mentorship_id);
        m->set_mentor_id(mentor_id);
        m->set_mentee_id(mentee.id());
        m->set_state(v1::MEETING_STATE_ACCEPTED);
        m->set_start_ms(start);
        m->set_duration_minutes(oh->slot_minutes());
        m->set_time_zone(oh->time_zone());
        m->set_agenda(request.agenda());
        *m->mutable_where() = oh->where();
        m->set_proposed_by(mentee.id());
        m->set_revision(1);
        m->set_changed_by(mentee.id());
        m->set_office_hours(true);
        m->set_seats(oh->seats());
        m->set_created_ms(now);
        m->set_updated_ms(now);
        PRECEPTOR_RETURN_IF_ERROR(store_meeting(ctx, nullptr, rec));
        ctx.put(Cf::kSlotBookings, key, storage::encode_u64(taken + 1));
        emit_meeting_changed(ctx, v1::MEETING_CHANGE_BOOKED, rec.meeting(), mentee.id());
        out = rec.meeting();
        return Status::ok();
      },
      std::move(done));
}

void OfficeHoursService::join_queue(const v1::User& actor, const v1::JoinQueue& req,
                                    Done<v1::QueueEntry> done) {
  const v1::User mentee = actor;
  const uint64_t mentor_id = req.mentor_id();
  commit_with_result<v1::QueueEntry>(
      committer_,
      [mentee, mentor_id](storage::CommitContext& ctx, v1::QueueEntry& out) -> Status {
        auto oh = visible_office_hours(ctx, mentee, mentor_id);
        if (!oh) return oh.status();
        auto line = load_line(ctx, mentor_id);
        if (!line) return line.status();
        if (!line->open) {
          return failed_precondition(
              "These office hours are not open now; the queue opens with them (GetOfficeHours shows when).");
        }
        if (place_of(line->rec, mentee.id()) != 0) {
          return already_exists("You are already waiting in this queue, at place " +
                                    std::to_string(place_of(line->rec, mentee.id())) + ".",
                                "mentor_id");
        }
        if (static_cast<size_t>(line->rec.waiting_size()) >= kMaxQueueWaiting) {
          return resource_exhausted("The queue is full (50 waiting); try again later or book a slot.",
                                    60'000);
        }
        auto* w = line->rec.add_waiting();
        w->set_mentee_id(mentee.id());
        w->set_joined_ms(ctx.now_ms());
        PRECEPTOR_RETURN_IF_ERROR(finish_line(ctx, *line, mentee.id(), v1::QUEUE_STATE_WAITING));
        out.set_mentee_id(mentee.id());
        out.set_place(static_cast<uint32_t>(line->rec.waiting_size()));
        out.set_joined_ms(ctx.now_ms());
        return Status::ok();
      },
      std::move(done));
}

void OfficeHoursService::leave_queue(const v1::User& actor, const v1::LeaveQueue& req,
                                     Done<v1::LeaveQueueResult> done) {
  const uint64_t mentee_id = actor.id();
  const uint64_t mentor_id = req.mentor_id();
  commit_with_result<v1::LeaveQueueResult>(
      committer_,
      [mentee_id, mentor_id](storage::CommitContext& ctx, v1::LeaveQueueResult&) -> Status {
        auto line = load_line(ctx, mentor_id);
        if (!line) return line.status();
        const bool closed_on_them = std::any_of(line->left_line.begin(), line->left_line.end(),
                                                [&](const auto& e) { return e.first == mentee_id; });
        const int place = place_of(line->rec, mentee_id);
        if (place == 0) {
          if (closed_on_them) return close_only(ctx, *line);  // the line had already closed: they are out
          return not_found("You are not waiting in the queue of user " + std::to_string(mentor_id) + ".",
                           "mentor_id");
        }
        line->rec.mutable_waiting()->erase(line->rec.mutable_waiting()->begin() + (place - 1));
        line->left_line.emplace_back(mentee_id, v1::QUEUE_STATE_LEFT);
        return finish_line(ctx, *line, mentee_id, v1::QUEUE_STATE_LEFT);
      },
      std::move(done));
}

void OfficeHoursService::call_next(const v1::User& actor, Done<v1::QueueEntry> done) {
  const uint64_t mentor_id = actor.id();
  commit_with_result<v1::QueueEntry>(
      committer_,
      [mentor_id](storage::CommitContext& ctx, v1::QueueEntry& out) -> Status {
        auto line = load_line(ctx, mentor_id);
        if (!line) return line.status();
        if (line->rec.waiting_size() == 0) return close_only(ctx, *line);  // nobody (left) waiting
        const v1::QueueRecord::Waiting first = line->rec.waiting(0);
        line->rec.mutable_waiting()->erase(line->rec.mutable_waiting()->begin());
        line->rec.set_called_mentee_id(first.mentee_id());
        line->rec.set_called_ms(ctx.now_ms());
        line->left_line.emplace_back(first.mentee_id(), v1::QUEUE_STATE_CALLED);
        PRECEPTOR_RETURN_IF_ERROR(finish_line(ctx, *line, first.mentee_id(), v1::QUEUE_STATE_CALLED));
        out.set_mentee_id(first.mentee_id());
        out.set_place(1);
        out.set_joined_ms(first.joined_ms());
        auto user = user_in(ctx, first.mentee_id());
        if (!user) return user.status();
        *out.mutable_mentee() = std::move(*user);
        return Status::ok();
      },
      std::move(done));
}

void OfficeHoursService::skip(const v1::User& actor, const v1::SkipInQueue& req,
                              Done<v1::SkipInQueueResult> done) {
  const uint64_t mentor_id = actor.id();
  const uint64_t mentee_id = req.mentee_id();
  commit_with_result<v1::SkipInQueueResult>(
      committer_,
      [mentor_id, mentee_id](storage::CommitContext& ctx, v1::SkipInQueueResult&) -> Status {
        auto line = load_line(ctx, mentor_id);
        if (!line) return line.status();
        const int place = place_of(line->rec, mentee_id);
        if (place == 0) {
          return not_found("Nobody with id " + std::to_string(mentee_id) + " is waiting in your queue.",
                           "mentee_id");
        }
        line->rec.mutable_waiting()->erase(line->rec.mutable_waiting()->begin() + (place - 1));
        line->left_line.emplace_back(mentee_id, v1::QUEUE_STATE_SKIPPED);
        return finish_line(ctx, *line, mentee_id, v1::QUEUE_STATE_SKIPPED);
      },
      std::move(done));
}

Result<v1::GetQueueResult> OfficeHoursService::get_queue(const v1::User& actor,
                                                         const v1::GetQueue& req) const {
  const bool own = req.mentor_id() == actor.id() || (req.mentor_id() == 0 && actor.role() == v1::ROLE_MENTOR);
  const uint64_t mentor_id = own ? actor.id() : req.mentor_id();
  auto oh = visible_office_hours(store_, actor, mentor_id);
  if (!oh) {
    if (own && oh.status().code() == v1::ERROR_CODE_NOT_FOUND) return v1::GetQueueResult();  // no hours yet
    return oh.status();
  }
  v1::GetQueueResult result;
  std::optional<OpenWindow> open;
  if (oh->enabled()) {
    auto w = open_window_at(*oh, clock_.now_ms());
    if (!w) return w.status();
    open = *w;
  }
  result.set_open(open.has_value());
  auto rec = load<v1::QueueRecord>(store_, Cf::kQueues, mentor_key(mentor_id));
  if (!rec) return rec.status();
  if (!rec->has_value()) return result;
  uint32_t place = 0;
  for (const auto& w : (*rec)->waiting()) {
    if (stale(w, open)) continue;  // the line closed on them (timed work tells them)
    ++place;
    if (!own && w.mentee_id() != actor.id()) continue;
    auto* entry = result.add_entries();
    entry->set_mentee_id(w.mentee_id());
    entry->set_place(place);
    entry->set_joined_ms(w.joined_ms());
    if (own) {
      auto user = accounts_.get_user(w.mentee_id());
      if (user) *entry->mutable_mentee() = std::move(*user);
    }
  }
  return result;
}

size_t OfficeHoursService::run_timed_work() {
  const int64_t now = clock_.now_ms();
  std::vector<uint64_t> due;
  auto scanned = store_.scan(Cf::kQueues, {}, [&](std::string_view k, std::string_view v) {
    auto key = keys::MentorKey::decode(k);
    v1::QueueRecord rec;
    if (!key || !rec.ParseFromArray(v.data(), static_cast<int>(v.size())) || rec.waiting_size() == 0)
      return true;
    auto oh = load<v1::OfficeHoursRecord>(store_, Cf::kOfficeHours, mentor_key(key->mentor_id));
    std::optional<OpenWindow> open;
    if (oh && oh->has_value() && (*oh)->office_hours().enabled()) {
      auto w = open_window_at((*oh)->office_hours(), now);
      if (w) open = *w;
    }
    if (std::any_of(rec.waiting().begin(), rec.waiting().end(),
                    [&](const auto& w) { return stale(w, open); })) {
      due.push_back(key->mentor_id);
    }
    return true;
  });
  if (!scanned || due.empty()) return 0;
  std::latch finished(static_cast<std::ptrdiff_t>(due.size()));
  for (uint64_t mentor_id : due) {
    committer_.submit(
        [mentor_id](storage::CommitContext& ctx) -> Status {
          auto line = load_line(ctx, mentor_id);
          if (!line) return line.status();
          return close_only(ctx, *line);
        },
        [&finished](const Status&) { finished.count_down(); });
  }
  finished.wait();
  return due.size();
}

}  // namespace preceptor::services
