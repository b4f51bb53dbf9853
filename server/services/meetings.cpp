#include "server/services/meetings.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "server/services/meeting_book.h"
#include "server/services/membership.h"
#include "server/services/office_hours.h"
#include "server/services/record_io.h"
#include "server/services/text_checks.h"
#include "server/services/time_zones.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// Free text of many lines (agenda, reason, notes): valid UTF-8, at most
// `max` bytes; when `required`, not only white space.
Status check_long_text(const std::string& value, size_t max, const std::string& field,
                       const std::string& what, bool required) {
  if (!valid_utf8(value)) return invalid_argument("The " + what + " is not valid UTF-8 text.", field);
  if (value.size() > max) {
    return invalid_argument("The " + what + " may be at most " + std::to_string(max) +
                                " bytes; this one has " + std::to_string(value.size()) + ".",
                            field);
  }
  if (required && std::all_of(value.begin(), value.end(),
                              [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; })) {
    std::string sentence = "The " + what + " is missing; say in a few words why.";
    return invalid_argument(std::move(sentence), field);
  }
  return Status::ok();
}

std::string private_notes_key(uint64_t meeting_id, uint64_t user_id) {
  return keys::MeetingPrivateNotes{.meeting_id = meeting_id, .user_id = user_id}.encode();
}

uint64_t other_member(const v1::Meeting& m, uint64_t user_id) {
  return m.mentor_id() == user_id ? m.mentee_id() : m.mentor_id();
}

// How the other member is named in a sentence to `actor`.
Result<std::string> display_name(storage::CommitContext& ctx, uint64_t user_id) {
  auto rec = load<v1::UserRecord>(ctx, Cf::kUsers, keys::User{.user_id = user_id}.encode());
  if (!rec) return rec.status();
  if (!rec->has_value() || (*rec)->user().display_name().empty()) return std::string("The other member");
  return (*rec)->user().display_name();
}

// Refuses what would make a meeting happen in a mentorship that is no
// longer active (an office-hours booking outside a mentorship has none).
Status require_active_mentorship(storage::CommitContext& ctx, const v1::Meeting& m, uint64_t actor_id) {
  if (m.mentorship_id() == 0) return Status::ok();
  auto member = Membership::find(ctx, actor_id, m.mentorship_id());
  if (!member) return member.status();
  if (!member->has_value() || !(*member)->active()) {
    return failed_precondition(
        "This mentorship is no longer active: its meetings can still be cancelled, marked and given notes, "
        "but not accepted or moved.");
  }
  return Status::ok();
}

// The end of every change: a new revision, who and when, the indexes, and
// one MeetingChanged to both members.
Status commit_change(storage::CommitContext& ctx, const v1::MeetingRecord& before, v1::MeetingRecord& after,
                     uint64_t actor_id, v1::MeetingChange change) {
  v1::Meeting& m = *after.mutable_meeting();
  m.set_revision(before.meeting().revision() + 1);
  m.set_updated_ms(ctx.now_ms());
  m.set_changed_by(actor_id);
  PRECEPTOR_RETURN_IF_ERROR(store_meeting(ctx, &before, after));
  emit_meeting_changed(ctx, change, m, actor_id);
  return Status::ok();
}

std::string state_words(v1::MeetingState s) {
  switch (s) {
    case v1::MEETING_STATE_PROPOSED:
      return "is still a proposal";
    case v1::MEETING_STATE_ACCEPTED:
      return "is accepted";
    case v1::MEETING_STATE_DECLINED:
      return "was declined";
    case v1::MEETING_STATE_CANCELLED:
      return "was cancelled";
    case v1::MEETING_STATE_HELD:
      return "was marked held";
    case v1::MEETING_STATE_NO_SHOW:
      return "was marked a no-show";
    default:
      return "is in an unknown state";
  }
}

Status not_while(const v1::Meeting& m, const std::string& what) {
  return failed_precondition("This meeting " + state_words(m.state()) + "; it cannot be " + what + " now.");
}

bool valid_fit(v1::FitAnswer a) {
  return a == v1::FIT_ANSWER_YES || a == v1::FIT_ANSWER_UNSURE || a == v1::FIT_ANSWER_NO;
}

void count_fit(v1::FitCountsRecord& counts, v1::FitAnswer a, int delta) {
  auto step = [delta](uint64_t n) { return delta < 0 ? (n > 0 ? n - 1 : 0) : n + 1; };
  switch (a) {
    case v1::FIT_ANSWER_YES:
      counts.set_yes(step(counts.yes()));
      break;
    case v1::FIT_ANSWER_UNSURE:
      counts.set_unsure(step(counts.unsure()));
      break;
    case v1::FIT_ANSWER_NO:
      counts.set_no(step(counts.no()));
      break;
    default:
      break;
  }
}

}  // namespace

Meetings::Meetings(storage::Store& store, storage::Committer& committer, Accounts& accounts,
                   const Clock& clock)
    : store_(store), committer_(committer), accounts_(accounts), clock_(clock) {}

void Meetings::mutate(const v1::User& actor, uint64_t id,
                      std::function<Status(storage::CommitContext&, v1::MeetingRecord&)> change,
                      Done<v1::Meeting> done) {
  commit_with_result<v1::Meeting>(
      committer_,
      [actor, id, change = std::move(change)](storage::CommitContext& ctx, v1::Meeting& out) {
        auto rec = load_meeting_for_member(ctx, actor, id);
        if (!rec) return rec.status();
        PRECEPTOR_RETURN_IF_ERROR(change(ctx, *rec));
        out = rec->meeting();
        return Status::ok();
      },
      std::move(done));
}

void Meetings::propose(const v1::User& actor, const v1::ProposeMeeting& req, Done<v1::Meeting> done) {
  if (oversees_program(actor)) {
    return done(permission_denied(
        "Program directors see how many meetings a pair holds; only the mentor and the mentee plan them."));
  }
  if (Status st = check_time_zone(req.time_zone()); !st) return done(st);
  if (Status st = check_long_text(req.agenda(), kMaxAgendaBytes, "agenda", "agenda", false); !st)
    return done(st);
  if (Status st = check_where(req.where()); !st) return done(st);
  commit_with_result<v1::Meeting>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::Meeting& out) {
        auto member = Membership::find(ctx, actor.id(), req.mentorship_id());
        if (!member) return member.status();
        if (!member->has_value()) {
          return not_found("No mentorship " + std::to_string(req.mentorship_id()) + " among yours.",
                           "mentorship_id");
        }
        const Membership::Member& me = **member;
        if (!me.active()) {
          return failed_precondition("Meetings are planned in an active mentorship; this one is not active.");
        }
        PRECEPTOR_RETURN_IF_ERROR(check_meeting_time(req.start_ms(), req.duration_minutes(), ctx.now_ms()));
        v1::MeetingRecord rec;
        v1::Meeting& m = *rec.mutable_meeting();
        m.set_id(ctx.next_id("meeting"));
        m.set_mentorship_id(me.mentorship_id);
        const bool mentor = me.role == Membership::Role::kMentor;
        m.set_mentor_id(mentor ? actor.id() : me.counterpart_id);
        m.set_mentee_id(mentor ? me.counterpart_id : actor.id());
        m.set_state(v1::MEETING_STATE_PROPOSED);
        m.set_start_ms(req.start_ms());
        m.set_duration_minutes(req.duration_minutes());
        m.set_time_zone(req.time_zone());
        m.set_agenda(req.agenda());
        *m.mutable_where() = req.where();
        if (m.where().kind() == v1::WHERE_KIND_UNSPECIFIED)
          m.mutable_where()->set_kind(v1::WHERE_KIND_IN_APP_CALL);
        m.set_proposed_by(actor.id());
        m.set_revision(1);
        m.set_changed_by(actor.id());
        m.set_created_ms(ctx.now_ms());
        m.set_updated_ms(ctx.now_ms());
        PRECEPTOR_RETURN_IF_ERROR(store_meeting(ctx, nullptr, rec));
        emit_meeting_changed(ctx, v1::MEETING_CHANGE_PROPOSED, rec.meeting(), actor.id());
        out = rec.meeting();
        return Status::ok();
      },
      std::move(done));
}

void Meetings::accept(const v1::User& actor, const v1::AcceptMeeting& req, Done<v1::Meeting> done) {
  const uint32_t expected = req.revision();
  mutate(
      actor, req.meeting_id(),
      [actor, expected](storage::CommitContext& ctx, v1::MeetingRecord& rec) {
        const v1::MeetingRecord before = rec;
        v1::Meeting& m = *rec.mutable_meeting();
        if (expected != 0 && expected != m.revision()) {
          return Status(v1::ERROR_CODE_ABORTED,
                        "The meeting changed since you saw it (revision " + std::to_string(expected) +
                            ", now " + std::to_string(m.revision()) + "); look at it again before accepting.",
                        "revision");
        }
        if (m.has_pending()) {
          if (m.state() != v1::MEETING_STATE_PROPOSED && m.state() != v1::MEETING_STATE_ACCEPTED)
            return not_while(m, "accepted");
          if (m.pending().proposed_by() == actor.id()) {
            return failed_precondition(
                "You asked for this new time yourself; the other member accepts or declines it.");
          }
        } else {
          if (m.state() != v1::MEETING_STATE_PROPOSED) return not_while(m, "accepted");
          if (m.proposed_by() == actor.id()) {
            return failed_precondition(
                "You proposed this meeting yourself; the other member accepts or declines it.");
          }
        }
        PRECEPTOR_RETURN_IF_ERROR(require_active_mentorship(ctx, m, actor.id()));
        if (m.has_pending()) {
          m.set_start_ms(m.pending().start_ms());
          m.set_duration_minutes(m.pending().duration_minutes());
          m.set_time_zone(m.pending().time_zone());
          m.clear_pending();
        }
        if (m.start_ms() <= ctx.now_ms()) {
          return failed_precondition(
              "The meeting's start has passed; propose a new time instead of accepting this one.");
        }
        const uint64_t other = other_member(m, actor.id());
        PRECEPTOR_RETURN_IF_ERROR(
            check_free(ctx, actor.id(), m.start_ms(), meeting_end_ms(m), m.id(), "You"));
        auto other_name = display_name(ctx, other);
        if (!other_name) return other_name.status();
        PRECEPTOR_RETURN_IF_ERROR(
            check_free(ctx, other, m.start_ms(), meeting_end_ms(m), m.id(), *other_name));
        m.set_state(v1::MEETING_STATE_ACCEPTED);
        m.clear_reason();
        return commit_change(ctx, before, rec, actor.id(), v1::MEETING_CHANGE_ACCEPTED);
      },
      std::move(done));
}

void Meetings::decline(const v1::User& actor, const v1::DeclineMeeting& req, Done<v1::Meeting> done) {
  if (Status st = check_long_text(req.reason(), kMaxReasonBytes, "reason", "reason", true); !st)
    return done(st);
  const std::string reason = req.reason();
  mutate(
      actor, req.meeting_id(),
      [actor, reason](storage::CommitContext& ctx, v1::MeetingRecord& rec) {
        const v1::MeetingRecord before = rec;
        v1::Meeting& m = *rec.mutable_meeting();
        if (m.has_pending() &&
            (m.state() == v1::MEETING_STATE_PROPOSED || m.state() == v1::MEETING_STATE_ACCEPTED)) {
          if (m.pending().proposed_by() == actor.id()) {
            return failed_precondition(
                "You asked for this new time yourself; ask for another time or cancel the meeting instead.");
          }
          m.clear_pending();
          m.set_reason(reason);
          return commit_change(ctx, before, rec, actor.id(), v1::MEETING_CHANGE_NEW_TIME_DECLINED);
        }
        if (m.state() != v1::MEETING_STATE_PROPOSED) return not_while(m, "declined");
        if (m.proposed_by() == actor.id()) {
          return failed_precondition(
              "You proposed this meeting yourself; cancel it instead of declining it.");
        }
        m.set_state(v1::MEETING_STATE_DECLINED);
        m.set_reason(reason);
        return commit_change(ctx, before, rec, actor.id(), v1::MEETING_CHANGE_DECLINED);
      },
      std::move(done));
}

void Meetings::reschedule(const v1::User& actor, const v1::RescheduleMeeting& req, Done<v1::Meeting> done) {
  if (!req.time_zone().empty()) {
    if (Status st = check_time_zone(req.time_zone()); !st) return done(st);
  }
  mutate(
      actor, req.meeting_id(),
      [actor, req](storage::CommitContext& ctx, v1::MeetingRecord& rec) {
        const v1::MeetingRecord before = rec;
        v1::Meeting& m = *rec.mutable_meeting();
        if (m.state() != v1::MEETING_STATE_PROPOSED && m.state() != v1::MEETING_STATE_ACCEPTED)
          return not_while(m, "moved");
        if (m.office_hours()) {
          return failed_precondition(
              "An office-hours booking keeps its slot; cancel it and book another slot instead.");
        }
        if (m.start_ms() <= ctx.now_ms()) {
          return failed_precondition(
              "This meeting has started; a new time can be asked for only before the start.");
        }
        PRECEPTOR_RETURN_IF_ERROR(require_active_mentorship(ctx, m, actor.id()));
        const uint32_t duration = req.duration_minutes() == 0 ? m.duration_minutes() : req.duration_minutes();
        const std::string tz = req.time_zone().empty() ? m.time_zone() : req.time_zone();
        PRECEPTOR_RETURN_IF_ERROR(check_meeting_time(req.start_ms(), duration, ctx.now_ms()));
        if (req.start_ms() == m.start_ms() && duration == m.duration_minutes() && tz == m.time_zone()) {
          return invalid_argument("That is the meeting's time already; choose another.", "start_ms");
        }
        if (m.state() == v1::MEETING_STATE_PROPOSED && m.proposed_by() == actor.id()) {
          // The other member has not said yes to the proposal: its proposer
          // changes it directly (dropping any counter-proposal it had).
          m.set_start_ms(req.start_ms());
          m.set_duration_minutes(duration);
          m.set_time_zone(tz);
          m.clear_pending();
        } else {
          v1::ProposedTime& p = *m.mutable_pending();
          p.set_start_ms(req.start_ms());
          p.set_duration_minutes(duration);
          p.set_time_zone(tz);
          p.set_proposed_by(actor.id());
          p.set_proposed_at_ms(ctx.now_ms());
        }
        m.clear_reason();
        return commit_change(ctx, before, rec, actor.id(), v1::MEETING_CHANGE_NEW_TIME_PROPOSED);
      },
      std::move(done));
}

void Meetings::cancel(const v1::User& actor, const v1::CancelMeeting& req, Done<v1::Meeting> done) {
  if (Status st = check_long_text(req.reason(), kMaxReasonBytes, "reason", "reason", true); !st)
    return done(st);
  const std::string reason = req.reason();
  mutate(
      actor, req.meeting_id(),
      [actor, reason](storage::CommitContext& ctx, v1::MeetingRecord& rec) {
        const v1::MeetingRecord before = rec;
        v1::Meeting& m = *rec.mutable_meeting();
        if (m.state() != v1::MEETING_STATE_PROPOSED && m.state() != v1::MEETING_STATE_ACCEPTED)
          return not_while(m, "cancelled");
        if (m.start_ms() <= ctx.now_ms()) {
          return failed_precondition(
              "This meeting has started; mark it held or a no-show instead of cancelling it.");
        }
        if (m.office_hours() && actor.id() == m.mentee_id()) {
          auto oh = load<v1::OfficeHoursRecord>(ctx, Cf::kOfficeHours,
                                                keys::MentorKey{.mentor_id = m.mentor_id()}.encode());
          if (!oh) return oh.status();
          const int64_t notice =
              oh->has_value()
                  ? static_cast<int64_t>((*oh)->office_hours().cancel_notice_minutes()) * kMinuteMs
                  : 0;
          if (ctx.now_ms() > m.start_ms() - notice) {
            return failed_precondition("This office-hours booking can be cancelled only up to " +
                                       std::to_string(notice / kMinuteMs) +
                                       " minutes before its start; write to your mentor instead.");
          }
        }
        if (m.office_hours() && m.state() == v1::MEETING_STATE_ACCEPTED) {
          PRECEPTOR_RETURN_IF_ERROR(release_slot_seat(ctx, m));
        }
        m.set_state(v1::MEETING_STATE_CANCELLED);
        m.set_reason(reason);
        m.clear_pending();
        return commit_change(ctx, before, rec, actor.id(), v1::MEETING_CHANGE_CANCELLED);
      },
      std::move(done));
}

void Meetings::mark(const v1::User& actor, const v1::MarkMeeting& req, Done<v1::Meeting> done) {
  if (req.outcome() != v1::MEETING_OUTCOME_HELD && req.outcome() != v1::MEETING_OUTCOME_NO_SHOW) {
    return done(invalid_argument("Mark a meeting held or a no-show.", "outcome"));
  }
  const v1::MeetingState wanted =
      req.outcome() == v1::MEETING_OUTCOME_HELD ? v1::MEETING_STATE_HELD : v1::MEETING_STATE_NO_SHOW;
  mutate(
      actor, req.meeting_id(),
      [actor, wanted](storage::CommitContext& ctx, v1::MeetingRecord& rec) {
        const v1::MeetingRecord before = rec;
        v1::Meeting& m = *rec.mutable_meeting();
        // The first mark stands; the same mark again changes nothing.
        if (m.state() == wanted) return Status::ok();
        if (m.state() == v1::MEETING_STATE_HELD || m.state() == v1::MEETING_STATE_NO_SHOW) {
          return failed_precondition("This meeting " + state_words(m.state()) +
                                     " already; the first mark stands.");
        }
        if (m.state() != v1::MEETING_STATE_ACCEPTED) return not_while(m, "marked");
        if (ctx.now_ms() < m.start_ms()) {
          return failed_precondition("This meeting has not started yet; mark it after its start.");
        }
        m.set_state(wanted);
        m.set_outcome_by(actor.id());
        m.clear_pending();
        return commit_change(
            ctx, before, rec, actor.id(),
            wanted == v1::MEETING_STATE_HELD ? v1::MEETING_CHANGE_HELD : v1::MEETING_CHANGE_NO_SHOW);
      },
      std::move(done));
}

void Meetings::write_notes(const v1::User& actor, const v1::WriteMeetingNotes& req,
                           Done<v1::WriteMeetingNotesResult> done) {
  if (Status st = check_long_text(req.text(), kMaxNotesBytes, "text", "notes", false); !st) return done(st);
  commit_with_result<v1::WriteMeetingNotesResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::WriteMeetingNotesResult& out) {
        auto loaded = load_meeting_for_member(ctx, actor, req.meeting_id());
        if (!loaded) return loaded.status();
        v1::MeetingRecord& rec = *loaded;
        const std::string key = private_notes_key(rec.meeting().id(), actor.id());
        if (req.is_private()) {
          // The author's alone: the meeting (and its revision) does not
          // change, so the other member cannot even tell notes were written.
          if (req.text().empty()) {
            ctx.del(Cf::kMeetingPrivateNotes, key);
          } else {
            ctx.put(Cf::kMeetingPrivateNotes, key, req.text());
          }
          v1::Event e;
          e.mutable_private_notes()->set_meeting_id(rec.meeting().id());
          e.mutable_private_notes()->set_text(req.text());
          ctx.append_event(std::move(e), {actor.id()});
          *out.mutable_meeting() = rec.meeting();
          out.set_private_notes(req.text());
          return Status::ok();
        }
        const v1::MeetingRecord before = rec;
        v1::Meeting& m = *rec.mutable_meeting();
        if (m.state() == v1::MEETING_STATE_DECLINED || m.state() == v1::MEETING_STATE_CANCELLED) {
          return failed_precondition("This meeting " + state_words(m.state()) +
                                     "; shared notes are for meetings that happen (private notes are fine).");
        }
        auto mine = ctx.get(Cf::kMeetingPrivateNotes, key);
        if (!mine) return mine.status();
        out.set_private_notes(mine->value_or(""));
        if (m.shared_notes() != req.text()) {
          m.set_shared_notes(req.text());
          PRECEPTOR_RETURN_IF_ERROR(commit_change(ctx, before, rec, actor.id(), v1::MEETING_CHANGE_NOTES));
        }
        *out.mutable_meeting() = rec.meeting();
        return Status::ok();
      },
      std::move(done));
}

void Meetings::answer_fit(const v1::User& actor, const v1::AnswerFit& req, Done<v1::AnswerFitResult> done) {
  if (oversees_program(actor)) {
    return done(
        permission_denied("Only the mentor and the mentee answer whether their mentorship is a good fit."));
  }
  if (!valid_fit(req.answer())) return done(invalid_argument("Answer yes, unsure or no.", "answer"));
  commit_with_result<v1::AnswerFitResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::AnswerFitResult& out) {
        auto member = Membership::find(ctx, actor.id(), req.mentorship_id());
        if (!member) return member.status();
        if (!member->has_value()) {
          return not_found("No mentorship " + std::to_string(req.mentorship_id()) + " among yours.",
                           "mentorship_id");
        }
        auto counts = load<v1::MeetingCountsRecord>(
            ctx, Cf::kMeetingCounts, keys::MeetingCounts{.mentorship_id = req.mentorship_id()}.encode());
        if (!counts) return counts.status();
        if (!counts->has_value() || (*counts)->held() == 0) {
          return failed_precondition(
              "Whether this is a good fit is asked after your first meeting held together.");
        }
        const std::string key =
            keys::FitAnswer{.mentorship_id = req.mentorship_id(), .user_id = actor.id()}.encode();
        auto raw = ctx.get(Cf::kFitAnswers, key);
        if (!raw) return raw.status();
        v1::FitAnswer previous = v1::FIT_ANSWER_UNSPECIFIED;
        if (raw->has_value()) {
          if (auto v = storage::decode_u64(**raw)) previous = static_cast<v1::FitAnswer>(*v);
        }
        out.set_answer(req.answer());
        if (previous == req.answer()) return Status::ok();
        auto fit = load<v1::FitCountsRecord>(ctx, Cf::kMeta, keys::kFitCountsKey);
        if (!fit) return fit.status();
        v1::FitCountsRecord totals = fit->value_or(v1::FitCountsRecord());
        if (valid_fit(previous)) count_fit(totals, previous, -1);
        count_fit(totals, req.answer(), +1);
        save(ctx, Cf::kMeta, keys::kFitCountsKey, totals);
        ctx.put(Cf::kFitAnswers, key, storage::encode_u64(static_cast<uint64_t>(req.answer())));
        v1::Event e;
        e.mutable_fit_answered()->set_mentorship_id(req.mentorship_id());
        e.mutable_fit_answered()->set_answer(req.answer());
        ctx.append_event(std::move(e), {actor.id()});
        return Status::ok();
      },
      std::move(done));
}

Result<v1::GetFitSummaryResult> Meetings::fit_summary() const {
  auto fit = load<v1::FitCountsRecord>(store_, Cf::kMeta, keys::kFitCountsKey);
  if (!fit) return fit.status();
  v1::GetFitSummaryResult out;
  if (fit->has_value()) {
    out.set_yes((*fit)->yes());
    out.set_unsure((*fit)->unsure());
    out.set_no((*fit)->no());
  }
  return out;
}

Result<v1::ListMeetingsResult> Meetings::list(const v1::User& actor, const v1::ListMeetings& req) const {
  if (req.from_ms() < 0)
    return invalid_argument("from_ms is a time after 1970 (UTC milliseconds).", "from_ms");
  if (req.to_ms() <= req.from_ms()) return invalid_argument("to_ms must come after from_ms.", "to_ms");
  if (req.to_ms() - req.from_ms() > kMaxListMeetingsDays * kDayMs) {
    return invalid_argument("A list covers at most " + std::to_string(kMaxListMeetingsDays) + " days.",
                            "to_ms");
  }
  if (req.limit() > kMaxMeetingsPage) {
    return invalid_argument("limit may be at most " + std::to_string(kMaxMeetingsPage) + " meetings a page.",
                            "limit");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultMeetingsPage : req.limit();
  std::string begin =
      keys::UserMeeting{
          .user_id = actor.id(), .start_ms = static_cast<uint64_t>(req.from_ms()), .meeting_id = 0}
          .encode();
  if (req.has_after()) {
    const auto& a = req.after();
    const bool last_id = a.meeting_id() == std::numeric_limits<uint64_t>::max();
    std::string after =
        keys::UserMeeting{
            .user_id = actor.id(),
            .start_ms = static_cast<uint64_t>(std::max<int64_t>(0, a.start_ms())) + (last_id ? 1 : 0),
            .meeting_id = last_id ? 0 : a.meeting_id() + 1}
            .encode();
    begin = std::max(begin, after);
  }
  const std::string end =
      keys::UserMeeting{
          .user_id = actor.id(), .start_ms = static_cast<uint64_t>(req.to_ms()), .meeting_id = 0}
          .encode();
  v1::ListMeetingsResult out;
  if (req.has_after()) *out.mutable_next_after() = req.after();
  if (begin >= end) return out;
  std::unordered_map<uint64_t, v1::User> users;
  auto user = [&](uint64_t id) -> v1::User {
    auto it = users.find(id);
    if (it != users.end()) return it->second;
    v1::User u;
    if (auto got = accounts_.get_user(id)) u = std::move(*got);
    if (users.size() < 1000) users.emplace(id, u);
    return u;
  };
  size_t bytes = 0;
  Status st;
  auto scanned =
      store_.scan(Cf::kUserMeetings, {.begin = begin, .end = end}, [&](std::string_view k, std::string_view) {
        const auto key = keys::UserMeeting::decode(k);
        if (!key) {
          st = data_loss("A stored index entry of " + std::string(storage::cf_name(Cf::kUserMeetings)) +
                         " is damaged.");
          return false;
        }
        if (static_cast<uint32_t>(out.meetings_size()) == limit) {
          out.set_has_more(true);
          return false;
        }
        auto rec = load_meeting(store_, key->meeting_id);
        if (!rec) {
          st = rec.status();
          return false;
        }
        if (!rec->has_value()) return true;  // an index entry a concurrent write is moving
        v1::MeetingView view;
        *view.mutable_meeting() = (*rec)->meeting();
        auto notes = store_.get(Cf::kMeetingPrivateNotes, private_notes_key(key->meeting_id, actor.id()));
        if (!notes) {
          st = notes.status();
          return false;
        }
        if (notes->has_value()) view.set_private_notes(**notes);
        *view.mutable_mentor() = user(view.meeting().mentor_id());
        *view.mutable_mentee() = user(view.meeting().mentee_id());
        const size_t size = view.ByteSizeLong();
        if (out.meetings_size() > 0 && bytes + size > kMaxPageBytes) {
          out.set_has_more(true);
          return false;
        }
        bytes += size;
        *out.add_meetings() = std::move(view);
        out.mutable_next_after()->set_start_ms(static_cast<int64_t>(key->start_ms));
        out.mutable_next_after()->set_meeting_id(key->meeting_id);
        return true;
      });
  if (!scanned) return scanned.status();
  if (!st) return st;
  return out;
}

}  // namespace preceptor::services
