#include "server/services/assignments.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/services/document_book.h"
#include "server/services/meeting_book.h"
#include "server/services/reminders.h"
#include "server/services/text_checks.h"
#include "server/services/time_zones.h"
#include "server/services/work_book.h"
#include "storage/keys.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

static_assert(kMaxAssignmentTitleBytes == kMaxTextBytes, "titles are checked with check_text");

std::string id_key(uint64_t id) { return keys::IdKey{.id = id}.encode(); }
std::string pair_key(uint64_t parent, uint64_t child) {
  return keys::PairKey{.parent = parent, .child = child}.encode();
}

Status refuse_overseer() {
  return permission_denied(
      "Program directors and admins see counts only; assignments, versions and reviews belong to the mentor "
      "and the mentee.");
}

Status no_assignment(uint64_t id) {
  return not_found("No assignment " + std::to_string(id) + " among yours.", "assignment_id");
}

Status no_review(uint64_t id) {
  return not_found("No review " + std::to_string(id) + " among yours.", "review_id");
}

Status exhausted(std::string message, std::string field = {}) {
  return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED, std::move(message), std::move(field));
}

bool blank_lines(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// Free text of many lines: valid UTF-8, at most `max` bytes; when
// `required`, not only white space.
Status check_long_text(std::string_view value, size_t max, const std::string& field, const std::string& what,
                       bool required) {
  if (!valid_utf8(value)) return invalid_argument("The " + what + " is not valid UTF-8 text.", field);
  if (value.size() > max) {
    return invalid_argument("The " + what + " may be at most " + std::to_string(max) +
                                " bytes; this one has " + std::to_string(value.size()) + ".",
                            field);
  }
  if (required && blank_lines(value)) return invalid_argument("The " + what + " is missing.", field);
  return Status::ok();
}

const char* state_name(v1::AssignmentState s) {
  switch (s) {
    case v1::ASSIGNMENT_STATE_ASSIGNED:
      return "assigned";
    case v1::ASSIGNMENT_STATE_ACKNOWLEDGED:
      return "acknowledged";
    case v1::ASSIGNMENT_STATE_SUBMITTED:
      return "submitted";
    case v1::ASSIGNMENT_STATE_CHANGES_REQUESTED:
      return "changes requested";
    case v1::ASSIGNMENT_STATE_RESUBMITTED:
      return "resubmitted";
    case v1::ASSIGNMENT_STATE_APPROVED:
      return "approved";
    case v1::ASSIGNMENT_STATE_WITHDRAWN:
      return "withdrawn";
    default:
      return "unknown";
  }
}

std::string moves_to(v1::AssignmentState wanted) {
  return std::string("move to \"") + state_name(wanted) + "\"";
}

// FAILED_PRECONDITION naming the current state and the change asked for.
Status not_from(const v1::Assignment& a, const std::string& change, const std::string& hint = {}) {
  std::string s = "Assignment " + std::to_string(a.id()) + " is \"" + state_name(a.state()) +
                  "\"; it cannot " + change + " from there.";
  if (!hint.empty()) s += " " + hint;
  return failed_precondition(std::move(s));
}

// Waits for the mentee's next version: the states the nudges are for.
bool waits_for_version(v1::AssignmentState s) {
  return s == v1::ASSIGNMENT_STATE_ASSIGNED || s == v1::ASSIGNMENT_STATE_ACKNOWLEDGED ||
         s == v1::ASSIGNMENT_STATE_CHANGES_REQUESTED;
}

bool is_open(v1::AssignmentState s) {
  return s != v1::ASSIGNMENT_STATE_APPROVED && s != v1::ASSIGNMENT_STATE_WITHDRAWN;
}

void touch(v1::Assignment& a, int64_t now_ms) {
  a.set_revision(a.revision() + 1);
  a.set_updated_ms(now_ms);
}

void save_record(storage::CommitContext& ctx, const v1::AssignmentRecord& rec) {
  save(ctx, Cf::kAssignments, id_key(rec.assignment().id()), rec);
}

// ---- events (both members) ----

void emit_assignment(storage::CommitContext& ctx, v1::AssignmentChange change, const v1::Assignment& a,
                     uint64_t actor_id, const v1::AssignmentVersion* version = nullptr) {
  v1::Event e;
  auto* c = e.mutable_assignment_changed();
  c->set_change(change);
  *c->mutable_assignment() = a;
  c->set_actor_id(actor_id);
  if (version != nullptr) *c->mutable_version() = *version;
  ctx.append_event(std::move(e), {a.reviewer_id(), a.author_id()});
}

void emit_review(storage::CommitContext& ctx, v1::ReviewChange change, const v1::Assignment& a,
                 const v1::Review& review, uint64_t actor_id, uint32_t comment_id = 0) {
  v1::Event e;
  auto* c = e.mutable_review_changed();
  c->set_change(change);
  *c->mutable_review() = review;
  c->set_actor_id(actor_id);
  c->set_comment_id(comment_id);
  ctx.append_event(std::move(e), {a.reviewer_id(), a.author_id()});
}

// ---- nudges and the overdue count ----

uint64_t due_kind(v1::AssignmentNudgeKind kind) {
  return kind == v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON ? keys::WorkDue::kAssignmentDueSoon
                                                    : keys::WorkDue::kAssignmentOverdue;
}

std::string due_key(int64_t at_ms, v1::AssignmentNudgeKind kind, uint64_t assignment_id) {
  return keys::WorkDue{.due_ms = static_cast<uint64_t>(std::max<int64_t>(0, at_ms)),
                       .kind = due_kind(kind),
                       .id = assignment_id}
      .encode();
}

void add_nudge(storage::CommitContext& ctx, v1::AssignmentRecord& rec, v1::AssignmentNudgeKind kind,
               int64_t at_ms) {
  v1::ScheduledNudge* n = rec.add_nudges();
  n->set_kind(kind);
  n->set_due_ms(at_ms);
  ctx.put(Cf::kWorkDue, due_key(at_ms, kind, rec.assignment().id()), "");
}

// Removes every nudge the assignment has waiting (record and work_due).
void drop_nudges(storage::CommitContext& ctx, v1::AssignmentRecord& rec) {
  for (const v1::ScheduledNudge& n : rec.nudges()) {
    ctx.del(Cf::kWorkDue, due_key(n.due_ms(), n.kind(), rec.assignment().id()));
  }
  rec.clear_nudges();
}

// Schedules the nudges of an assignment that waits for a version, for the
// times still ahead. `at_creation`: a due-soon time already passed (the due
// time was set closer than kDueSoonBeforeMs) sends it at once; later (after
// a request for changes) it is not sent again, as it may have been sent.
void schedule_nudges(storage::CommitContext& ctx, v1::AssignmentRecord& rec, bool at_creation) {
  const v1::Assignment& a = rec.assignment();
  const int64_t now = ctx.now_ms();
  if (a.due_ms() == 0 || !waits_for_version(a.state()) || a.due_ms() <= now) return;
  const int64_t soon = a.due_ms() - kDueSoonBeforeMs;
  if (soon > now) {
    add_nudge(ctx, rec, v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON, soon);
  } else if (at_creation) {
    add_nudge(ctx, rec, v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON, now);
  }
  add_nudge(ctx, rec, v1::ASSIGNMENT_NUDGE_KIND_OVERDUE, a.due_ms());
}

void count_overdue(v1::MentorshipWorkRecord& work, v1::AssignmentRecord& rec) {
  if (rec.overdue_counted()) return;
  rec.set_overdue_counted(true);
  work.set_assignments_overdue(work.assignments_overdue() + 1);
}

void uncount_overdue(v1::MentorshipWorkRecord& work, v1::AssignmentRecord& rec) {
  if (!rec.overdue_counted()) return;
  rec.set_overdue_counted(false);
  work.set_assignments_overdue(work.assignments_overdue() > 0 ? work.assignments_overdue() - 1 : 0);
}

// The assignment no longer waits for a version (submitted, approved,
// withdrawn): its nudges go and it is no longer counted overdue.
Status stop_waiting(storage::CommitContext& ctx, v1::AssignmentRecord& rec, v1::MentorshipWorkRecord* work) {
  drop_nudges(ctx, rec);
  if (!rec.overdue_counted()) return Status::ok();
  if (work != nullptr) {
    uncount_overdue(*work, rec);
    return Status::ok();
  }
  auto loaded = load_work(ctx, rec.assignment().mentorship_id());
  if (!loaded) return loaded.status();
  uncount_overdue(*loaded, rec);
  save_work(ctx, rec.assignment().mentorship_id(), *loaded);
  return Status::ok();
}

// The server's nudges wait while a recipient is inside their quiet hours:
// the time the last of `users`' quiet hours around now ends, or nullopt
// when none is quiet. Never more than a day after `nudge_ms` (the time the
// nudge was for), so a nudge is held at most that long.
Result<std::optional<int64_t>> quiet_until(storage::CommitContext& ctx, const std::vector<uint64_t>& users,
                                           int64_t nudge_ms) {
  std::optional<int64_t> until;
  for (uint64_t user : users) {
    auto prefs = load_preferences(ctx, user);
    if (!prefs) return prefs.status();
    if (!prefs->has_value() || !(*prefs)->set()) continue;
    if (auto end = quiet_hours_end((*prefs)->preferences().quiet_hours(), ctx.now_ms())) {
      until = std::max(until.value_or(0), *end);
    }
  }
  if (until && *until > nudge_ms + kDayMs) return std::optional<int64_t>();
  return until;
}

// Handles one work_due entry of an assignment, on the committer thread:
// see the rules in assignments.h.
Status deliver(storage::CommitContext& ctx, const keys::WorkDue& entry) {
  const std::string key = entry.encode();
  auto still = ctx.get(Cf::kWorkDue, key);
  if (!still) return still.status();
  if (!still->has_value()) return Status::ok();  // handled already (an earlier pass)
  auto drop_entry = [&] { ctx.del(Cf::kWorkDue, key); };
  const v1::AssignmentNudgeKind kind = entry.kind == keys::WorkDue::kAssignmentDueSoon
                                           ? v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON
                                           : v1::ASSIGNMENT_NUDGE_KIND_OVERDUE;

  auto loaded = load<v1::AssignmentRecord>(ctx, Cf::kAssignments, id_key(entry.id));
  if (!loaded) return loaded.status();
  if (!loaded->has_value()) {
    drop_entry();
    return Status::ok();
  }
  v1::AssignmentRecord rec = std::move(**loaded);
  int index = -1;
  for (int i = 0; i < rec.nudges_size(); ++i) {
    if (rec.nudges(i).kind() == kind &&
        static_cast<uint64_t>(std::max<int64_t>(0, rec.nudges(i).due_ms())) == entry.due_ms) {
      index = i;
      break;
    }
  }
  if (index < 0) {  // not among the record's: left over, nothing to send
    drop_entry();
    return Status::ok();
  }
  // Removes the nudge from the record and the index.
  auto forget = [&] {
    drop_entry();
    rec.mutable_nudges()->DeleteSubrange(index, 1);
    save_record(ctx, rec);
  };
  const v1::Assignment& a = rec.assignment();
  if (!waits_for_version(a.state())) {
    forget();
    return Status::ok();
  }
  auto member = Membership::find(ctx, a.author_id(), a.mentorship_id());
  if (!member) return member.status();
  if (!member->has_value() || !(*member)->active()) {  // the mentorship ended: no more nudges
    forget();
    return Status::ok();
  }
  const int64_t now = ctx.now_ms();
  if (kind == v1::ASSIGNMENT_NUDGE_KIND_OVERDUE && !rec.overdue_counted()) {
    auto work = load_work(ctx, a.mentorship_id());
    if (!work) return work.status();
    count_overdue(*work, rec);
    save_work(ctx, a.mentorship_id(), *work);
  }
  if (kind == v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON && now >= a.due_ms()) {  // too late: overdue now
    forget();
    return Status::ok();
  }
  const int64_t nudge_ms = kind == v1::ASSIGNMENT_NUDGE_KIND_OVERDUE
                               ? a.due_ms()
                               : std::max(a.due_ms() - kDueSoonBeforeMs, a.created_ms());
  std::vector<uint64_t> to = {a.author_id()};
  if (kind == v1::ASSIGNMENT_NUDGE_KIND_OVERDUE) to.push_back(a.reviewer_id());
  auto quiet = quiet_until(ctx, to, nudge_ms);
  if (!quiet) return quiet.status();
  if (*quiet) {  // held until the recipients' quiet hours end
    drop_entry();
    rec.mutable_nudges(index)->set_due_ms(**quiet);
    ctx.put(Cf::kWorkDue, due_key(**quiet, kind, a.id()), "");
    save_record(ctx, rec);
    return Status::ok();
  }
  v1::Event e;
  e.mutable_assignment_nudge()->set_kind(kind);
  *e.mutable_assignment_nudge()->mutable_assignment() = a;
  ctx.append_event(std::move(e), to);
  forget();
  return Status::ok();
}

// ---- loading for a member ----

// Assignment `id` for one of its mentorship's two members (`need_active`:
// the mentorship must be active, for changes).
Result<v1::AssignmentRecord> load_for_member(storage::CommitContext& ctx, const v1::User& actor, uint64_t id,
                                             bool need_active) {
  if (oversees_program(actor)) return refuse_overseer();
  auto rec = load<v1::AssignmentRecord>(ctx, Cf::kAssignments, id_key(id));
  if (!rec) return rec.status();
  if (!rec->has_value()) return no_assignment(id);
  auto member = work_member(ctx, actor, (*rec)->assignment().mentorship_id(), need_active);
  if (!member) {
    if (member.status().code() == v1::ERROR_CODE_NOT_FOUND) return no_assignment(id);
    return member.status();
  }
  return std::move(**rec);
}

// Review `id` and its assignment, for a member of an active mentorship.
struct ReviewAndAssignment {
  v1::Review review;
  v1::AssignmentRecord rec;
};
Result<ReviewAndAssignment> load_review_for_member(storage::CommitContext& ctx, const v1::User& actor,
                                                   uint64_t id) {
  if (oversees_program(actor)) return refuse_overseer();
  auto review = load<v1::Review>(ctx, Cf::kReviews, id_key(id));
  if (!review) return review.status();
  if (!review->has_value()) return no_review(id);
  auto rec = load<v1::AssignmentRecord>(ctx, Cf::kAssignments, id_key((*review)->assignment_id()));
  if (!rec) return rec.status();
  if (!rec->has_value()) return no_review(id);
  auto member = work_member(ctx, actor, (*rec)->assignment().mentorship_id(), true);
  if (!member) {
    if (member.status().code() == v1::ERROR_CODE_NOT_FOUND) return no_review(id);
    return member.status();
  }
  return ReviewAndAssignment{std::move(**review), std::move(**rec)};
}

// The comment `comment_id` of `review` (ids are 1, 2, ... in order).
Result<v1::ReviewComment*> find_comment(v1::Review& review, uint32_t comment_id) {
  if (comment_id == 0 || comment_id > static_cast<uint32_t>(review.comments_size())) {
    return not_found(
        "Review " + std::to_string(review.id()) + " has no comment " + std::to_string(comment_id) + ".",
        "comment_id");
  }
  return review.mutable_comments(static_cast<int>(comment_id - 1));
}

Status check_comment(const v1::NewComment& c, uint32_t reviewed_version, const std::string& field) {
  const v1::CommentAnchor& anchor = c.anchor();
  if (anchor.version() == 0 || anchor.version() > reviewed_version) {
    return invalid_argument("Anchor each comment to a version from 1 to the reviewed one (" +
                                std::to_string(reviewed_version) + ").",
                            field + ".anchor.version");
  }
  if (anchor.page() == 0 && anchor.quote().empty()) {
    return invalid_argument("Anchor each comment to a page, a quoted passage, or both.", field + ".anchor");
  }
  PRECEPTOR_RETURN_IF_ERROR(
      check_long_text(anchor.quote(), kMaxQuoteBytes, field + ".anchor.quote", "quoted passage", false));
  return check_long_text(c.text(), kMaxCommentTextBytes, field + ".text", "comment", true);
}

// Each page of a listing holds at least one item, then stops before the
// item that would take it past kMaxPageBytes.
bool page_full(int items, size_t bytes, size_t next) { return items > 0 && bytes + next > kMaxPageBytes; }

}  // namespace

void Assignments::create(const v1::User& actor, const v1::CreateAssignment& req,
                         Done<v1::CreateAssignmentResult> done) {
  if (oversees_program(actor)) return done(refuse_overseer());
  if (Status st = check_text(req.title(), "title", "title", true); !st) return done(st);
  if (Status st =
          check_long_text(req.instructions(), kMaxInstructionsBytes, "instructions", "instructions", false);
      !st)
    return done(st);
  if (!v1::AssignmentKind_IsValid(req.kind())) {
    return done(
        invalid_argument("Choose the kind of work: CV, study protocol, abstract, personal statement or "
                         "other.",
                         "kind"));
  }
  if (req.due_ms() < 0)
    return done(invalid_argument("due_ms is a UTC time in milliseconds, or 0 for none.", "due_ms"));
  if (req.due_ms() != 0) {
    if (Status st = check_time_zone(req.time_zone()); !st) return done(st);
  }
  commit_with_result<v1::CreateAssignmentResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::CreateAssignmentResult& out) -> Status {
        auto member = work_member(ctx, actor, req.mentorship_id(), true);
        if (!member) return member.status();
        const int64_t now = ctx.now_ms();
        if (req.due_ms() != 0 && req.due_ms() <= now) {
          return invalid_argument("The due time has already passed; choose one ahead.", "due_ms");
        }
        if (req.due_ms() > now + kMaxDueAheadMs) {
          return invalid_argument("A due time is at most two years ahead.", "due_ms");
        }
        if (req.goal_id() != 0) {
          auto goal = load<v1::GoalRecord>(ctx, Cf::kGoals, id_key(req.goal_id()));
          if (!goal) return goal.status();
          if (!goal->has_value() || (*goal)->goal().mentorship_id() != member->mentorship_id) {
            return not_found("No goal " + std::to_string(req.goal_id()) + " in this mentorship.", "goal_id");
          }
        }
        auto work = load_work(ctx, member->mentorship_id);
        if (!work) return work.status();
        if (work->assignments_open() >= kMaxOpenAssignments) {
          return exhausted("This mentorship has " + std::to_string(work->assignments_open()) +
                           " open assignments, the most it may have; approve or withdraw one first.");
        }
        const bool mentor = member->role == Membership::Role::kMentor;
        v1::AssignmentRecord rec;
        v1::Assignment& a = *rec.mutable_assignment();
        a.set_id(ctx.next_id("assignment"));
        a.set_mentorship_id(member->mentorship_id);
        a.set_created_by(actor.id());
        a.set_author_id(mentor ? member->counterpart_id : actor.id());
        a.set_reviewer_id(mentor ? actor.id() : member->counterpart_id);
        a.set_title(req.title());
        a.set_instructions(req.instructions());
        a.set_kind(req.kind() == v1::ASSIGNMENT_KIND_UNSPECIFIED ? v1::ASSIGNMENT_KIND_OTHER : req.kind());
        a.set_due_ms(req.due_ms());
        if (req.due_ms() != 0) a.set_time_zone(req.time_zone());
        a.set_goal_id(req.goal_id());
        // A mentee's own assignment needs no acknowledgement.
        a.set_state(mentor ? v1::ASSIGNMENT_STATE_ASSIGNED : v1::ASSIGNMENT_STATE_ACKNOWLEDGED);
        a.set_revision(1);
        a.set_created_ms(now);
        a.set_updated_ms(now);
        schedule_nudges(ctx, rec, true);
        work->set_assignments_total(work->assignments_total() + 1);
        work->set_assignments_open(work->assignments_open() + 1);
        save_work(ctx, a.mentorship_id(), *work);
        save_record(ctx, rec);
        ctx.put(Cf::kMentorshipAssignments, pair_key(a.mentorship_id(), a.id()), "");
        emit_assignment(ctx, v1::ASSIGNMENT_CHANGE_CREATED, a, actor.id());
        *out.mutable_assignment() = a;
        return Status::ok();
      },
      std::move(done));
}

void Assignments::acknowledge(const v1::User& actor, const v1::AcknowledgeAssignment& req,
                              Done<v1::AcknowledgeAssignmentResult> done) {
  const uint64_t id = req.assignment_id();
  commit_with_result<v1::AcknowledgeAssignmentResult>(
      committer_,
      [actor, id](storage::CommitContext& ctx, v1::AcknowledgeAssignmentResult& out) -> Status {
        auto rec = load_for_member(ctx, actor, id, true);
        if (!rec) return rec.status();
        v1::Assignment& a = *rec->mutable_assignment();
        if (actor.id() != a.author_id()) {
          return permission_denied("Only the mentee acknowledges an assignment handed to them.");
        }
        if (a.state() != v1::ASSIGNMENT_STATE_ASSIGNED)
          return not_from(a, moves_to(v1::ASSIGNMENT_STATE_ACKNOWLEDGED));
        a.set_state(v1::ASSIGNMENT_STATE_ACKNOWLEDGED);
        touch(a, ctx.now_ms());
        save_record(ctx, *rec);
        emit_assignment(ctx, v1::ASSIGNMENT_CHANGE_ACKNOWLEDGED, a, actor.id());
        *out.mutable_assignment() = a;
        return Status::ok();
      },
      std::move(done));
}

void Assignments::submit(const v1::User& actor, const v1::SubmitVersion& req,
                         Done<v1::SubmitVersionResult> done) {
  if (Status st = check_long_text(req.note(), kMaxVersionNoteBytes, "note", "note", false); !st)
    return done(st);
  if (req.document_id() == 0) {
    return done(invalid_argument("Upload the document first, then submit it by its id.", "document_id"));
  }
  commit_with_result<v1::SubmitVersionResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::SubmitVersionResult& out) -> Status {
        auto rec = load_for_member(ctx, actor, req.assignment_id(), true);
        if (!rec) return rec.status();
        v1::Assignment& a = *rec->mutable_assignment();
        if (actor.id() != a.author_id()) {
          return permission_denied(
              "Only the mentee submits versions of an assignment; the mentor reviews them.");
        }
        if (req.revision() != 0 && req.revision() != a.revision()) {
          return Status(v1::ERROR_CODE_ABORTED,
                        "The assignment changed since you saw it (revision " +
                            std::to_string(req.revision()) + ", now " + std::to_string(a.revision()) +
                            "); look at it again before submitting.",
                        "revision");
        }
        v1::AssignmentState next = v1::ASSIGNMENT_STATE_RESUBMITTED;
        switch (a.state()) {
          case v1::ASSIGNMENT_STATE_ASSIGNED:
          case v1::ASSIGNMENT_STATE_ACKNOWLEDGED:
            next = v1::ASSIGNMENT_STATE_SUBMITTED;
            break;
          case v1::ASSIGNMENT_STATE_CHANGES_REQUESTED:
            break;
          case v1::ASSIGNMENT_STATE_SUBMITTED:
          case v1::ASSIGNMENT_STATE_RESUBMITTED:
            if (rec->reviewed_version() >= a.version_count()) {
              return not_from(a, moves_to(v1::ASSIGNMENT_STATE_RESUBMITTED),
                              "Version " + std::to_string(a.version_count()) +
                                  " has a review; a new version follows a request for changes.");
            }
            break;
          default:
            return not_from(a, moves_to(v1::ASSIGNMENT_STATE_SUBMITTED));
        }
        if (a.version_count() >= kMaxVersionsPerAssignment) {
          return exhausted("Assignment " + std::to_string(a.id()) + " has " +
                               std::to_string(a.version_count()) + " versions, the most it may have.",
                           "assignment_id");
        }
        const uint32_t version = a.version_count() + 1;
        auto document =
            claim_document(ctx, req.document_id(), a.mentorship_id(), actor.id(), a.id(), version);
        if (!document) return document.status();
        const int64_t now = ctx.now_ms();
        v1::AssignmentVersion v;
        v.set_assignment_id(a.id());
        v.set_version(version);
        *v.mutable_document() = std::move(*document);
        v.set_note(req.note());
        v.set_submitted_by(actor.id());
        v.set_submitted_ms(now);
        save(ctx, Cf::kAssignmentVersions, pair_key(a.id(), version), v);
        a.set_state(next);
        a.set_version_count(version);
        touch(a, now);
        PRECEPTOR_RETURN_IF_ERROR(stop_waiting(ctx, *rec, nullptr));
        save_record(ctx, *rec);
        emit_assignment(ctx, v1::ASSIGNMENT_CHANGE_SUBMITTED, a, actor.id(), &v);
        *out.mutable_assignment() = a;
        *out.mutable_version() = std::move(v);
        return Status::ok();
      },
      std::move(done));
}

void Assignments::review(const v1::User& actor, const v1::ReviewVersion& req,
                         Done<v1::ReviewVersionResult> done) {
  const v1::ReviewVerdict verdict = req.verdict();
  if (verdict != v1::REVIEW_VERDICT_CHANGES_REQUESTED && verdict != v1::REVIEW_VERDICT_APPROVED &&
      verdict != v1::REVIEW_VERDICT_COMMENT_ONLY) {
    return done(invalid_argument("Give a verdict: changes requested, approved, or comment only.", "verdict"));
  }
  if (req.version() == 0)
    return done(invalid_argument("Say which version you review (the latest).", "version"));
  if (Status st = check_long_text(req.summary(), kMaxReviewSummaryBytes, "summary", "summary", false); !st)
    return done(st);
  if (static_cast<size_t>(req.comments_size()) > kMaxCommentsPerReview) {
    return done(invalid_argument("A review has at most " + std::to_string(kMaxCommentsPerReview) +
                                     " comments; this one has " + std::to_string(req.comments_size()) + ".",
                                 "comments"));
  }
  for (int i = 0; i < req.comments_size(); ++i) {
    if (Status st = check_comment(req.comments(i), req.version(), "comments[" + std::to_string(i) + "]"); !st)
      return done(st);
  }
  if (verdict != v1::REVIEW_VERDICT_APPROVED && req.comments_size() == 0 && blank_lines(req.summary())) {
    return done(invalid_argument("Say what to change or what you think: a summary or at least one comment.",
                                 "summary"));
  }
  commit_with_result<v1::ReviewVersionResult>(
      committer_,
      [actor, req, verdict](storage::CommitContext& ctx, v1::ReviewVersionResult& out) -> Status {
        auto rec = load_for_member(ctx, actor, req.assignment_id(), true);
        if (!rec) return rec.status();
        v1::Assignment& a = *rec->mutable_assignment();
        if (actor.id() == a.author_id()) {
          return permission_denied(
              "You submitted this work; a review of one's own submission is not possible: the mentor reviews "
              "it.");
        }
        if (a.state() != v1::ASSIGNMENT_STATE_SUBMITTED && a.state() != v1::ASSIGNMENT_STATE_RESUBMITTED) {
          const std::string change = verdict == v1::REVIEW_VERDICT_CHANGES_REQUESTED
                                         ? moves_to(v1::ASSIGNMENT_STATE_CHANGES_REQUESTED)
                                     : verdict == v1::REVIEW_VERDICT_APPROVED
                                         ? moves_to(v1::ASSIGNMENT_STATE_APPROVED)
                                         : "be reviewed";
          return not_from(a, change, "A review is of a submitted version.");
        }
        if (req.version() > a.version_count()) {
          return invalid_argument("Assignment " + std::to_string(a.id()) + " has no version " +
                                      std::to_string(req.version()) + "; the latest is " +
                                      std::to_string(a.version_count()) + ".",
                                  "version");
        }
        if (req.version() < a.version_count()) {
          return Status(v1::ERROR_CODE_ABORTED,
                        "Version " + std::to_string(a.version_count()) +
                            " has been submitted since version " + std::to_string(req.version()) +
                            "; review the latest.",
                        "version");
        }
        if (a.review_count() >= kMaxReviewsPerAssignment) {
          return exhausted("Assignment " + std::to_string(a.id()) + " has " +
                               std::to_string(a.review_count()) + " reviews, the most it may have.",
                           "assignment_id");
        }
        const int64_t now = ctx.now_ms();
        v1::Review review;
        review.set_id(ctx.next_id("review"));
        review.set_assignment_id(a.id());
        review.set_version(req.version());
        review.set_reviewer_id(actor.id());
        review.set_verdict(verdict);
        review.set_summary(req.summary());
        for (int i = 0; i < req.comments_size(); ++i) {
          v1::ReviewComment* c = review.add_comments();
          c->set_id(static_cast<uint32_t>(i + 1));
          *c->mutable_anchor() = req.comments(i).anchor();
          c->set_text(req.comments(i).text());
        }
        review.set_created_ms(now);
        if (review.ByteSizeLong() > kMaxReviewBytes) {
          return invalid_argument("The review is too large (at most " +
                                      std::to_string(kMaxReviewBytes / 1024) +
                                      " KiB with its comments); split it into two.",
                                  "comments");
        }
        save(ctx, Cf::kReviews, id_key(review.id()), review);
        ctx.put(Cf::kAssignmentReviews, pair_key(a.id(), review.id()), "");
        rec->set_latest_review_id(review.id());
        rec->set_reviewed_version(req.version());
        a.set_review_count(a.review_count() + 1);
        touch(a, now);
        if (verdict == v1::REVIEW_VERDICT_CHANGES_REQUESTED) {
          a.set_state(v1::ASSIGNMENT_STATE_CHANGES_REQUESTED);
          schedule_nudges(ctx, *rec, false);
          if (a.due_ms() != 0 && a.due_ms() <= now) {  // waiting again, past the due time
            auto work = load_work(ctx, a.mentorship_id());
            if (!work) return work.status();
            count_overdue(*work, *rec);
            save_work(ctx, a.mentorship_id(), *work);
          }
        } else if (verdict == v1::REVIEW_VERDICT_APPROVED) {
          a.set_state(v1::ASSIGNMENT_STATE_APPROVED);
          a.set_approved_ms(now);
          a.set_approved_version(req.version());
          auto work = load_work(ctx, a.mentorship_id());
          if (!work) return work.status();
          work->set_assignments_open(work->assignments_open() > 0 ? work->assignments_open() - 1 : 0);
          work->set_assignments_approved(work->assignments_approved() + 1);
          PRECEPTOR_RETURN_IF_ERROR(stop_waiting(ctx, *rec, &*work));
          save_work(ctx, a.mentorship_id(), *work);
        }
        save_record(ctx, *rec);
        emit_assignment(ctx, v1::ASSIGNMENT_CHANGE_REVIEWED, a, actor.id());
        emit_review(ctx, v1::REVIEW_CHANGE_POSTED, a, review, actor.id());
        *out.mutable_assignment() = a;
        *out.mutable_review() = std::move(review);
        return Status::ok();
      },
      std::move(done));
}

void Assignments::reply(const v1::User& actor, const v1::ReplyToComment& req,
                        Done<v1::ReplyToCommentResult> done) {
  if (Status st = check_long_text(req.text(), kMaxCommentTextBytes, "text", "reply", true); !st)
    return done(st);
  commit_with_result<v1::ReplyToCommentResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::ReplyToCommentResult& out) -> Status {
        auto loaded = load_review_for_member(ctx, actor, req.review_id());
        if (!loaded) return loaded.status();
        v1::Review& review = loaded->review;
        const v1::Assignment& a = loaded->rec.assignment();
        if (a.state() == v1::ASSIGNMENT_STATE_WITHDRAWN) {
          return failed_precondition(
              "Assignment " + std::to_string(a.id()) +
              " was withdrawn; its reviews are kept as they are and take no more replies.");
        }
        auto comment = find_comment(review, req.comment_id());
        if (!comment) return comment.status();
        v1::ReviewComment& c = **comment;
        // Versions are always the mentee's: the author of the reviewed version.
        if (actor.id() != a.author_id()) {
          const bool author_replied =
              std::any_of(c.replies().begin(), c.replies().end(),
                          [&](const v1::CommentReply& r) { return r.by() == a.author_id(); });
          if (!author_replied) {
            return failed_precondition(
                "The reviewer answers back once the author has replied to the comment; to add a point, post "
                "a "
                "comment-only review.");
          }
        }
        if (static_cast<size_t>(c.replies_size()) >= kMaxRepliesPerComment) {
          return exhausted("Comment " + std::to_string(c.id()) + " has " + std::to_string(c.replies_size()) +
                               " replies, the most it may have.",
                           "comment_id");
        }
        v1::CommentReply* r = c.add_replies();
        r->set_by(actor.id());
        r->set_text(req.text());
        r->set_at_ms(ctx.now_ms());
        if (review.ByteSizeLong() > kMaxReviewBytes) {
          return exhausted("Review " + std::to_string(review.id()) + " has reached " +
                               std::to_string(kMaxReviewBytes / 1024) +
                               " KiB with its replies, the most it may hold; carry on in the conversation.",
                           "review_id");
        }
        save(ctx, Cf::kReviews, id_key(review.id()), review);
        emit_review(ctx, v1::REVIEW_CHANGE_REPLIED, a, review, actor.id(), req.comment_id());
        *out.mutable_review() = std::move(review);
        return Status::ok();
      },
      std::move(done));
}

void Assignments::resolve(const v1::User& actor, const v1::ResolveComment& req,
                          Done<v1::ResolveCommentResult> done) {
  commit_with_result<v1::ResolveCommentResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::ResolveCommentResult& out) -> Status {
        auto loaded = load_review_for_member(ctx, actor, req.review_id());
        if (!loaded) return loaded.status();
        v1::Review& review = loaded->review;
        const v1::Assignment& a = loaded->rec.assignment();
        if (actor.id() != a.author_id()) {
          return permission_denied("Only the author of the reviewed version marks its comments resolved.");
        }
        if (a.state() == v1::ASSIGNMENT_STATE_WITHDRAWN) {
          return failed_precondition("Assignment " + std::to_string(a.id()) +
                                     " was withdrawn; its reviews are kept as they are.");
        }
        auto comment = find_comment(review, req.comment_id());
        if (!comment) return comment.status();
        v1::ReviewComment& c = **comment;
        if (c.resolved() != req.resolved()) {  // the same mark again changes nothing
          c.set_resolved(req.resolved());
          if (req.resolved()) {
            c.set_resolved_by(actor.id());
            c.set_resolved_ms(ctx.now_ms());
          } else {
            c.clear_resolved_by();
            c.clear_resolved_ms();
          }
          save(ctx, Cf::kReviews, id_key(review.id()), review);
          emit_review(ctx, req.resolved() ? v1::REVIEW_CHANGE_RESOLVED : v1::REVIEW_CHANGE_UNRESOLVED, a,
                      review, actor.id(), req.comment_id());
        }
        *out.mutable_review() = std::move(review);
        return Status::ok();
      },
      std::move(done));
}

void Assignments::withdraw(const v1::User& actor, const v1::WithdrawAssignment& req,
                           Done<v1::WithdrawAssignmentResult> done) {
  if (Status st = check_long_text(req.reason(), kMaxWithdrawReasonBytes, "reason", "reason", true); !st)
    return done(st);
  commit_with_result<v1::WithdrawAssignmentResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::WithdrawAssignmentResult& out) -> Status {
        auto rec = load_for_member(ctx, actor, req.assignment_id(), true);
        if (!rec) return rec.status();
        v1::Assignment& a = *rec->mutable_assignment();
        if (!is_open(a.state())) return not_from(a, moves_to(v1::ASSIGNMENT_STATE_WITHDRAWN));
        a.set_state(v1::ASSIGNMENT_STATE_WITHDRAWN);
        a.set_withdraw_reason(req.reason());
        touch(a, ctx.now_ms());
        auto work = load_work(ctx, a.mentorship_id());
        if (!work) return work.status();
        work->set_assignments_open(work->assignments_open() > 0 ? work->assignments_open() - 1 : 0);
        PRECEPTOR_RETURN_IF_ERROR(stop_waiting(ctx, *rec, &*work));
        save_work(ctx, a.mentorship_id(), *work);
        save_record(ctx, *rec);
        emit_assignment(ctx, v1::ASSIGNMENT_CHANGE_WITHDRAWN, a, actor.id());
        *out.mutable_assignment() = a;
        return Status::ok();
      },
      std::move(done));
}

Result<v1::ListAssignmentsResult> Assignments::list(const v1::User& actor,
                                                    const v1::ListAssignments& req) const {
  if (oversees_program(actor)) return refuse_overseer();
  if (req.limit() > kMaxAssignmentsPage) {
    return invalid_argument(
        "limit may be at most " + std::to_string(kMaxAssignmentsPage) + " assignments a page.", "limit");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultAssignmentsPage : req.limit();
  auto member = work_member(membership_, actor, req.mentorship_id(), false);
  if (!member) return member.status();
  const uint64_t mentorship_id = req.mentorship_id();
  // The ids below before_id, read forward (keys only), handed out newest first.
  std::vector<uint64_t> ids;
  const std::string begin = pair_key(mentorship_id, 0);
  const std::string end = req.before_id() == 0 ? keys::prefix_end(keys::PairKey::prefix(mentorship_id))
                                               : pair_key(mentorship_id, req.before_id());
  Status inner;
  auto scanned = store_.scan(
      Cf::kMentorshipAssignments, {.begin = begin, .end = end}, [&](std::string_view key, std::string_view) {
        auto k = keys::PairKey::decode(key);
        if (!k) {
          inner = data_loss("A stored index entry of mentorship_assignments is damaged.");
          return false;
        }
        ids.push_back(k->child);
        return true;
      });
  if (!scanned) return scanned.status();
  if (!inner) return inner;
  v1::ListAssignmentsResult out;
  size_t bytes = 0;
  constexpr size_t kBatch = 64;
  for (size_t taken = 0; taken < ids.size();) {
    std::vector<std::string> batch;
    for (size_t i = 0; i < kBatch && taken + i < ids.size(); ++i) {
      batch.push_back(id_key(ids[ids.size() - 1 - (taken + i)]));
    }
    taken += batch.size();
    auto got = store_.multi_get(Cf::kAssignments, batch);
    if (!got) return got.status();
    for (const std::optional<std::string>& raw : *got) {
      if (!raw) continue;  // an index entry a concurrent write is adding
      v1::AssignmentRecord rec;
      if (!rec.ParseFromString(*raw)) return data_loss("A stored assignment is damaged.");
      if (!req.include_closed() && !is_open(rec.assignment().state())) continue;
      const size_t size = rec.assignment().ByteSizeLong();
      if (static_cast<uint32_t>(out.assignments_size()) == limit ||
          page_full(out.assignments_size(), bytes, size)) {
        out.set_has_more(true);
        return out;
      }
      bytes += size;
      *out.add_assignments() = std::move(*rec.mutable_assignment());
    }
  }
  return out;
}

Result<v1::GetAssignmentResult> Assignments::get(const v1::User& actor, const v1::GetAssignment& req) const {
  if (oversees_program(actor)) return refuse_overseer();
  if (req.review_limit() > kMaxReviewsPage) {
    return invalid_argument(
        "review_limit may be at most " + std::to_string(kMaxReviewsPage) + " reviews a page.",
        "review_limit");
  }
  const uint32_t limit = req.review_limit() == 0 ? kDefaultReviewsPage : req.review_limit();
  const uint64_t id = req.assignment_id();
  auto rec = load<v1::AssignmentRecord>(store_, Cf::kAssignments, id_key(id));
  if (!rec) return rec.status();
  if (!rec->has_value()) return no_assignment(id);
  auto member = work_member(membership_, actor, (*rec)->assignment().mentorship_id(), false);
  if (!member) {
    if (member.status().code() == v1::ERROR_CODE_NOT_FOUND) return no_assignment(id);
    return member.status();
  }
  v1::GetAssignmentResult out;
  *out.mutable_assignment() = std::move(*(*rec)->mutable_assignment());
  Status inner;
  auto versions = store_.scan_prefix(
      Cf::kAssignmentVersions, keys::PairKey::prefix(id),
      [&](std::string_view, std::string_view value) {
        if (!out.add_versions()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = data_loss("A stored assignment version is damaged.");
          return false;
        }
        return true;
      },
      {.max_entries = kMaxVersionsPerAssignment});
  if (!versions) return versions.status();
  if (!inner) return inner;
  // Review ids below reviews_before_id, read forward, handed out newest first.
  std::vector<uint64_t> review_ids;
  const std::string begin = pair_key(id, 0);
  const std::string end = req.reviews_before_id() == 0 ? keys::prefix_end(keys::PairKey::prefix(id))
                                                       : pair_key(id, req.reviews_before_id());
  auto scanned = store_.scan(Cf::kAssignmentReviews, {.begin = begin, .end = end},
                             [&](std::string_view key, std::string_view) {
                               auto k = keys::PairKey::decode(key);
                               if (!k) {
                                 inner = data_loss("A stored index entry of assignment_reviews is damaged.");
                                 return false;
                               }
                               review_ids.push_back(k->child);
                               return true;
                             });
  if (!scanned) return scanned.status();
  if (!inner) return inner;
  size_t bytes = 0;
  for (auto it = review_ids.rbegin(); it != review_ids.rend(); ++it) {
    auto review = load<v1::Review>(store_, Cf::kReviews, id_key(*it));
    if (!review) return review.status();
    if (!review->has_value()) continue;  // an index entry a concurrent write is adding
    const size_t size = (*review)->ByteSizeLong();
    if (static_cast<uint32_t>(out.reviews_size()) == limit || page_full(out.reviews_size(), bytes, size)) {
      out.set_more_reviews(true);
      break;
    }
    bytes += size;
    *out.add_reviews() = std::move(**review);
  }
  return out;
}

size_t Assignments::run_timed_work() {
  const int64_t now = std::max<int64_t>(0, clock_.now_ms());
  std::vector<keys::WorkDue> due;
  const std::string end =
      keys::WorkDue{.due_ms = static_cast<uint64_t>(now) + 1, .kind = 0, .id = 0}.encode();
  // work_due is shared with the goals and documents modules: their kinds
  // are passed over (each module handles its own).
  auto scanned = store_.scan(Cf::kWorkDue, {.end = end}, [&](std::string_view key, std::string_view) {
    auto entry = keys::WorkDue::decode(key);
    if (!entry) return true;
    if (entry->kind != keys::WorkDue::kAssignmentDueSoon && entry->kind != keys::WorkDue::kAssignmentOverdue)
      return true;
    due.push_back(*entry);
    return due.size() < kMaxNudgesPerPass;
  });
  if (!scanned) return 0;  // logged by the store; the next pass tries again
  // At most kMaxNudgesInFlight wait in the committer at once (BoundedSubmitter).
  BoundedSubmitter submitter(committer_, kMaxNudgesInFlight);
  for (const keys::WorkDue& entry : due) {
    submitter.submit([entry](storage::CommitContext& ctx) { return deliver(ctx, entry); });
  }
  submitter.wait_all();
  return due.size();
}

}  // namespace preceptor::services
