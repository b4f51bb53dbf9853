#include "server/services/goals.h"

#include <algorithm>
#include <condition_variable>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "server/services/meeting_book.h"
#include "server/services/record_io.h"
#include "server/services/reminders.h"
#include "server/services/slots.h"
#include "server/services/text_checks.h"
#include "server/services/work_book.h"
#include "storage/keys.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

// ---- keys ----

std::string goal_key(uint64_t goal_id) { return keys::IdKey{.id = goal_id}.encode(); }

std::string mentorship_goal_key(uint64_t mentorship_id, uint64_t goal_id) {
  return keys::PairKey{.parent = mentorship_id, .child = goal_id}.encode();
}

std::string history_key(uint64_t goal_id, uint64_t seq) {
  return keys::PairKey{.parent = goal_id, .child = seq}.encode();
}

std::string reassessment_key(uint64_t mentorship_id, uint64_t reassessment_id) {
  return keys::PairKey{.parent = mentorship_id, .child = reassessment_id}.encode();
}

std::string due_key(int64_t due_ms, uint64_t mentorship_id) {
  return keys::WorkDue{.due_ms = static_cast<uint64_t>(std::max<int64_t>(0, due_ms)),
                       .kind = keys::WorkDue::kReassessment,
                       .id = mentorship_id}
      .encode();
}

std::string mentorship_key(uint64_t mentorship_id) {
  return keys::Mentorship{.mentorship_id = mentorship_id}.encode();
}

// ---- checks of what a person typed ----

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// Free text (several lines allowed): valid UTF-8, at most `max` bytes; when
// `required`, not only white space.
Status check_long_text(std::string_view value, size_t max, const std::string& field, const std::string& what,
                       bool required) {
  if (!valid_utf8(value)) return invalid_argument("The " + what + " is not valid UTF-8 text.", field);
  if (value.size() > max) {
    return invalid_argument("The " + what + " may be at most " + std::to_string(max) +
                                " bytes; this one has " + std::to_string(value.size()) + ".",
                            field);
  }
  if (required && blank(value)) return invalid_argument("The " + what + " is missing.", field);
  return Status::ok();
}

Status check_purpose(uint32_t purpose, const std::string& field) {
  if (purpose == v1::PURPOSE_UNSPECIFIED ||
      (purpose >= v1::PURPOSE_CLINICAL_SKILLS && purpose <= v1::PURPOSE_OTHER))
    return Status::ok();
  return invalid_argument(
      "Unknown purpose; leave it at 0 for none, or choose clinical skills, career, research, "
      "wellbeing or other.",
      field);
}

// The texts of a goal as a person gives them (AddGoal, EditGoal, a new goal
// of a reassessment): `prefix` names the request's fields ("" or "new_goals[2].").
Status check_goal_fields(std::string_view what, std::string_view measure, std::string_view target_date,
                         uint32_t purpose, const std::string& prefix) {
  PRECEPTOR_RETURN_IF_ERROR(check_long_text(what, kMaxGoalWhatBytes, prefix + "what", "goal", true));
  PRECEPTOR_RETURN_IF_ERROR(
      check_long_text(measure, kMaxGoalMeasureBytes, prefix + "measure", "measure", false));
  PRECEPTOR_RETURN_IF_ERROR(check_calendar_date(target_date, prefix + "target_date", true));
  return check_purpose(purpose, prefix + "purpose");
}

int64_t today_utc(int64_t now_ms) {
  return now_ms >= 0 ? now_ms / kDayMs : -((-now_ms + kDayMs - 1) / kDayMs);
}

// A target date a person sets now may not be before today (UTC). REQUIRES:
// `date` passed check_calendar_date.
Status check_not_past(std::string_view date, const std::string& field, int64_t now_ms) {
  if (date.empty()) return Status::ok();
  const auto day = parse_local_date(date);
  if (day && *day < today_utc(now_ms)) {
    return invalid_argument("The target date " + std::string(date) +
                                " has passed; choose today or a later day (UTC), or leave it empty.",
                            field);
  }
  return Status::ok();
}

std::string state_words(v1::GoalState s) {
  switch (s) {
    case v1::GOAL_STATE_OPEN:
      return "is open";
    case v1::GOAL_STATE_DONE:
      return "is done";
    case v1::GOAL_STATE_DROPPED:
      return "was dropped";
    default:
      return "is in an unknown state";
  }
}

// ---- the goal, its history, its counts ----

struct MemberGoal {
  v1::GoalRecord rec;
  Membership::Member member;
};

// NOT_FOUND answers about a goal say "goal", whatever made them (no such
// goal, or a mentorship the actor is not in).
Status goal_not_found(uint64_t goal_id) {
  return not_found("No goal " + std::to_string(goal_id) + " among yours.", "goal_id");
}

Result<MemberGoal> goal_for_member(storage::CommitContext& ctx, const v1::User& actor, uint64_t goal_id,
                                   bool need_active) {
  auto rec = load<v1::GoalRecord>(ctx, Cf::kGoals, goal_key(goal_id));
  if (!rec) return rec.status();
  const uint64_t mentorship_id = rec->has_value() ? (*rec)->goal().mentorship_id() : 0;
  auto member = work_member(ctx, actor, mentorship_id, need_active);
  if (!member) {
    if (member.status().code() == v1::ERROR_CODE_NOT_FOUND) return goal_not_found(goal_id);
    return member.status();
  }
  return MemberGoal{std::move(**rec), *member};
}

std::vector<uint64_t> both(const Membership::Member& me, uint64_t actor_id) {
  return me.role == Membership::Role::kMentor ? std::vector<uint64_t>{actor_id, me.counterpart_id}
                                              : std::vector<uint64_t>{me.counterpart_id, actor_id};
}

// RESOURCE_EXHAUSTED when the goal's history is full. Notes and edits stop
// kGoalHistoryReserve entries early, so a goal full of notes can still be
// closed, reopened and reassessed.
Status check_history_room(const v1::GoalRecord& rec, bool note_or_edit) {
  const uint32_t limit = note_or_edit ? kMaxGoalHistory - kGoalHistoryReserve : kMaxGoalHistory;
  if (rec.history_count() < limit) return Status::ok();
  return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                "Goal " + std::to_string(rec.goal().id()) + " has " + std::to_string(rec.history_count()) +
                    " changes in its history, the most it keeps" +
                    (note_or_edit ? " for notes and edits; it can still be closed, reopened and reassessed."
                                  : "; add a new goal to go on."),
                "goal_id");
}

// The end of every change of one goal: the caller changed `rec.goal`; this
// gives it its next revision, stores it with one history entry, and sends
// GoalChanged to both members. Returns the entry.
v1::GoalHistoryEntry record_change(storage::CommitContext& ctx, v1::GoalRecord& rec, const v1::Goal* before,
                                   v1::GoalChangeKind kind, uint64_t actor_id, const std::string& note,
                                   uint64_t reassessment_id, const std::vector<uint64_t>& audience) {
  v1::Goal& g = *rec.mutable_goal();
  if (before) g.set_revision(before->revision() + 1);
  g.set_updated_ms(ctx.now_ms());
  rec.set_history_count(rec.history_count() + 1);
  v1::GoalHistoryEntry entry;
  entry.set_goal_id(g.id());
  entry.set_seq(rec.history_count());
  entry.set_kind(kind);
  entry.set_actor_id(actor_id);
  entry.set_at_ms(ctx.now_ms());
  if (before && kind != v1::GOAL_CHANGE_KIND_NOTE) *entry.mutable_before() = *before;
  *entry.mutable_after() = g;
  entry.set_note(note);
  entry.set_reassessment_id(reassessment_id);
  save(ctx, Cf::kGoalHistory, history_key(g.id(), entry.seq()), entry);
  save(ctx, Cf::kGoals, goal_key(g.id()), rec);
  v1::Event e;
  *e.mutable_goal_changed()->mutable_goal() = g;
  *e.mutable_goal_changed()->mutable_entry() = entry;
  ctx.append_event(std::move(e), audience);
  return entry;
}

uint32_t less_one(uint32_t n) { return n > 0 ? n - 1 : 0; }

// Moves the open/done counts for a goal going from `from` to `to`
// (UNSPECIFIED: a new goal, which the caller adds to goals_total).
void count_state(v1::MentorshipWorkRecord& work, v1::GoalState from, v1::GoalState to) {
  if (from == to) return;
  if (from == v1::GOAL_STATE_OPEN) work.set_goals_open(less_one(work.goals_open()));
  if (from == v1::GOAL_STATE_DONE) work.set_goals_done(less_one(work.goals_done()));
  if (to == v1::GOAL_STATE_OPEN) work.set_goals_open(work.goals_open() + 1);
  if (to == v1::GOAL_STATE_DONE) work.set_goals_done(work.goals_done() + 1);
}

Status open_goals_full(uint32_t open_after) {
  return resource_exhausted("A mentorship keeps at most " + std::to_string(kMaxOpenGoals) +
                                " open goals; this would make " + std::to_string(open_after) +
                                ". Mark some done or drop them first.",
                            0);
}

Status goals_full(uint32_t total_after) {
  return resource_exhausted("A mentorship keeps at most " + std::to_string(kMaxGoals) +
                                " goals in all (done and dropped ones too); this would make " +
                                std::to_string(total_after) + ".",
                            0);
}

// A new OPEN goal (revision 1) with its ADDED entry, its index entry and
// GoalChanged; the caller counts it and checks the limits.
v1::Goal create_goal(storage::CommitContext& ctx, uint64_t mentorship_id, uint64_t actor_id,
                     const v1::NewGoal& fields, uint64_t reassessment_id,
                     const std::vector<uint64_t>& audience) {
  v1::GoalRecord rec;
  v1::Goal& g = *rec.mutable_goal();
  g.set_id(ctx.next_id("goal"));
  g.set_mentorship_id(mentorship_id);
  g.set_what(fields.what());
  g.set_measure(fields.measure());
  g.set_target_date(fields.target_date());
  g.set_purpose(fields.purpose());
  g.set_state(v1::GOAL_STATE_OPEN);
  g.set_created_by(actor_id);
  g.set_revision(1);
  g.set_created_ms(ctx.now_ms());
  ctx.put(Cf::kMentorshipGoals, mentorship_goal_key(mentorship_id, g.id()), "");
  record_change(ctx, rec, nullptr, v1::GOAL_CHANGE_KIND_ADDED, actor_id, "", reassessment_id, audience);
  return rec.goal();
}

// ---- the reassessment schedule ----

uint32_t reassess_weeks(const v1::Mentorship& m) {
  const uint32_t weeks = m.has_agreement() ? m.agreement().reassess_weeks() : 0;
  if (weeks < kMinReassessWeeks || weeks > kMaxReassessWeeks) return kDefaultReassessWeeks;
  return weeks;
}

int64_t period_ms(const v1::Mentorship& m) { return static_cast<int64_t>(reassess_weeks(m)) * kWeekMs; }

// Periods count from the last reassessment, or else from the start.
int64_t period_base(const v1::Mentorship& m, const v1::MentorshipWorkRecord& work) {
  return work.last_reassessment_ms() > 0 ? work.last_reassessment_ms()
                                         : std::max<int64_t>(0, m.started_at_ms());
}

// The first end of a period after `now_ms`.
int64_t next_period_end(int64_t base, int64_t period, int64_t now_ms) {
  if (now_ms < base) return base + period;
  return base + ((now_ms - base) / period + 1) * period;
}

// Moves the mentorship's work_due entry to `due_ms` (0: none) and records it.
void move_due_entry(storage::CommitContext& ctx, uint64_t mentorship_id, v1::MentorshipWorkRecord& work,
                    int64_t due_ms) {
  if (work.next_reassessment_ms() == due_ms) return;
  if (work.next_reassessment_ms() != 0)
    ctx.del(Cf::kWorkDue, due_key(work.next_reassessment_ms(), mentorship_id));
  if (due_ms != 0) ctx.put(Cf::kWorkDue, due_key(due_ms, mentorship_id), "");
  work.set_next_reassessment_ms(due_ms);
}

// plan_reassessment on a work record the caller saves; true when it changed.
bool plan(storage::CommitContext& ctx, const v1::Mentorship& m, v1::MentorshipWorkRecord& work) {
  const int64_t before = work.next_reassessment_ms();
  if (m.state() != v1::MENTORSHIP_STATE_ACTIVE) {
    move_due_entry(ctx, m.id(), work, 0);
  } else if (before == 0 || before > ctx.now_ms()) {
    move_due_entry(ctx, m.id(), work, next_period_end(period_base(m, work), period_ms(m), ctx.now_ms()));
  }
  return work.next_reassessment_ms() != before;
}

Result<std::optional<v1::MentorshipRecord>> load_mentorship(storage::CommitContext& ctx, uint64_t id) {
  return load<v1::MentorshipRecord>(ctx, Cf::kMentorships, mentorship_key(id));
}

// A store written before "time to reassess" existed has active mentorships
// without a schedule: the first change of their goals plans it.
Status plan_if_unplanned(storage::CommitContext& ctx, uint64_t mentorship_id,
                         v1::MentorshipWorkRecord& work) {
  if (work.next_reassessment_ms() != 0) return Status::ok();
  auto m = load_mentorship(ctx, mentorship_id);
  if (!m) return m.status();
  if (m->has_value()) plan(ctx, (*m)->mentorship(), work);
  return Status::ok();
}

// When the server's nudges to `users` wait for quiet hours: the end of the
// last of their quiet hours around `now_ms`, or nullopt when none is quiet.
// Never later than a day after `due_ms` (two members' quiet hours could
// otherwise cover every hour), as for the other nudges.
Result<std::optional<int64_t>> quiet_until(storage::CommitContext& ctx, std::initializer_list<uint64_t> users,
                                           int64_t now_ms, int64_t due_ms) {
  std::optional<int64_t> until;
  for (uint64_t user : users) {
    auto prefs = load_preferences(ctx, user);
    if (!prefs) return prefs.status();
    if (!prefs->has_value() || !(*prefs)->set()) continue;
    if (auto end = quiet_hours_end((*prefs)->preferences().quiet_hours(), now_ms)) {
      until = std::max(until.value_or(0), *end);
    }
  }
  if (until && *until > due_ms + kDayMs) return std::optional<int64_t>();
  return until;
}

// Handles one due "time to reassess" entry, on the committer thread.
Status deliver_due(storage::CommitContext& ctx, const keys::WorkDue& entry) {
  const std::string key = entry.encode();
  auto still = ctx.get(Cf::kWorkDue, key);
  if (!still) return still.status();
  if (!still->has_value()) return Status::ok();  // handled already (an earlier pass)
  auto loaded_work = load_work(ctx, entry.id);
  if (!loaded_work) return loaded_work.status();
  v1::MentorshipWorkRecord work = std::move(*loaded_work);
  if (static_cast<uint64_t>(work.next_reassessment_ms()) != entry.due_ms) {
    ctx.del(Cf::kWorkDue, key);  // left behind by a move: the record names the live one
    return Status::ok();
  }
  auto m_rec = load_mentorship(ctx, entry.id);
  if (!m_rec) return m_rec.status();
  if (!m_rec->has_value() || (*m_rec)->mentorship().state() != v1::MENTORSHIP_STATE_ACTIVE) {
    move_due_entry(ctx, entry.id, work, 0);  // never for a mentorship no longer active
    save_work(ctx, entry.id, work);
    return Status::ok();
  }
  const v1::Mentorship& m = (*m_rec)->mentorship();
  const int64_t now = ctx.now_ms();
  const int64_t base = period_base(m, work);
  const int64_t period = period_ms(m);
  // The end of the period this entry stands for: the last one by now (a
  // server down for several periods sends one, not one per period missed).
  // A held entry's due time is when the quiet hours ended; the period's end
  // is on the grid before it (a hold lasts at most a day, a period weeks).
  int64_t due = std::min<int64_t>(static_cast<int64_t>(entry.due_ms), now);
  if (now >= base + period) due = base + ((now - base) / period) * period;
  auto quiet = quiet_until(ctx, {m.mentor_id(), m.mentee_id()}, now, due);
  if (!quiet) return quiet.status();
  if (*quiet) {  // held until both members' quiet hours end
    move_due_entry(ctx, entry.id, work, **quiet);
    save_work(ctx, entry.id, work);
    return Status::ok();
  }
  v1::Event e;
  auto* due_event = e.mutable_reassessment_due();
  due_event->set_mentorship_id(m.id());
  due_event->set_due_ms(due);
  due_event->set_last_reassessment_ms(work.last_reassessment_ms());
  due_event->set_open_goals(work.goals_open());
  ctx.append_event(std::move(e), {m.mentor_id(), m.mentee_id()});
  move_due_entry(ctx, entry.id, work, next_period_end(base, period, now));
  save_work(ctx, entry.id, work);
  return Status::ok();
}

// ---- reading ----

// Reads a member's goal outside the committer (see goal_for_member).
Result<v1::GoalRecord> read_goal_for_member(const storage::Store& store, const Membership& membership,
                                            const v1::User& actor, uint64_t goal_id) {
  auto rec = load<v1::GoalRecord>(store, Cf::kGoals, goal_key(goal_id));
  if (!rec) return rec.status();
  const uint64_t mentorship_id = rec->has_value() ? (*rec)->goal().mentorship_id() : 0;
  auto member = work_member(membership, actor, mentorship_id, false);
  if (!member) {
    if (member.status().code() == v1::ERROR_CODE_NOT_FOUND) return goal_not_found(goal_id);
    return member.status();
  }
  return std::move(**rec);
}

// The newest at most `need` reassessments of `mentorship_id` with ids in
// [lo, hi), appended to `out` oldest first. Ids are global (sparse within
// one mentorship) and scans run forward only, so the range is halved from
// the top: each step scans at most need + 1 entries, and there are at most
// 64 steps, however many older reassessments there are. `known_more`: the
// range is known to hold more than `need`.
Status newest_reassessments(const storage::Store& store, uint64_t mentorship_id, uint64_t lo, uint64_t hi,
                            size_t need, bool known_more, std::vector<std::string>& out) {
  if (need == 0 || lo >= hi) return Status::ok();
  if (!known_more) {
    std::vector<std::string> found;
    const std::string begin = reassessment_key(mentorship_id, lo);
    const std::string end = reassessment_key(mentorship_id, hi);
    auto scanned = store.scan(Cf::kReassessments, {.begin = begin, .end = end},
                              [&](std::string_view, std::string_view value) {
                                found.emplace_back(value);
                                return true;
                              },
                              {.max_entries = need + 1});
    if (!scanned) return scanned.status();
    if (found.size() <= need) {
      for (auto& v : found) out.push_back(std::move(v));
      return Status::ok();
    }
  }
  const uint64_t mid = lo + (hi - lo) / 2;
  std::vector<std::string> upper;
  PRECEPTOR_RETURN_IF_ERROR(newest_reassessments(store, mentorship_id, mid, hi, need, false, upper));
  // The rest of the more-than-`need` entries lie below `mid`.
  if (upper.size() < need) {
    PRECEPTOR_RETURN_IF_ERROR(
        newest_reassessments(store, mentorship_id, lo, mid, need - upper.size(), true, out));
  }
  for (auto& v : upper) out.push_back(std::move(v));
  return Status::ok();
}

}  // namespace

// ---- hooks ----

Status check_reassess_weeks(uint32_t weeks, std::string_view field) {
  if (weeks == 0 || (weeks >= kMinReassessWeeks && weeks <= kMaxReassessWeeks)) return Status::ok();
  return invalid_argument("Reassess every " + std::to_string(kMinReassessWeeks) + " to " +
                              std::to_string(kMaxReassessWeeks) + " weeks, or give 0 for the default (" +
                              std::to_string(kDefaultReassessWeeks) + "); " + std::to_string(weeks) +
                              " is outside that.",
                          std::string(field));
}

Status plan_reassessment(storage::CommitContext& ctx, const v1::Mentorship* before,
                         const v1::Mentorship& after) {
  const bool active = after.state() == v1::MENTORSHIP_STATE_ACTIVE;
  const bool was_active = before && before->state() == v1::MENTORSHIP_STATE_ACTIVE;
  if (active && was_active && reassess_weeks(*before) == reassess_weeks(after)) return Status::ok();
  auto work = load_work(ctx, after.id());
  if (!work) return work.status();
  if (plan(ctx, after, *work)) save_work(ctx, after.id(), *work);
  return Status::ok();
}

Status plan_reassessment_if_unplanned(storage::CommitContext& ctx, uint64_t mentorship_id) {
  auto work = load_work(ctx, mentorship_id);
  if (!work) return work.status();
  if (work->next_reassessment_ms() != 0) return Status::ok();
  auto m = load_mentorship(ctx, mentorship_id);
  if (!m) return m.status();
  if (!m->has_value() || (*m)->mentorship().state() != v1::MENTORSHIP_STATE_ACTIVE) return Status::ok();
  const v1::Mentorship& mentorship = (*m)->mentorship();
  // Active for a period or more already: the last period's end, so the
  // next pass says it at once; otherwise the end of the first period.
  const int64_t base = period_base(mentorship, *work);
  const int64_t period = period_ms(mentorship);
  const int64_t now = ctx.now_ms();
  const int64_t passed = now > base ? (now - base) / period : 0;
  move_due_entry(ctx, mentorship_id, *work, base + std::max<int64_t>(passed, 1) * period);
  save_work(ctx, mentorship_id, *work);
  return Status::ok();
}

// ---- requests ----

void Goals::add(const v1::User& actor, const v1::AddGoal& req, Done<v1::Goal> done) {
  if (Status st = check_goal_fields(req.what(), req.measure(), req.target_date(), req.purpose(), ""); !st)
    return done(st);
  commit_with_result<v1::Goal>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::Goal& out) -> Status {
        auto member = work_member(ctx, actor, req.mentorship_id(), true);
        if (!member) return member.status();
        PRECEPTOR_RETURN_IF_ERROR(check_not_past(req.target_date(), "target_date", ctx.now_ms()));
        auto work = load_work(ctx, req.mentorship_id());
        if (!work) return work.status();
        if (work->goals_open() + 1 > kMaxOpenGoals) return open_goals_full(work->goals_open() + 1);
        if (work->goals_total() + 1 > kMaxGoals) return goals_full(work->goals_total() + 1);
        v1::NewGoal fields;
        fields.set_what(req.what());
        fields.set_measure(req.measure());
        fields.set_target_date(req.target_date());
        fields.set_purpose(req.purpose());
        out = create_goal(ctx, req.mentorship_id(), actor.id(), fields, 0, both(*member, actor.id()));
        work->set_goals_total(work->goals_total() + 1);
        count_state(*work, v1::GOAL_STATE_UNSPECIFIED, v1::GOAL_STATE_OPEN);
        PRECEPTOR_RETURN_IF_ERROR(plan_if_unplanned(ctx, req.mentorship_id(), *work));
        save_work(ctx, req.mentorship_id(), *work);
        return Status::ok();
      },
      std::move(done));
}

void Goals::edit(const v1::User& actor, const v1::EditGoal& req, Done<v1::Goal> done) {
  if (Status st = check_goal_fields(req.what(), req.measure(), req.target_date(), req.purpose(), ""); !st)
    return done(st);
  commit_with_result<v1::Goal>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::Goal& out) -> Status {
        auto loaded = goal_for_member(ctx, actor, req.goal_id(), true);
        if (!loaded) return loaded.status();
        v1::GoalRecord& rec = loaded->rec;
        const v1::Goal before = rec.goal();
        if (req.revision() != 0 && req.revision() != before.revision()) {
          return Status(v1::ERROR_CODE_ABORTED,
                        "The goal changed since you saw it (revision " + std::to_string(req.revision()) +
                            ", now " + std::to_string(before.revision()) +
                            "); look at it again before editing.",
                        "revision");
        }
        if (before.state() != v1::GOAL_STATE_OPEN) {
          return failed_precondition("This goal " + state_words(before.state()) +
                                     "; reopen it to edit it (progress notes are fine in any state).");
        }
        out = before;
        if (before.what() == req.what() && before.measure() == req.measure() &&
            before.target_date() == req.target_date() && before.purpose() == req.purpose()) {
          return Status::ok();  // nothing changes: no new revision, no event
        }
        // A date kept as it was may have passed; a new one may not.
        if (req.target_date() != before.target_date()) {
          PRECEPTOR_RETURN_IF_ERROR(check_not_past(req.target_date(), "target_date", ctx.now_ms()));
        }
        PRECEPTOR_RETURN_IF_ERROR(check_history_room(rec, true));
        v1::Goal& g = *rec.mutable_goal();
        g.set_what(req.what());
        g.set_measure(req.measure());
        g.set_target_date(req.target_date());
        g.set_purpose(req.purpose());
        record_change(ctx, rec, &before, v1::GOAL_CHANGE_KIND_EDITED, actor.id(), "", 0,
                      both(loaded->member, actor.id()));
        out = rec.goal();
        return Status::ok();
      },
      std::move(done));
}

void Goals::set_state(const v1::User& actor, const v1::SetGoalState& req, Done<v1::Goal> done) {
  const v1::GoalState wanted = req.state();
  if (wanted != v1::GOAL_STATE_OPEN && wanted != v1::GOAL_STATE_DONE && wanted != v1::GOAL_STATE_DROPPED) {
    return done(invalid_argument("Choose the goal's new state: open (reopen), done or dropped.", "state"));
  }
  if (wanted == v1::GOAL_STATE_DROPPED && blank(req.reason()))
    return done(invalid_argument("Say in a few words why the goal is dropped.", "reason"));
  if (Status st = check_long_text(req.reason(), kMaxGoalReasonBytes, "reason", "reason", false); !st)
    return done(st);
  if (wanted != v1::GOAL_STATE_DROPPED && !req.reason().empty()) {
    return done(invalid_argument("A reason goes with dropping a goal only; leave it empty here.", "reason"));
  }
  commit_with_result<v1::Goal>(
      committer_,
      [actor, req, wanted](storage::CommitContext& ctx, v1::Goal& out) -> Status {
        auto loaded = goal_for_member(ctx, actor, req.goal_id(), true);
        if (!loaded) return loaded.status();
        v1::GoalRecord& rec = loaded->rec;
        const v1::Goal before = rec.goal();
        const v1::GoalState from = before.state();
        const bool allowed = (from == v1::GOAL_STATE_OPEN && wanted != v1::GOAL_STATE_OPEN) ||
                             (from != v1::GOAL_STATE_OPEN && wanted == v1::GOAL_STATE_OPEN);
        if (!allowed) {
          if (from == wanted) return failed_precondition("This goal " + state_words(from) + " already.");
          return failed_precondition("This goal " + state_words(from) + "; reopen it first.");
        }
        PRECEPTOR_RETURN_IF_ERROR(check_history_room(rec, false));
        auto work = load_work(ctx, before.mentorship_id());
        if (!work) return work.status();
        if (wanted == v1::GOAL_STATE_OPEN && work->goals_open() + 1 > kMaxOpenGoals)
          return open_goals_full(work->goals_open() + 1);
        v1::Goal& g = *rec.mutable_goal();
        g.set_state(wanted);
        if (wanted == v1::GOAL_STATE_DROPPED) {
          g.set_drop_reason(req.reason());
        } else {
          g.clear_drop_reason();
        }
        const v1::GoalChangeKind kind = wanted == v1::GOAL_STATE_DONE      ? v1::GOAL_CHANGE_KIND_DONE
                                        : wanted == v1::GOAL_STATE_DROPPED ? v1::GOAL_CHANGE_KIND_DROPPED
                                                                           : v1::GOAL_CHANGE_KIND_REOPENED;
        record_change(ctx, rec, &before, kind, actor.id(), req.reason(), 0, both(loaded->member, actor.id()));
        count_state(*work, from, wanted);
        PRECEPTOR_RETURN_IF_ERROR(plan_if_unplanned(ctx, before.mentorship_id(), *work));
        save_work(ctx, before.mentorship_id(), *work);
        out = rec.goal();
        return Status::ok();
      },
      std::move(done));
}

void Goals::add_note(const v1::User& actor, const v1::AddGoalNote& req, Done<v1::AddGoalNoteResult> done) {
  if (Status st = check_long_text(req.text(), kMaxGoalNoteBytes, "text", "note", true); !st) return done(st);
  commit_with_result<v1::AddGoalNoteResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::AddGoalNoteResult& out) -> Status {
        auto loaded = goal_for_member(ctx, actor, req.goal_id(), true);
        if (!loaded) return loaded.status();
        v1::GoalRecord& rec = loaded->rec;
        PRECEPTOR_RETURN_IF_ERROR(check_history_room(rec, true));
        const v1::Goal before = rec.goal();
        rec.mutable_goal()->set_note_count(before.note_count() + 1);
        *out.mutable_entry() = record_change(ctx, rec, &before, v1::GOAL_CHANGE_KIND_NOTE, actor.id(),
                                             req.text(), 0, both(loaded->member, actor.id()));
        *out.mutable_goal() = rec.goal();
        return Status::ok();
      },
      std::move(done));
}

void Goals::reassess(const v1::User& actor, const v1::Reassess& req, Done<v1::ReassessResult> done) {
  // What can be checked without the goals: sizes, texts, kinds, dates' form.
  if (static_cast<size_t>(req.decisions_size()) > kMaxReassessDecisions) {
    return done(invalid_argument("A reassessment decides at most " + std::to_string(kMaxReassessDecisions) +
                                     " goals (as many as can be open); this one has " +
                                     std::to_string(req.decisions_size()) + ".",
                                 "decisions"));
  }
  if (static_cast<size_t>(req.new_goals_size()) > kMaxReassessNewGoals) {
    return done(invalid_argument("A reassessment adds at most " + std::to_string(kMaxReassessNewGoals) +
                                     " new goals; this one has " + std::to_string(req.new_goals_size()) + ".",
                                 "new_goals"));
  }
  if (blank(req.summary()))
    return done(invalid_argument("Sum up the reassessment in a few words.", "summary"));
  if (Status st = check_long_text(req.summary(), kMaxReassessSummaryBytes, "summary", "summary", false); !st)
    return done(st);
  for (int i = 0; i < req.decisions_size(); ++i) {
    const v1::GoalDecision& d = req.decisions(i);
    const std::string field = "decisions[" + std::to_string(i) + "]";
    const std::string goal = "goal " + std::to_string(d.goal_id());
    switch (d.decision()) {
      case v1::GOAL_DECISION_KIND_KEEP:
        if (!d.what().empty() || !d.measure().empty() || !d.target_date().empty() || !d.reason().empty()) {
          return done(invalid_argument(
              "Keeping " + goal + " changes nothing; to change its text or target, refine it instead.",
              field));
        }
        break;
      case v1::GOAL_DECISION_KIND_REFINE: {
        if (d.what().empty() && d.measure().empty() && d.target_date().empty()) {
          return done(invalid_argument(
              "Refining " + goal +
                  " needs a new text, measure or target date; to leave it as it is, keep it.",
              field));
        }
        if (!d.reason().empty())
          return done(invalid_argument("A reason goes with dropping a goal only.", field + ".reason"));
        if (!d.what().empty()) {
          if (Status st = check_long_text(d.what(), kMaxGoalWhatBytes, field + ".what", "goal", true); !st)
            return done(st);
        }
        if (Status st =
                check_long_text(d.measure(), kMaxGoalMeasureBytes, field + ".measure", "measure", false);
            !st)
          return done(st);
        if (Status st = check_calendar_date(d.target_date(), field + ".target_date", true); !st)
          return done(st);
        break;
      }
      case v1::GOAL_DECISION_KIND_DROP:
        if (!d.what().empty() || !d.measure().empty() || !d.target_date().empty()) {
          return done(invalid_argument("Dropping " + goal + " takes a reason only, no new text.", field));
        }
        if (blank(d.reason())) {
          return done(invalid_argument("Say in a few words why " + goal + " is dropped.", field + ".reason"));
        }
        if (Status st = check_long_text(d.reason(), kMaxGoalReasonBytes, field + ".reason", "reason", true);
            !st)
          return done(st);
        break;
      default:
        return done(invalid_argument("Decide " + goal + ": keep, refine or drop.", field + ".decision"));
    }
  }
  for (int i = 0; i < req.new_goals_size(); ++i) {
    const v1::NewGoal& n = req.new_goals(i);
    if (Status st = check_goal_fields(n.what(), n.measure(), n.target_date(), n.purpose(),
                                      "new_goals[" + std::to_string(i) + "].");
        !st)
      return done(st);
  }
  commit_with_result<v1::ReassessResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::ReassessResult& out) -> Status {
        const uint64_t mentorship_id = req.mentorship_id();
        auto member = work_member(ctx, actor, mentorship_id, true);
        if (!member) return member.status();
        const std::vector<uint64_t> audience = both(*member, actor.id());
        // Every goal of the mentorship (at most kMaxGoals).
        std::vector<uint64_t> ids;
        Status inner;
        auto scanned =
            ctx.scan_prefix(Cf::kMentorshipGoals, keys::PairKey::prefix(mentorship_id),
                            [&](std::string_view k, std::string_view) {
                              auto key = keys::PairKey::decode(k);
                              if (!key) {
                                inner = data_loss("A stored index entry of mentorship_goals is damaged.");
                                return false;
                              }
                              ids.push_back(key->child);
                              return true;
                            });
        if (!scanned) return scanned.status();
        if (!inner) return inner;
        std::unordered_map<uint64_t, v1::GoalRecord> goals;
        for (uint64_t id : ids) {
          auto rec = load<v1::GoalRecord>(ctx, Cf::kGoals, goal_key(id));
          if (!rec) return rec.status();
          if (rec->has_value()) goals.emplace(id, std::move(**rec));
        }
        // Each decision names an open goal of this mentorship, once.
        std::unordered_set<uint64_t> decided;
        uint32_t drops = 0;
        for (int i = 0; i < req.decisions_size(); ++i) {
          const v1::GoalDecision& d = req.decisions(i);
          const std::string field = "decisions[" + std::to_string(i) + "].goal_id";
          const std::string goal = "Goal " + std::to_string(d.goal_id());
          auto it = goals.find(d.goal_id());
          if (it == goals.end())
            return invalid_argument(goal + " is not one of this mentorship's goals.", field);
          const v1::Goal& g = it->second.goal();
          if (g.state() != v1::GOAL_STATE_OPEN) {
            return invalid_argument(goal + " " + state_words(g.state()) +
                                        "; a reassessment decides about open goals only (reopen it first).",
                                    field);
          }
          if (!decided.insert(d.goal_id()).second)
            return invalid_argument(goal + " has two decisions; give it exactly one.", field);
          if (d.decision() == v1::GOAL_DECISION_KIND_REFINE && !d.target_date().empty() &&
              d.target_date() != g.target_date()) {
            PRECEPTOR_RETURN_IF_ERROR(check_not_past(
                d.target_date(), "decisions[" + std::to_string(i) + "].target_date", ctx.now_ms()));
          }
          if (d.decision() == v1::GOAL_DECISION_KIND_DROP) ++drops;
          if (it->second.history_count() >= kMaxGoalHistory) {
            return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                          goal + " has " + std::to_string(kMaxGoalHistory) +
                              " changes in its history, the most it keeps; it cannot be reassessed.",
                          field);
          }
        }
        // ... and every open goal has one.
        std::vector<uint64_t> open;
        for (const auto& [id, rec] : goals)
          if (rec.goal().state() == v1::GOAL_STATE_OPEN) open.push_back(id);
        std::sort(open.begin(), open.end());
        for (uint64_t id : open) {
          if (!decided.count(id)) {
            return invalid_argument("Goal " + std::to_string(id) +
                                        " is open and has no decision; keep, refine or drop every open goal.",
                                    "decisions");
          }
        }
        for (int i = 0; i < req.new_goals_size(); ++i) {
          PRECEPTOR_RETURN_IF_ERROR(check_not_past(req.new_goals(i).target_date(),
                                                   "new_goals[" + std::to_string(i) + "].target_date",
                                                   ctx.now_ms()));
        }
        auto work = load_work(ctx, mentorship_id);
        if (!work) return work.status();
        const uint32_t added = static_cast<uint32_t>(req.new_goals_size());
        const uint32_t open_after = static_cast<uint32_t>(open.size()) - drops + added;
        if (open_after > kMaxOpenGoals) return open_goals_full(open_after);
        if (work->goals_total() + added > kMaxGoals) return goals_full(work->goals_total() + added);
        auto m_rec = load_mentorship(ctx, mentorship_id);
        if (!m_rec) return m_rec.status();
        if (!m_rec->has_value()) return internal_error("The mentorship's record is missing.");

        // Everything checked: every goal changes, or (above) none.
        v1::Reassessment& r = *out.mutable_reassessment();
        r.set_id(ctx.next_id("reassessment"));
        r.set_mentorship_id(mentorship_id);
        r.set_by(actor.id());
        r.set_at_ms(ctx.now_ms());
        r.set_summary(req.summary());
        for (const v1::GoalDecision& d : req.decisions()) {
          *r.add_decisions() = d;
          v1::GoalRecord& rec = goals.at(d.goal_id());
          const v1::Goal before = rec.goal();
          v1::Goal& g = *rec.mutable_goal();
          v1::GoalChangeKind kind = v1::GOAL_CHANGE_KIND_REASSESSED;
          if (d.decision() == v1::GOAL_DECISION_KIND_REFINE) {
            if (!d.what().empty()) g.set_what(d.what());
            if (!d.measure().empty()) g.set_measure(d.measure());
            if (!d.target_date().empty()) g.set_target_date(d.target_date());
          } else if (d.decision() == v1::GOAL_DECISION_KIND_DROP) {
            g.set_state(v1::GOAL_STATE_DROPPED);
            g.set_drop_reason(d.reason());
            kind = v1::GOAL_CHANGE_KIND_DROPPED;
            count_state(*work, v1::GOAL_STATE_OPEN, v1::GOAL_STATE_DROPPED);
          }
          record_change(ctx, rec, &before, kind, actor.id(), d.reason(), r.id(), audience);
          *out.add_goals() = rec.goal();
        }
        for (const v1::NewGoal& n : req.new_goals()) {
          const v1::Goal g = create_goal(ctx, mentorship_id, actor.id(), n, r.id(), audience);
          r.add_new_goal_ids(g.id());
          *out.add_goals() = g;
          work->set_goals_total(work->goals_total() + 1);
          count_state(*work, v1::GOAL_STATE_UNSPECIFIED, v1::GOAL_STATE_OPEN);
        }
        save(ctx, Cf::kReassessments, reassessment_key(mentorship_id, r.id()), r);
        // The next "time to reassess" counts from now.
        work->set_last_reassessment_ms(ctx.now_ms());
        move_due_entry(ctx, mentorship_id, *work, ctx.now_ms() + period_ms((*m_rec)->mentorship()));
        save_work(ctx, mentorship_id, *work);
        v1::Event e;
        *e.mutable_reassessment()->mutable_reassessment() = r;
        *e.mutable_reassessment()->mutable_goals() = out.goals();
        ctx.append_event(std::move(e), audience);
        return Status::ok();
      },
      std::move(done));
}

// ---- reads ----

Result<v1::ListGoalsResult> Goals::list(const v1::User& actor, const v1::ListGoals& req) const {
  auto member = work_member(membership_, actor, req.mentorship_id(), false);
  if (!member) return member.status();
  std::vector<std::string> keys_of_goals;
  Status inner;
  auto scanned = store_.scan_prefix(Cf::kMentorshipGoals, keys::PairKey::prefix(req.mentorship_id()),
                                    [&](std::string_view k, std::string_view) {
                                      auto key = keys::PairKey::decode(k);
                                      if (!key) {
                                        inner =
                                            data_loss("A stored index entry of mentorship_goals is damaged.");
                                        return false;
                                      }
                                      keys_of_goals.push_back(goal_key(key->child));
                                      return true;
                                    },
                                    {.max_entries = kMaxGoals});
  if (!scanned) return scanned.status();
  if (!inner) return inner;
  auto values = store_.multi_get(Cf::kGoals, keys_of_goals);
  if (!values) return values.status();
  std::vector<v1::Goal> goals;
  for (const auto& value : *values) {
    if (!value) continue;  // an index entry a concurrent write is adding
    v1::GoalRecord rec;
    if (!rec.ParseFromString(*value)) return data_loss("A stored record in goals is damaged.");
    if (!req.include_closed() && rec.goal().state() != v1::GOAL_STATE_OPEN) continue;
    goals.push_back(std::move(*rec.mutable_goal()));
  }
  std::stable_sort(goals.begin(), goals.end(), [](const v1::Goal& a, const v1::Goal& b) {
    const bool a_open = a.state() == v1::GOAL_STATE_OPEN;
    const bool b_open = b.state() == v1::GOAL_STATE_OPEN;
    if (a_open != b_open) return a_open;
    return a.id() < b.id();
  });
  // A page: the goals after the cursor, in that order, within kMaxPageBytes.
  const auto position = [](const v1::Goal& g) {
    return std::make_pair(g.state() != v1::GOAL_STATE_OPEN, g.id());
  };
  const auto after = std::make_pair(req.after().closed(), req.after().goal_id());
  v1::ListGoalsResult out;
  size_t bytes = 0;
  for (auto& g : goals) {
    if (req.has_after() && position(g) <= after) continue;
    const size_t size = g.ByteSizeLong();
    if (out.goals_size() > 0 && bytes + size > kMaxPageBytes) {
      out.set_has_more(true);
      break;
    }
    bytes += size;
    out.mutable_next_after()->set_closed(g.state() != v1::GOAL_STATE_OPEN);
    out.mutable_next_after()->set_goal_id(g.id());
    *out.add_goals() = std::move(g);
  }
  auto work = load_work(store_, req.mentorship_id());
  if (!work) return work.status();
  out.set_last_reassessment_ms(work->last_reassessment_ms());
  if (member->active()) out.set_next_reassessment_ms(work->next_reassessment_ms());
  return out;
}

Result<v1::GetGoalHistoryResult> Goals::history(const v1::User& actor, const v1::GetGoalHistory& req) const {
  if (req.limit() > kMaxGoalHistoryPage) {
    return invalid_argument(
        "limit may be at most " + std::to_string(kMaxGoalHistoryPage) + " entries a page.", "limit");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultGoalHistoryPage : req.limit();
  auto rec = read_goal_for_member(store_, membership_, actor, req.goal_id());
  if (!rec) return rec.status();
  v1::GetGoalHistoryResult out;
  const std::string begin = history_key(req.goal_id(), static_cast<uint64_t>(req.after_seq()) + 1);
  const std::string end = keys::prefix_end(keys::PairKey::prefix(req.goal_id()));
  bool damaged = false;
  auto scanned = store_.scan(Cf::kGoalHistory, {.begin = begin, .end = end},
                             [&](std::string_view, std::string_view value) {
                               damaged = !out.add_entries()->ParseFromArray(value.data(),
                                                                            static_cast<int>(value.size()));
                               return !damaged;
                             },
                             {.max_entries = limit, .max_bytes = kMaxPageBytes});
  if (!scanned) return scanned.status();
  if (damaged) return data_loss("A stored entry of a goal's history is damaged.");
  out.set_has_more(*scanned == storage::ScanEnd::kLimitReached);
  return out;
}

Result<v1::ListReassessmentsResult> Goals::list_reassessments(const v1::User& actor,
                                                              const v1::ListReassessments& req) const {
  if (req.limit() > kMaxReassessmentsPage) {
    return invalid_argument(
        "limit may be at most " + std::to_string(kMaxReassessmentsPage) + " reassessments a page.", "limit");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultReassessmentsPage : req.limit();
  auto member = work_member(membership_, actor, req.mentorship_id(), false);
  if (!member) return member.status();
  const uint64_t below = req.before_id() == 0 ? std::numeric_limits<uint64_t>::max() : req.before_id();
  std::vector<std::string> found;  // oldest first; one more than a page tells has_more
  PRECEPTOR_RETURN_IF_ERROR(
      newest_reassessments(store_, req.mentorship_id(), 1, below, limit + 1, false, found));
  v1::ListReassessmentsResult out;
  if (found.size() > limit) {
    out.set_has_more(true);
    found.erase(found.begin());
  }
  size_t bytes = 0;
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    if (out.reassessments_size() > 0 && bytes + it->size() > kMaxPageBytes) {
      out.set_has_more(true);
      break;
    }
    bytes += it->size();
    if (!out.add_reassessments()->ParseFromString(*it)) return data_loss("A stored reassessment is damaged.");
  }
  return out;
}

// ---- timed work ----

size_t Goals::run_timed_work() {
  const int64_t now = std::max<int64_t>(0, clock_.now_ms());
  const std::string end =
      keys::WorkDue{.due_ms = static_cast<uint64_t>(now) + 1, .kind = 0, .id = 0}.encode();
  std::vector<keys::WorkDue> due;
  // work_due holds the assignments' and documents' timed work too: only
  // what is due by now is read, and only this module's kind is taken.
  auto scanned = store_.scan(Cf::kWorkDue, {.end = end}, [&](std::string_view key, std::string_view) {
    if (auto entry = keys::WorkDue::decode(key); entry && entry->kind == keys::WorkDue::kReassessment)
      due.push_back(*entry);
    return due.size() < kMaxReassessmentsDuePerPass;
  });
  if (!scanned) return 0;  // logged by the store; the next pass tries again
  // At most kMaxReassessmentsInFlight wait in the committer at once (BoundedSubmitter).
  BoundedSubmitter submitter(committer_, kMaxReassessmentsInFlight);
  for (const keys::WorkDue& entry : due) {
    submitter.submit([entry](storage::CommitContext& ctx) { return deliver_due(ctx, entry); });
  }
  submitter.wait_all();
  return due.size();
}

}  // namespace preceptor::services
