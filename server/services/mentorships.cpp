#include "server/services/mentorships.h"

#include <algorithm>
#include <cctype>
#include <latch>
#include <limits>

#include "server/services/goals.h"
#include "server/services/indexes.h"
#include "server/services/meeting_book.h"
#include "server/services/membership.h"
#include "server/services/record_io.h"
#include "server/services/reminders.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;
constexpr size_t kMaxNoteBytes = 2000;
constexpr uint32_t kDefaultCapacity = 3;
constexpr uint32_t kMaxCapacity = 100;
// Pages of ListMentors and ListMentorships (besides kMaxPageBytes).
constexpr uint32_t kDefaultListPage = 100;
constexpr uint32_t kMaxListPage = 200;
// Mentors (listed or hidden) one directory page looks at, at most.
constexpr size_t kMaxMentorsExaminedPerPage = 2000;
// Due entries one scheduler pass takes on, at most; the rest wait for the next.
constexpr size_t kMaxTimedWorkPerRun = 10000;
// Each value at most once: five purposes, four channels.
constexpr int kMaxPurposes = v1::PURPOSE_OTHER - v1::PURPOSE_CLINICAL_SKILLS + 1;
constexpr int kMaxChannels = v1::CHANNEL_IN_PERSON - v1::CHANNEL_CHAT + 1;

// `values` without repeats, in first-seen order.
google::protobuf::RepeatedField<int> distinct(const google::protobuf::RepeatedField<int>& values) {
  google::protobuf::RepeatedField<int> out;
  for (int v : values) {
    if (std::find(out.begin(), out.end(), v) == out.end()) out.Add(v);
  }
  return out;
}

std::string purpose_name(v1::Purpose p) {
  switch (p) {
    case v1::PURPOSE_CLINICAL_SKILLS:
      return "clinical skills";
    case v1::PURPOSE_CAREER:
      return "career";
    case v1::PURPOSE_RESEARCH:
      return "research";
    case v1::PURPOSE_WELLBEING:
      return "wellbeing";
    case v1::PURPOSE_OTHER:
      return "other";
    default:
      return "unspecified";
  }
}

bool valid_purpose(int p) { return p >= v1::PURPOSE_CLINICAL_SKILLS && p <= v1::PURPOSE_OTHER; }

v1::MentorProfile default_profile() {
  v1::MentorProfile p;
  p.set_accepting_requests(true);
  p.set_capacity(kDefaultCapacity);
  for (int i = v1::PURPOSE_CLINICAL_SKILLS; i <= v1::PURPOSE_OTHER; ++i)
    p.add_purposes(static_cast<v1::Purpose>(i));
  return p;
}

template <class Ctx>
Result<v1::MentorProfile> load_profile(Ctx& source, uint64_t mentor_id) {
  auto rec = load<v1::MentorProfileRecord>(source, Cf::kMentorProfiles,
                                           keys::MentorProfile{.mentor_id = mentor_id}.encode());
  if (!rec) return rec.status();
  if (!rec->has_value()) return default_profile();
  // A profile stored before requests were copied field by field may carry more.
  v1::MentorProfile profile = std::move(*(*rec)->mutable_profile());
  profile.DiscardUnknownFields();
  *profile.mutable_purposes() = distinct(profile.purposes());
  return profile;
}

void save_profile(storage::CommitContext& ctx, uint64_t mentor_id, const v1::MentorProfile& profile) {
  v1::MentorProfileRecord rec;
  *rec.mutable_profile() = profile;
  save(ctx, Cf::kMentorProfiles, keys::MentorProfile{.mentor_id = mentor_id}.encode(), rec);
}

// A mentor as the directory shows them: an enabled mentor account that is
// accepting requests. nullopt for every other id (no such user, not a
// mentor, disabled, not accepting), which callers answer alike, so that ids
// reveal nothing about hidden mentors.
struct ListedMentor {
  v1::User user;
  v1::MentorProfile profile;
};
Result<std::optional<ListedMentor>> listed_mentor(storage::CommitContext& ctx, uint64_t id) {
  if (id == 0) return std::optional<ListedMentor>();
  auto rec = load<v1::UserRecord>(ctx, Cf::kUsers, keys::User{.user_id = id}.encode());
  if (!rec) return rec.status();
  if (!rec->has_value() || (*rec)->disabled() || (*rec)->user().role() != v1::ROLE_MENTOR)
    return std::optional<ListedMentor>();
  auto profile = load_profile(ctx, id);
  if (!profile) return profile.status();
  if (!profile->accepting_requests()) return std::optional<ListedMentor>();
  return std::optional<ListedMentor>(ListedMentor{std::move(*(*rec)->mutable_user()), std::move(*profile)});
}

// The one answer for an id that is not a listed mentor (see listed_mentor).
Status no_listed_mentor(uint64_t id, const std::string& field) {
  return not_found("No mentor with id " + std::to_string(id) + " in the directory.", field);
}

bool offers(const v1::MentorProfile& profile, v1::Purpose purpose) {
  return std::find(profile.purposes().begin(), profile.purposes().end(), purpose) != profile.purposes().end();
}

// A mentorship as program directors and admins see it: engagement, never
// content (the request note, the decline reason).
v1::Mentorship without_content(v1::Mentorship m) {
  m.clear_request_note();
  m.clear_decline_reason();
  return m;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void emit(storage::CommitContext& ctx, v1::MentorshipChange change, const v1::Mentorship& m, uint64_t actor) {
  v1::Event e;
  auto* changed = e.mutable_mentorship_changed();
  changed->set_change(change);
  *changed->mutable_mentorship() = m;
  changed->set_actor_id(actor);
  ctx.append_event(std::move(e), {m.mentor_id(), m.mentee_id()});
}

std::string mentorship_key(uint64_t id) { return keys::Mentorship{.mentorship_id = id}.encode(); }

std::string conversation_key(uint64_t id) { return keys::Conversation{.conversation_id = id}.encode(); }

// The open_pairs key of `m`'s mentee, mentor and purpose.
std::string open_pair_key(const v1::Mentorship& m) {
  return keys::OpenPair{
      .mentee_id = m.mentee_id(), .mentor_id = m.mentor_id(), .purpose = static_cast<uint64_t>(m.purpose())}
      .encode();
}

// Loads a mentorship the actor belongs to (see the class comment for codes).
Result<v1::MentorshipRecord> load_for_member(storage::CommitContext& ctx, const v1::User& actor,
                                             uint64_t id) {
  auto rec = load<v1::MentorshipRecord>(ctx, Cf::kMentorships, mentorship_key(id));
  if (!rec) return rec.status();
  const bool member = rec->has_value() && ((*rec)->mentorship().mentor_id() == actor.id() ||
                                           (*rec)->mentorship().mentee_id() == actor.id());
  if (member) return std::move(**rec);
  if (oversees_program(actor) && rec->has_value()) {
    return permission_denied(
        "Program directors see mentorships and their engagement; only the mentor and the "
        "mentee can change one.");
  }
  return not_found("No mentorship " + std::to_string(id) + " among yours.", "mentorship_id");
}

// Lists a new mentorship under both members and marks its pair open.
void index_new(storage::CommitContext& ctx, const v1::Mentorship& m) {
  ctx.put(Cf::kUserMentorships,
          keys::UserMentorship{.user_id = m.mentee_id(), .mentorship_id = m.id()}.encode(), "");
  ctx.put(Cf::kUserMentorships,
          keys::UserMentorship{.user_id = m.mentor_id(), .mentorship_id = m.id()}.encode(), "");
  ctx.put(Cf::kOpenPairs, open_pair_key(m), storage::encode_u64(m.id()));
}

Status adjust_active(storage::CommitContext& ctx, uint64_t mentor_id, int delta) {
  auto profile = load_profile(ctx, mentor_id);
  if (!profile) return profile.status();
  int64_t n = static_cast<int64_t>(profile->active_mentorships()) + delta;
  profile->set_active_mentorships(static_cast<uint32_t>(std::max<int64_t>(0, n)));
  save_profile(ctx, mentor_id, *profile);
  return Status::ok();
}

// The server's own nudges (a request waiting, a check-in due) wait while a
// recipient is inside their quiet hours: the time the last of `users`'
// quiet hours around `now_ms` ends, or nullopt when none is quiet. Never
// later than a day after `due_ms`, so a nudge is held at most that long
// (two members' quiet hours could otherwise cover every hour).
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

}  // namespace

int64_t cadence_ms(v1::Cadence cadence) {
  switch (cadence) {
    case v1::CADENCE_WEEKLY:
      return 7 * kDayMs;
    case v1::CADENCE_BIWEEKLY:
      return 14 * kDayMs;
    case v1::CADENCE_MONTHLY:
      return 30 * kDayMs;
    default:
      return 0;
  }
}

Mentorships::Mentorships(storage::Store& store, storage::Committer& committer, Accounts& accounts,
                         const Clock& clock)
    : store_(store), committer_(committer), accounts_(accounts), clock_(clock) {}

void Mentorships::update_profile(const v1::User& actor, const v1::UpdateMentorProfile& req,
                                 Done<v1::MentorProfile> done) {
  if (actor.role() != v1::ROLE_MENTOR) return done(permission_denied("Only mentors have a mentor profile."));
  const auto& p = req.profile();
  if (p.capacity() > kMaxCapacity) {
    return done(invalid_argument("Capacity may be at most " + std::to_string(kMaxCapacity) + " mentorships.",
                                 "profile.capacity"));
  }
  if (p.purposes_size() > kMaxPurposes) {
    return done(invalid_argument("A profile lists at most " + std::to_string(kMaxPurposes) +
                                     " purposes, each once; this one lists " +
                                     std::to_string(p.purposes_size()) + ".",
                                 "profile.purposes"));
  }
  for (int purpose : p.purposes()) {
    if (!valid_purpose(purpose))
      return done(invalid_argument("Unknown purpose in the profile.", "profile.purposes"));
  }
  if (p.bio().size() > kMaxNoteBytes)
    return done(invalid_argument("The bio may be at most 2000 bytes.", "profile.bio"));
  // Field by field: nothing else the client sent is stored.
  v1::MentorProfile wanted;
  wanted.set_accepting_requests(p.accepting_requests());
  wanted.set_capacity(p.capacity());
  *wanted.mutable_purposes() = distinct(p.purposes());
  wanted.set_bio(p.bio());
  const uint64_t mentor = actor.id();
  commit_with_result<v1::MentorProfile>(
      committer_,
      [mentor, wanted](storage::CommitContext& ctx, v1::MentorProfile& out) {
        auto current = load_profile(ctx, mentor);
        if (!current) return current.status();
        out = wanted;
        out.set_active_mentorships(current->active_mentorships());
        save_profile(ctx, mentor, out);
        v1::Event e;
        *e.mutable_mentor_profile()->mutable_profile() = out;
        ctx.append_event(std::move(e), {mentor});
        return Status::ok();
      },
      std::move(done));
}

Result<v1::ListMentorsResult> Mentorships::list_mentors(const v1::User&, const v1::ListMentors& req) const {
  if (req.purpose() != v1::PURPOSE_UNSPECIFIED && !valid_purpose(req.purpose())) {
    return invalid_argument("Unknown purpose.", "purpose");
  }
  if (req.limit() > kMaxListPage) {
    return invalid_argument("limit may be at most " + std::to_string(kMaxListPage) + " mentors a page.",
                            "limit");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultListPage : req.limit();
  v1::ListMentorsResult out;
  out.set_next_after_mentor_id(req.after_mentor_id());
  if (req.after_mentor_id() == std::numeric_limits<uint64_t>::max()) return out;
  const std::string specialty = lower(req.specialty());
  const uint64_t mentor_role = static_cast<uint64_t>(v1::ROLE_MENTOR);
  const std::string begin =
      keys::UserByRole{.role = mentor_role, .user_id = req.after_mentor_id() + 1}.encode();
  const std::string end = keys::prefix_end(keys::UserByRole::prefix(mentor_role));
  size_t bytes = 0;
  Status inner;
  // Mentors in id order, from the role index; every one looked at moves the cursor, listed or not.
  auto add = [&](std::string_view key, std::string_view) {
    if (static_cast<uint32_t>(out.mentors_size()) == limit) {
      out.set_has_more(true);
      return false;
    }
    const std::optional<keys::UserByRole> entry = keys::UserByRole::decode(key);
    if (!entry) {
      inner = data_loss("A stored index entry of " + std::string(storage::cf_name(Cf::kUsersByRole)) +
                        " is damaged.");
      return false;
    }
    auto rec = load<v1::UserRecord>(store_, Cf::kUsers, keys::User{.user_id = entry->user_id}.encode());
    if (!rec) {
      inner = rec.status();
      return false;
    }
    if (rec->has_value()) {
      const v1::User& u = (*rec)->user();
      if (u.role() == v1::ROLE_MENTOR && !(*rec)->disabled() &&
          (specialty.empty() || lower(u.specialty()) == specialty)) {
        auto profile = load_profile(store_, entry->user_id);
        if (!profile) {
          inner = profile.status();
          return false;
        }
        if (profile->accepting_requests() &&
            (req.purpose() == v1::PURPOSE_UNSPECIFIED || offers(*profile, req.purpose()))) {
          v1::DirectoryEntry listed;
          *listed.mutable_mentor() = u;
          *listed.mutable_profile() = std::move(*profile);
          const size_t size = listed.ByteSizeLong();
          if (out.mentors_size() > 0 && bytes + size > kMaxPageBytes) {
            out.set_has_more(true);
            return false;
          }
          bytes += size;
          *out.add_mentors() = std::move(listed);
        }
      }
    }
    out.set_next_after_mentor_id(entry->user_id);
    return true;
  };
  // Each page looks at a bounded number of mentors, matching or not.
  auto scanned = store_.scan(Cf::kUsersByRole, {.begin = begin, .end = end}, add,
                             {.max_entries = kMaxMentorsExaminedPerPage});
  if (!scanned) return scanned.status();
  if (!inner) return inner;
  if (*scanned == storage::ScanEnd::kLimitReached) out.set_has_more(true);
  return out;
}

Status Mentorships::check_new_pair(storage::CommitContext& ctx, const v1::User& mentor, uint64_t mentee_id,
                                   v1::Purpose purpose) {
  auto open = ctx.get(Cf::kOpenPairs, keys::OpenPair{.mentee_id = mentee_id,
                                                     .mentor_id = mentor.id(),
                                                     .purpose = static_cast<uint64_t>(purpose)}
                                          .encode());
  if (!open) return open.status();
  if (open->has_value()) {
    return already_exists("There is already an open " + purpose_name(purpose) +
                          " mentorship or request with " + mentor.display_name() + ".");
  }
  auto profile = load_profile(ctx, mentor.id());
  if (!profile) return profile.status();
  if (profile->active_mentorships() >= profile->capacity()) {
    return failed_precondition(mentor.display_name() + " has no room for another mentee (capacity " +
                               std::to_string(profile->capacity()) +
                               "); choose another mentor from the directory.");
  }
  return Status::ok();
}

Result<v1::MentorshipRecord> Mentorships::activate(storage::CommitContext& ctx, v1::MentorshipRecord rec) {
  auto* m = rec.mutable_mentorship();
  v1::ConversationRecord conv;
  conv.set_id(ctx.next_id("conversation"));
  conv.set_mentorship_id(m->id());
  conv.set_mentor_id(m->mentor_id());
  conv.set_mentee_id(m->mentee_id());
  conv.set_last_contact_ms(ctx.now_ms());
  save(ctx, Cf::kConversations, conversation_key(conv.id()), conv);
  m->set_state(v1::MENTORSHIP_STATE_ACTIVE);
  m->set_started_at_ms(ctx.now_ms());
  m->set_conversation_id(conv.id());
  PRECEPTOR_RETURN_IF_ERROR(adjust_active(ctx, m->mentor_id(), +1));
  PRECEPTOR_RETURN_IF_ERROR(plan_reassessment(ctx, nullptr, *m));  // the first "time to reassess"
  return rec;
}

void Mentorships::request(const v1::User& actor, const v1::RequestMentorship& req,
                          Done<v1::Mentorship> done) {
  if (actor.role() != v1::ROLE_MENTEE)
    return done(permission_denied("Only mentees can request a mentorship."));
  if (!valid_purpose(req.purpose())) {
    return done(invalid_argument("Choose a purpose: clinical skills, career, research, wellbeing or other.",
                                 "purpose"));
  }
  if (req.note().size() > kMaxNoteBytes)
    return done(invalid_argument("The note may be at most 2000 bytes.", "note"));
  const uint64_t mentee = actor.id();
  commit_with_result<v1::Mentorship>(
      committer_,
      [this, mentee, req](storage::CommitContext& ctx, v1::Mentorship& out) {
        // No such id, not a mentor and hidden (not accepting requests) answer alike.
        auto listed = listed_mentor(ctx, req.mentor_id());
        if (!listed) return listed.status();
        if (!listed->has_value()) return no_listed_mentor(req.mentor_id(), "mentor_id");
        const v1::User& mentor_user = (*listed)->user;
        if (!offers((*listed)->profile, req.purpose())) {
          return failed_precondition(mentor_user.display_name() + " does not mentor for " +
                                     purpose_name(req.purpose()) + ".");
        }
        PRECEPTOR_RETURN_IF_ERROR(check_new_pair(ctx, mentor_user, mentee, req.purpose()));
        v1::MentorshipRecord rec;
        auto* m = rec.mutable_mentorship();
        m->set_id(ctx.next_id("mentorship"));
        m->set_mentor_id(mentor_user.id());
        m->set_mentee_id(mentee);
        m->set_purpose(req.purpose());
        m->set_state(v1::MENTORSHIP_STATE_REQUESTED);
        m->set_request_note(req.note());
        m->set_requested_at_ms(ctx.now_ms());
        save(ctx, Cf::kMentorships, mentorship_key(m->id()), rec);
        index_new(ctx, *m);
        move_due(ctx, m->id(), std::nullopt, mentorship_due_ms(*m, nullptr));  // the reminder
        emit(ctx, v1::MENTORSHIP_CHANGE_REQUESTED, *m, mentee);
        out = *m;
        return Status::ok();
      },
      std::move(done));
}

void Mentorships::accept(const v1::User& actor, const v1::AcceptMentorship& req, Done<v1::Mentorship> done) {
  commit_with_result<v1::Mentorship>(
      committer_,
      [this, actor, id = req.mentorship_id()](storage::CommitContext& ctx, v1::Mentorship& out) {
        auto rec = load_for_member(ctx, actor, id);
        if (!rec) return rec.status();
        if (rec->mentorship().mentor_id() != actor.id()) {
          return permission_denied("Only the mentor can accept a mentorship request.");
        }
        if (rec->mentorship().state() != v1::MENTORSHIP_STATE_REQUESTED) {
          return failed_precondition("This request was already answered, withdrawn or expired.");
        }
        auto profile = load_profile(ctx, actor.id());
        if (!profile) return profile.status();
        if (profile->active_mentorships() >= profile->capacity()) {
          return failed_precondition("You are at your capacity of " + std::to_string(profile->capacity()) +
                                     " mentorships; raise it in your profile or end one first.");
        }
        const std::optional<int64_t> due_before = mentorship_due_ms(rec->mentorship(), nullptr);
        auto active = activate(ctx, std::move(*rec));
        if (!active) return active.status();
        save(ctx, Cf::kMentorships, mentorship_key(id), *active);
        auto due_after = mentorship_due_ms(ctx, active->mentorship());
        if (!due_after) return due_after.status();
        move_due(ctx, id, due_before, *due_after);
        emit(ctx, v1::MENTORSHIP_CHANGE_ACCEPTED, active->mentorship(), actor.id());
        out = active->mentorship();
        return Status::ok();
      },
      std::move(done));
}

void Mentorships::decline(const v1::User& actor, const v1::DeclineMentorship& req,
                          Done<v1::Mentorship> done) {
  if (req.reason().size() > kMaxNoteBytes)
    return done(invalid_argument("The reason may be at most 2000 bytes.", "reason"));
  commit_with_result<v1::Mentorship>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::Mentorship& out) {
        // Membership first: an outsider learns nothing about the referred id.
        auto rec = load_for_member(ctx, actor, req.mentorship_id());
        if (!rec) return rec.status();
        auto* m = rec->mutable_mentorship();
        if (m->mentor_id() != actor.id())
          return permission_denied("Only the mentor can decline a mentorship request.");
        if (m->state() != v1::MENTORSHIP_STATE_REQUESTED) {
          return failed_precondition("This request was already answered, withdrawn or expired.");
        }
        if (req.referred_mentor_id() == actor.id()) {
          return invalid_argument("Refer the mentee to a colleague, not to yourself.", "referred_mentor_id");
        }
        if (req.referred_mentor_id() != 0) {
          // No such id, not a mentor, hidden, or not mentoring for this purpose: one answer.
          auto colleague = listed_mentor(ctx, req.referred_mentor_id());
          if (!colleague) return colleague.status();
          if (!colleague->has_value() || !offers((*colleague)->profile, m->purpose())) {
            return not_found("No mentor with id " + std::to_string(req.referred_mentor_id()) +
                                 " in the directory for " + purpose_name(m->purpose()) + " to refer to.",
                             "referred_mentor_id");
          }
        }
        move_due(ctx, m->id(), mentorship_due_ms(*m, nullptr), std::nullopt);  // no reminder for an answer
        m->set_state(v1::MENTORSHIP_STATE_DECLINED);
        m->set_ended_at_ms(ctx.now_ms());
        m->set_ended_by(actor.id());
        m->set_decline_reason(req.reason());
        m->set_referred_mentor_id(req.referred_mentor_id());
        ctx.del(Cf::kOpenPairs, open_pair_key(*m));
        save(ctx, Cf::kMentorships, mentorship_key(m->id()), *rec);
        emit(ctx, v1::MENTORSHIP_CHANGE_DECLINED, *m, actor.id());
        out = *m;
        return Status::ok();
      },
      std::move(done));
}

void Mentorships::assign(const v1::User& actor, const v1::AssignMentorship& req, Done<v1::Mentorship> done) {
  if (actor.role() != v1::ROLE_PROGRAM_DIRECTOR && actor.role() != v1::ROLE_ADMIN) {
    return done(permission_denied("Only a program director can assign a mentorship."));
  }
  if (!valid_purpose(req.purpose())) {
    return done(invalid_argument("Choose a purpose: clinical skills, career, research, wellbeing or other.",
                                 "purpose"));
  }
  auto mentor = accounts_.get_user(req.mentor_id());
  if (!mentor || mentor->role() != v1::ROLE_MENTOR) {
    return done(not_found("No mentor with id " + std::to_string(req.mentor_id()) + ".", "mentor_id"));
  }
  auto mentee = accounts_.get_user(req.mentee_id());
  if (!mentee || mentee->role() != v1::ROLE_MENTEE) {
    return done(not_found("No mentee with id " + std::to_string(req.mentee_id()) + ".", "mentee_id"));
  }
  const v1::User mentor_user = *mentor;
  commit_with_result<v1::Mentorship>(
      committer_,
      [this, actor, mentor_user, req](storage::CommitContext& ctx, v1::Mentorship& out) {
        PRECEPTOR_RETURN_IF_ERROR(check_new_pair(ctx, mentor_user, req.mentee_id(), req.purpose()));
        v1::MentorshipRecord rec;
        auto* m = rec.mutable_mentorship();
        m->set_id(ctx.next_id("mentorship"));
        m->set_mentor_id(mentor_user.id());
        m->set_mentee_id(req.mentee_id());
        m->set_purpose(req.purpose());
        m->set_assigned_by(actor.id());
        m->set_requested_at_ms(ctx.now_ms());
        auto active = activate(ctx, std::move(rec));
        if (!active) return active.status();
        const auto& am = active->mentorship();
        save(ctx, Cf::kMentorships, mentorship_key(am.id()), *active);
        index_new(ctx, am);
        auto due = mentorship_due_ms(ctx, am);  // none until an agreement sets a cadence
        if (!due) return due.status();
        move_due(ctx, am.id(), std::nullopt, *due);
        emit(ctx, v1::MENTORSHIP_CHANGE_ASSIGNED, am, actor.id());
        out = am;
        return Status::ok();
      },
      std::move(done));
}

void Mentorships::end(const v1::User& actor, const v1::EndMentorship& req, Done<v1::Mentorship> done) {
  if (req.private_reason().size() > kMaxNoteBytes) {
    return done(invalid_argument("The reason may be at most 2000 bytes.", "private_reason"));
  }
  commit_with_result<v1::Mentorship>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::Mentorship& out) {
        auto rec = load_for_member(ctx, actor, req.mentorship_id());
        if (!rec) return rec.status();
        auto* m = rec->mutable_mentorship();
        const bool was_active = m->state() == v1::MENTORSHIP_STATE_ACTIVE;
        const bool withdrawal = m->state() == v1::MENTORSHIP_STATE_REQUESTED && m->mentee_id() == actor.id();
        if (!was_active && !withdrawal)
          return failed_precondition("This mentorship is not active, so it cannot be ended.");
        auto due_before = mentorship_due_ms(ctx, *m);
        if (!due_before) return due_before.status();
        move_due(ctx, m->id(), *due_before, std::nullopt);  // nothing is due on an ended one
        m->set_state(v1::MENTORSHIP_STATE_ENDED);
        m->set_ended_at_ms(ctx.now_ms());
        m->set_ended_by(actor.id());
        rec->set_end_reason_private(req.private_reason());
        ctx.del(Cf::kOpenPairs, open_pair_key(*m));
        if (was_active) {
          PRECEPTOR_RETURN_IF_ERROR(adjust_active(ctx, m->mentor_id(), -1));
          auto conv =
              load<v1::ConversationRecord>(ctx, Cf::kConversations, conversation_key(m->conversation_id()));
          if (!conv) return conv.status();
          if (conv->has_value()) {
            (*conv)->set_read_only(true);
            save(ctx, Cf::kConversations, conversation_key(m->conversation_id()), **conv);
          }
        }
        save(ctx, Cf::kMentorships, mentorship_key(m->id()), *rec);
        emit(ctx, v1::MENTORSHIP_CHANGE_ENDED, *m, actor.id());
        out = *m;
        return Status::ok();
      },
      std::move(done));
}

void Mentorships::propose_agreement(const v1::User& actor, const v1::ProposeAgreement& req,
                                    Done<v1::Mentorship> done) {
  if (cadence_ms(req.cadence()) == 0) {
    return done(invalid_argument("Choose a cadence: weekly, every two weeks or monthly.", "cadence"));
  }
  if (req.channels_size() > kMaxChannels) {
    return done(invalid_argument("An agreement lists at most " + std::to_string(kMaxChannels) +
                                     " channels, each once; this one lists " +
                                     std::to_string(req.channels_size()) + ".",
                                 "channels"));
  }
  for (int c : req.channels()) {
    if (c < v1::CHANNEL_CHAT || c > v1::CHANNEL_IN_PERSON)
      return done(invalid_argument("Unknown channel.", "channels"));
  }
  if (Status st = check_reassess_weeks(req.reassess_weeks(), "reassess_weeks"); !st) return done(st);
  commit_with_result<v1::Mentorship>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::Mentorship& out) {
        auto rec = load_for_member(ctx, actor, req.mentorship_id());
        if (!rec) return rec.status();
        auto* m = rec->mutable_mentorship();
        if (m->state() != v1::MENTORSHIP_STATE_ACTIVE) {
          return failed_precondition("Agreements are made on active mentorships only.");
        }
        auto* a = m->mutable_proposed_agreement();
        a->Clear();
        a->set_cadence(req.cadence());
        *a->mutable_channels() = distinct(req.channels());
        a->set_reassess_weeks(req.reassess_weeks());
        a->set_proposed_by(actor.id());
        a->set_proposed_at_ms(ctx.now_ms());
        save(ctx, Cf::kMentorships, mentorship_key(m->id()), *rec);
        emit(ctx, v1::MENTORSHIP_CHANGE_AGREEMENT_PROPOSED, *m, actor.id());
        out = *m;
        return Status::ok();
      },
      std::move(done));
}

void Mentorships::accept_agreement(const v1::User& actor, const v1::AcceptAgreement& req,
                                   Done<v1::Mentorship> done) {
  commit_with_result<v1::Mentorship>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::Mentorship& out) {
        auto rec = load_for_member(ctx, actor, req.mentorship_id());
        if (!rec) return rec.status();
        auto* m = rec->mutable_mentorship();
        if (m->state() != v1::MENTORSHIP_STATE_ACTIVE) {
          return failed_precondition("Agreements are made on active mentorships only.");
        }
        if (!m->has_proposed_agreement())
          return failed_precondition("There is no proposed agreement to accept.");
        if (m->proposed_agreement().proposed_by() == actor.id()) {
          return failed_precondition("You proposed this agreement; the other side accepts it.");
        }
        auto due_before = mentorship_due_ms(ctx, *m);
        if (!due_before) return due_before.status();
        const v1::Mentorship before = *m;
        *m->mutable_agreement() = m->proposed_agreement();
        m->mutable_agreement()->set_accepted_at_ms(ctx.now_ms());
        m->clear_proposed_agreement();
        save(ctx, Cf::kMentorships, mentorship_key(m->id()), *rec);
        // The cadence counts from the agreement.
        auto conv =
            load<v1::ConversationRecord>(ctx, Cf::kConversations, conversation_key(m->conversation_id()));
        if (!conv) return conv.status();
        if (conv->has_value()) {
          (*conv)->set_last_contact_ms(std::max((*conv)->last_contact_ms(), ctx.now_ms()));
          (*conv)->set_checkin_due_notified_ms(0);
          save(ctx, Cf::kConversations, conversation_key(m->conversation_id()), **conv);
        }
        auto due_after = mentorship_due_ms(ctx, *m);  // the new cadence from now
        if (!due_after) return due_after.status();
        move_due(ctx, m->id(), *due_before, *due_after);
        PRECEPTOR_RETURN_IF_ERROR(plan_reassessment(ctx, &before, *m));  // a new reassess_weeks moves it
        emit(ctx, v1::MENTORSHIP_CHANGE_AGREEMENT_ACCEPTED, *m, actor.id());
        out = *m;
        return Status::ok();
      },
      std::move(done));
}

v1::Engagement Mentorships::engagement(const v1::Mentorship& m, const v1::ConversationRecord& conv,
                                       int64_t now_ms) {
  v1::Engagement e;
  e.set_last_contact_ms(conv.last_contact_ms());
  e.set_message_count(conv.message_count());
  e.set_checkin_count(conv.checkin_count());
  const int64_t period = m.has_agreement() ? cadence_ms(m.agreement().cadence()) : 0;
  if (period > 0 && m.state() == v1::MENTORSHIP_STATE_ACTIVE && now_ms - conv.last_contact_ms() >= period) {
    e.set_checkin_overdue(true);
    e.set_checkin_due_since_ms(conv.last_contact_ms() + period);
  }
  return e;
}

Result<v1::ListMentorshipsResult> Mentorships::list(const v1::User& actor,
                                                    const v1::ListMentorships& req) const {
  if (req.limit() > kMaxListPage) {
    return invalid_argument("limit may be at most " + std::to_string(kMaxListPage) + " mentorships a page.",
                            "limit");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultListPage : req.limit();
  v1::ListMentorshipsResult out;
  out.set_next_after_mentorship_id(req.after_mentorship_id());
  if (req.after_mentorship_id() == std::numeric_limits<uint64_t>::max()) return out;
  const bool overseer = oversees_program(actor);
  const int64_t now = clock_.now_ms();
  size_t bytes = 0;
  Status st;
  // Adds the view of mentorship `id`; false to stop.
  auto add = [&](uint64_t id) {
    if (static_cast<uint32_t>(out.mentorships_size()) == limit) {
      out.set_has_more(true);
      return false;
    }
    auto rec = load<v1::MentorshipRecord>(store_, Cf::kMentorships, mentorship_key(id));
    if (!rec) {
      st = rec.status();
      return false;
    }
    if (rec->has_value()) {
      const v1::Mentorship& m = (*rec)->mentorship();
      v1::MentorshipView view;
      *view.mutable_mentorship() = overseer ? without_content(m) : m;
      if (auto u = accounts_.get_user(m.mentor_id())) *view.mutable_mentor() = *u;
      if (auto u = accounts_.get_user(m.mentee_id())) *view.mutable_mentee() = *u;
      if (m.conversation_id() != 0) {
        auto conv =
            load<v1::ConversationRecord>(store_, Cf::kConversations, conversation_key(m.conversation_id()));
        if (conv && conv->has_value()) *view.mutable_engagement() = engagement(m, **conv, now);
      }
      // Meetings as counts only (meeting_counts): never an agenda or notes.
      auto counts = load<v1::MeetingCountsRecord>(store_, Cf::kMeetingCounts,
                                                  keys::MeetingCounts{.mentorship_id = m.id()}.encode());
      if (!counts) {
        st = counts.status();
        return false;
      }
      if (counts->has_value()) {
        v1::Engagement& e = *view.mutable_engagement();
        e.set_meetings_held((*counts)->held());
        e.set_meeting_no_shows((*counts)->no_shows());
        const auto& starts = (*counts)->open_starts();
        e.set_meetings_upcoming(static_cast<uint64_t>(
            std::count_if(starts.begin(), starts.end(), [now](int64_t s) { return s > now; })));
      }
      // Goals and assignments as counts and a date only (mentorship_work):
      // never a title, a text or a document.
      auto work =
          load<v1::MentorshipWorkRecord>(store_, Cf::kMentorshipWork, keys::IdKey{.id = m.id()}.encode());
      if (!work) {
        st = work.status();
        return false;
      }
      if (work->has_value()) {
        const v1::MentorshipWorkRecord& w = **work;
        v1::Engagement& e = *view.mutable_engagement();
        e.set_assignments_open(w.assignments_open());
        e.set_assignments_overdue(w.assignments_overdue());
        e.set_assignments_approved(w.assignments_approved());
        e.set_goals_open(w.goals_open());
        e.set_goals_done(w.goals_done());
        e.set_last_reassessment_ms(w.last_reassessment_ms());
      }
      const size_t size = view.ByteSizeLong();
      if (out.mentorships_size() > 0 && bytes + size > kMaxPageBytes) {
        out.set_has_more(true);
        return false;
      }
      bytes += size;
      *out.add_mentorships() = std::move(view);
    }
    out.set_next_after_mentorship_id(id);
    return true;
  };
  // Every mentorship for a director; otherwise the actor's own, from their index.
  auto all = [&](std::string_view key, std::string_view) {
    const std::optional<keys::Mentorship> entry = keys::Mentorship::decode(key);
    if (!entry) {
      st = data_loss("A stored key of " + std::string(storage::cf_name(Cf::kMentorships)) + " is damaged.");
      return false;
    }
    return add(entry->mentorship_id);
  };
  auto own = [&](std::string_view key, std::string_view) {
    const std::optional<keys::UserMentorship> entry = keys::UserMentorship::decode(key);
    if (!entry) {
      st = data_loss("A stored index entry of " + std::string(storage::cf_name(Cf::kUserMentorships)) +
                     " is damaged.");
      return false;
    }
    return add(entry->mentorship_id);
  };
  const uint64_t from = req.after_mentorship_id() + 1;
  const std::string all_begin = mentorship_key(from);
  const std::string own_begin = keys::UserMentorship{.user_id = actor.id(), .mentorship_id = from}.encode();
  const std::string own_end = keys::prefix_end(keys::UserMentorship::prefix(actor.id()));
  auto scanned = overseer ? store_.scan(Cf::kMentorships, {.begin = all_begin}, all)
                          : store_.scan(Cf::kUserMentorships, {.begin = own_begin, .end = own_end}, own);
  if (!scanned) return scanned.status();
  if (!st) return st;
  return out;
}

size_t Mentorships::run_timed_work() {
  const int64_t now = clock_.now_ms();
  // Only what is due by now, from the due index, in due order; at most a
  // bounded number a pass (the rest stays due for the next).
  std::vector<keys::MentorshipByDue> due;
  const std::string end =
      keys::MentorshipByDue{.due_ms = static_cast<uint64_t>(std::max<int64_t>(0, now)) + 1,
                            .mentorship_id = 0}
          .encode();
  auto st = store_.scan(Cf::kMentorshipsByDue, {.end = end},
                        [&](std::string_view key, std::string_view) {
                          if (auto entry = keys::MentorshipByDue::decode(key)) due.push_back(*entry);
                          return true;
                        },
                        {.max_entries = kMaxTimedWorkPerRun});
  if (!st) return 0;
  std::latch finished(static_cast<std::ptrdiff_t>(due.size()));
  for (const keys::MentorshipByDue& entry : due) {
    const uint64_t id = entry.mentorship_id;
    const int64_t indexed_due = static_cast<int64_t>(entry.due_ms);
    committer_.submit(
        [id, indexed_due, now](storage::CommitContext& ctx) -> Status {
          auto loaded = load<v1::MentorshipRecord>(ctx, Cf::kMentorships, mentorship_key(id));
          if (!loaded) return loaded.status();
          if (!loaded->has_value()) {
            move_due(ctx, id, indexed_due, std::nullopt);
            return Status::ok();
          }
          v1::MentorshipRecord rec = std::move(**loaded);
          auto* m = rec.mutable_mentorship();
          // The conditions are checked again here, against the records as they are now;
          // the entry then moves to the next due time they give (or goes).
          auto done = [&]() -> Status {
            auto next = mentorship_due_ms(ctx, *m);
            if (!next) return next.status();
            move_due(ctx, id, indexed_due, *next);
            return Status::ok();
          };
          if (m->state() == v1::MENTORSHIP_STATE_REQUESTED) {
            const int64_t waited = now - m->requested_at_ms();
            if (waited >= kRequestExpiryMs) {
              m->set_state(v1::MENTORSHIP_STATE_EXPIRED);
              m->set_ended_at_ms(now);
              ctx.del(Cf::kOpenPairs, open_pair_key(*m));
              save(ctx, Cf::kMentorships, mentorship_key(id), rec);
              emit(ctx, v1::MENTORSHIP_CHANGE_EXPIRED, *m, 0);
            } else if (waited >= kRequestReminderMs && !m->reminder_sent()) {
              auto quiet = quiet_until(ctx, {m->mentor_id()}, now, m->requested_at_ms() + kRequestReminderMs);
              if (!quiet) return quiet.status();
              if (*quiet) {  // held until the mentor's quiet hours end
                move_due(ctx, id, indexed_due, **quiet);
                return Status::ok();
              }
              m->set_reminder_sent(true);
              save(ctx, Cf::kMentorships, mentorship_key(id), rec);
              emit(ctx, v1::MENTORSHIP_CHANGE_REMINDER, *m, 0);
            }
            return done();
          }
          if (m->state() != v1::MENTORSHIP_STATE_ACTIVE || !m->has_agreement()) return done();
          const int64_t period = cadence_ms(m->agreement().cadence());
          auto conv =
              load<v1::ConversationRecord>(ctx, Cf::kConversations, conversation_key(m->conversation_id()));
          if (!conv) return conv.status();
          if (!conv->has_value() || period <= 0) return done();
          v1::ConversationRecord c = std::move(**conv);
          if (now - c.last_contact_ms() < period) return done();
          // Once per lapsed period: again only after another full period of silence.
          if (c.checkin_due_notified_ms() != 0 && now - c.checkin_due_notified_ms() < period) return done();
          auto quiet =
              quiet_until(ctx, {m->mentor_id(), m->mentee_id()}, now,
                          std::max(c.last_contact_ms() + period, c.checkin_due_notified_ms() + period));
          if (!quiet) return quiet.status();
          if (*quiet) {  // held until both members' quiet hours end
            move_due(ctx, id, indexed_due, **quiet);
            return Status::ok();
          }
          c.set_checkin_due_notified_ms(now);
          save(ctx, Cf::kConversations, conversation_key(c.id()), c);
          v1::Event e;
          auto* dueev = e.mutable_checkin_due();
          dueev->set_mentorship_id(id);
          dueev->set_conversation_id(c.id());
          dueev->set_due_since_ms(c.last_contact_ms() + period);
          ctx.append_event(std::move(e), {m->mentor_id(), m->mentee_id()});
          return done();
        },
        [&finished](const Status& s) {
          s.ignore_error();  // a failed write is logged by the committer; the next run retries
          finished.count_down();
        });
  }
  finished.wait();
  return due.size();
}

}  // namespace preceptor::services
