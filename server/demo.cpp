#include "server/demo.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "server/services/assignments.h"
#include "server/services/documents.h"
#include "server/services/goals.h"
#include "server/services/mentorships.h"
#include "server/services/office_hours.h"

namespace preceptor::server {

Result<std::vector<DemoLogin>> ensure_demo_program(services::Accounts& accounts) {
  struct Person {
    const char* username;
    const char* display_name;
    v1::Role role;
    const char* role_name;
    const char* specialty;
    const char* training_level;
    const char* time_zone;
  };
  static const Person kPeople[] = {
      {"director.okafor", "Dr. Amara Okafor", v1::ROLE_PROGRAM_DIRECTOR, "program director",
       "Medical education", "Program director", "America/New_York"},
      {"mentor.lindqvist", "Dr. Erik Lindqvist", v1::ROLE_MENTOR, "mentor", "Cardiology", "Attending",
       "Europe/Stockholm"},
      {"mentor.raman", "Dr. Priya Raman", v1::ROLE_MENTOR, "mentor", "Internal medicine", "Attending",
       "America/Chicago"},
      {"mentee.chen", "Wei Chen", v1::ROLE_MENTEE, "mentee", "Internal medicine", "PGY-1", "America/Chicago"},
      {"mentee.garcia", "Lucia Garcia", v1::ROLE_MENTEE, "mentee", "Cardiology", "MS4", "America/New_York"},
      {"mentee.novak", "Tomas Novak", v1::ROLE_MENTEE, "mentee", "Surgery", "PGY-2", "Europe/Prague"},
  };
  std::vector<DemoLogin> logins;
  for (const Person& p : kPeople) {
    DemoLogin login{p.username, std::string("demo-") + p.username, p.role_name, p.display_name};
    if (!accounts.find_user(p.username).is_ok()) {
      services::NewUser user;
      user.username = p.username;
      user.password = login.password;
      user.display_name = p.display_name;
      user.role = p.role;
      user.specialty = p.specialty;
      user.training_level = p.training_level;
      user.time_zone = p.time_zone;
      auto created = services::create_user_sync(accounts, user);
      if (!created) return created.status();
    }
    logins.push_back(std::move(login));
  }
  return logins;
}

namespace {

// A meeting a new user sees at once: Tomas Novak has booked the first of
// Dr. Lindqvist's office-hours slots from two days on. Made once, with the
// office hours; none when no slot is free.
Status book_demo_meeting(services::OfficeHoursService& service, services::Core& core,
                         const v1::User& mentor) {
  auto mentee = core.accounts.find_user("mentee.novak");
  if (!mentee) return mentee.status();
  v1::ListSlots list;
  list.set_mentor_id(mentor.id());
  list.set_from_ms(core.clock.now_ms() + 2LL * 24 * 3600 * 1000);
  list.set_to_ms(list.from_ms() + 14LL * 24 * 3600 * 1000);
  auto slots = service.list_slots(*mentee, list);
  if (!slots) return slots.status();
  if (slots->slots_size() == 0) return Status::ok();
  v1::BookSlot book;
  book.set_mentor_id(mentor.id());
  book.set_start_ms(slots->slots(0).start_ms());
  book.set_agenda("Questions about a research elective in cardiology, and how to prepare for it.");
  std::promise<Status> done;
  service.book(*mentee, book, [&done](Result<v1::Meeting> r) { done.set_value(r.status()); });
  return done.get_future().get();
}

}  // namespace

Status ensure_demo_office_hours(services::Core& core) {
  struct Hours {
    const char* username;
    const char* time_zone;
    std::initializer_list<v1::Weekday> days;
    uint32_t start_minute;
    uint32_t end_minute;
    uint32_t seats;
  };
  static const Hours kHours[] = {
      {"mentor.lindqvist",
       "Europe/Stockholm",
       {v1::WEEKDAY_MONDAY, v1::WEEKDAY_TUESDAY, v1::WEEKDAY_WEDNESDAY, v1::WEEKDAY_THURSDAY,
        v1::WEEKDAY_FRIDAY},
       14 * 60,
       17 * 60,
       1},
      {"mentor.raman", "America/Chicago", {v1::WEEKDAY_TUESDAY, v1::WEEKDAY_THURSDAY}, 13 * 60, 16 * 60, 4},
  };
  services::OfficeHoursService service(core.store, core.committer, core.accounts, core.clock,
                                       core.busy_mirror);
  for (const Hours& h : kHours) {
    auto mentor = core.accounts.find_user(h.username);
    if (!mentor) return mentor.status();
    v1::GetOfficeHours get;
    get.set_mentor_id(mentor->id());
    if (service.get(*mentor, get).is_ok()) continue;  // already there (or the mentor's own since)
    v1::SetOfficeHours set;
    v1::OfficeHours& oh = *set.mutable_office_hours();
    oh.set_enabled(true);
    oh.set_time_zone(h.time_zone);
    for (v1::Weekday day : h.days) {
      auto* rule = oh.add_rules();
      rule->set_day(day);
      rule->mutable_window()->set_start_minute(h.start_minute);
      rule->mutable_window()->set_end_minute(h.end_minute);
    }
    oh.set_slot_minutes(30);
    oh.set_buffer_minutes(0);
    oh.set_min_notice_minutes(60);
    oh.set_horizon_days(28);
    oh.set_seats(h.seats);
    oh.set_audience(v1::AUDIENCE_PROGRAM);
    oh.set_cancel_notice_minutes(120);
    oh.mutable_where()->set_kind(v1::WHERE_KIND_IN_APP_CALL);
    std::promise<Status> done;
    service.set(*mentor, set, [&done](Result<v1::OfficeHours> r) { done.set_value(r.status()); });
    if (Status st = done.get_future().get(); !st) return st;
    if (std::string_view(h.username) == "mentor.lindqvist") {
      if (Status st = book_demo_meeting(service, core, *mentor); !st) return st;
    }
  }
  return Status::ok();
}

const char* const kDemoCvDraft =
    "# Lucia Garcia\n"
    "\n"
    "Medical student (MS4), applying to internal medicine residency with an interest in cardiology.\n"
    "lucia.garcia@example.org\n"
    "\n"
    "## Education\n"
    "\n"
    "- Doctor of Medicine (expected May), State University School of Medicine\n"
    "- B.S. in Biology, magna cum laude, Riverside College\n"
    "\n"
    "## Clinical experience\n"
    "\n"
    "- Sub-internship, cardiology inpatient service, University Hospital (4 weeks)\n"
    "- Core clerkships: internal medicine (honors), surgery, pediatrics, psychiatry, obstetrics\n"
    "\n"
    "## Research\n"
    "\n"
    "- Helped with a research project on heart failure readmissions.\n"
    "- Chart review of atrial fibrillation anticoagulation at discharge (poster in preparation)\n"
    "\n"
    "## Service and leadership\n"
    "\n"
    "- Coordinator, student-run free clinic, Saturday cardiology screening (2 years)\n"
    "- Peer tutor, cardiovascular physiology\n"
    "\n"
    "## Skills\n"
    "\n"
    "- Spanish (fluent), basic point-of-care ultrasound, BLS and ACLS certified\n";

namespace {

constexpr std::string_view kDemoQuote = "Helped with a research project on heart failure readmissions.";

template <class T>
Result<T> wait_for(const std::function<void(std::function<void(Result<T>)>)>& call) {
  std::promise<Result<T>> done;
  call([&done](Result<T> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

// "YYYY-MM-DD" (UTC) of `ms`.
std::string utc_date(int64_t ms) {
  const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)))};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  return out;
}

// The Garcia - Raman mentorship (the newest, in any state), or nullopt.
Result<std::optional<v1::Mentorship>> find_demo_pair(services::Mentorships& mentorships,
                                                     const v1::User& mentee, const v1::User& mentor) {
  std::optional<v1::Mentorship> found;
  v1::ListMentorships list;
  for (;;) {
    auto page = mentorships.list(mentee, list);
    if (!page) return page.status();
    for (const auto& view : page->mentorships()) {
      if (view.mentorship().mentor_id() == mentor.id()) found = view.mentorship();
    }
    if (!page->has_more()) break;
    list.set_after_mentorship_id(page->next_after_mentorship_id());
  }
  return found;
}

// Lucia's CV draft, uploaded the way the HTTP route does it (start, one
// body, finish): a complete document of the mentorship, typed from its
// content and with its SHA-256.
Result<v1::Document> upload_demo_cv(services::Core& core, const v1::User& mentee, uint64_t mentorship_id) {
  services::Documents documents(core);
  const std::string_view content = kDemoCvDraft;
  auto started = wait_for<v1::DocumentRecord>([&](auto done) {
    documents.start_upload(mentee, mentorship_id, content.size(), kDemoDocumentName, std::move(done));
  });
  if (!started) return started.status();
  auto append = documents.begin_append(mentee, started->document().id(), 0, content.size());
  if (!append) return append.status();
  if (!append->body) return internal_error("The demo document's upload had no body to write.");
  if (Status st = append->body->write(content); !st) return st;
  auto outcome = wait_for<services::UploadOutcome>([&](auto done) { append->body->finish(std::move(done)); });
  if (!outcome) return outcome.status();
  if (!outcome->document) return internal_error("The demo document was not complete after its last byte.");
  return *outcome->document;
}

}  // namespace

Status ensure_demo_work(services::Core& core) {
  auto director = core.accounts.find_user("director.okafor");
  if (!director) return director.status();
  auto mentor = core.accounts.find_user("mentor.raman");
  if (!mentor) return mentor.status();
  auto mentee = core.accounts.find_user("mentee.garcia");
  if (!mentee) return mentee.status();
  const int64_t now = core.clock.now_ms();

  // The pair: Dr. Okafor assigns it, unless the two have one (in any state: one they ended stays ended).
  services::Mentorships mentorships(core.store, core.committer, core.accounts, core.clock);
  auto pair = find_demo_pair(mentorships, *mentee, *mentor);
  if (!pair) return pair.status();
  if (!pair->has_value()) {
    v1::AssignMentorship assign;
    assign.set_mentor_id(mentor->id());
    assign.set_mentee_id(mentee->id());
    assign.set_purpose(v1::PURPOSE_CAREER);
    auto assigned =
        wait_for<v1::Mentorship>([&](auto done) { mentorships.assign(*director, assign, std::move(done)); });
    if (!assigned) return assigned.status();
    *pair = std::move(*assigned);
  }
  const v1::Mentorship& m = **pair;
  if (m.state() != v1::MENTORSHIP_STATE_ACTIVE) return Status::ok();

  // One goal, added by Lucia.
  services::Goals goals(core.store, core.committer, core.membership, core.clock);
  v1::ListGoals list_goals;
  list_goals.set_mentorship_id(m.id());
  list_goals.set_include_closed(true);
  auto listed_goals = goals.list(*mentee, list_goals);
  if (!listed_goals) return listed_goals.status();
  uint64_t goal_id = 0;
  if (listed_goals->goals_size() > 0) {
    goal_id = listed_goals->goals(0).id();
  } else {
    v1::AddGoal add;
    add.set_mentorship_id(m.id());
    add.set_what("Apply to internal medicine residency programs with a strong cardiology profile");
    add.set_measure(
        "CV and personal statement approved by Dr. Raman; applications sent to 20 programs before the "
        "deadline.");
    add.set_target_date(utc_date(now + 120 * services::kDayMs));
    add.set_purpose(v1::PURPOSE_CAREER);
    auto added = wait_for<v1::Goal>([&](auto done) { goals.add(*mentee, add, std::move(done)); });
    if (!added) return added.status();
    goal_id = added->id();
  }

  // The CV assignment Dr. Raman hands off; found again by its title.
  services::Assignments assignments(core.store, core.committer, core.membership, core.clock);
  std::optional<v1::Assignment> assignment;
  v1::ListAssignments list;
  list.set_mentorship_id(m.id());
  list.set_include_closed(true);
  for (;;) {
    auto page = assignments.list(*mentor, list);
    if (!page) return page.status();
    for (const auto& a : page->assignments()) {
      if (a.title() == kDemoAssignmentTitle && a.created_by() == mentor->id()) assignment = a;
    }
    if (!page->has_more() || page->assignments_size() == 0) break;
    list.set_before_id(page->assignments(page->assignments_size() - 1).id());
  }
  if (!assignment) {
    v1::CreateAssignment create;
    create.set_mentorship_id(m.id());
    create.set_title(kDemoAssignmentTitle);
    create.set_instructions(
        "Bring your CV up to date for this application cycle: education, clinical experience, research, "
        "service. Keep it to two pages, newest first in each section, and say what you did in each role. "
        "Upload it here as a PDF, Word or Markdown file.");
    create.set_kind(v1::ASSIGNMENT_KIND_CV);
    create.set_due_ms(now + 21 * services::kDayMs);
    create.set_time_zone("America/Chicago");
    create.set_goal_id(goal_id);
    auto created = wait_for<v1::CreateAssignmentResult>(
        [&](auto done) { assignments.create(*mentor, create, std::move(done)); });
    if (!created) return created.status();
    assignment = created->assignment();
  }

  // Lucia acknowledges it and submits her draft as version 1.
  if (assignment->state() == v1::ASSIGNMENT_STATE_ASSIGNED) {
    v1::AcknowledgeAssignment ack;
    ack.set_assignment_id(assignment->id());
    auto acked = wait_for<v1::AcknowledgeAssignmentResult>(
        [&](auto done) { assignments.acknowledge(*mentee, ack, std::move(done)); });
    if (!acked) return acked.status();
    assignment = acked->assignment();
  }
  if (assignment->state() == v1::ASSIGNMENT_STATE_ACKNOWLEDGED && assignment->version_count() == 0) {
    auto document = upload_demo_cv(core, *mentee, m.id());
    if (!document) return document.status();
    v1::SubmitVersion submit;
    submit.set_assignment_id(assignment->id());
    submit.set_document_id(document->id());
    submit.set_note("My first draft. I was not sure how much detail to give for the research section.");
    auto submitted = wait_for<v1::SubmitVersionResult>(
        [&](auto done) { assignments.submit(*mentee, submit, std::move(done)); });
    if (!submitted) return submitted.status();
    assignment = submitted->assignment();
  }

  // Dr. Raman's review of version 1: changes requested, one comment on page 1 quoting a passage.
  if (assignment->state() == v1::ASSIGNMENT_STATE_SUBMITTED && assignment->review_count() == 0) {
    v1::ReviewVersion review;
    review.set_assignment_id(assignment->id());
    review.set_version(assignment->version_count());
    review.set_verdict(v1::REVIEW_VERDICT_CHANGES_REQUESTED);
    review.set_summary(
        "A good start: clear and well ordered. Make the research section say what you did and what came "
        "of it, then send me the next version.");
    v1::NewComment* comment = review.add_comments();
    comment->mutable_anchor()->set_version(assignment->version_count());
    comment->mutable_anchor()->set_page(1);
    comment->mutable_anchor()->set_quote(std::string(kDemoQuote));
    comment->set_text(
        "Say what your part was and what came of it: for example, \"Reviewed 240 charts and ran the "
        "analysis; abstract accepted at the regional ACP meeting.\"");
    auto reviewed = wait_for<v1::ReviewVersionResult>(
        [&](auto done) { assignments.review(*mentor, review, std::move(done)); });
    if (!reviewed) return reviewed.status();
  }
  return Status::ok();
}

}  // namespace preceptor::server
