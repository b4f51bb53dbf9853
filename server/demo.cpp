#include "server/demo.h"

#include <future>
#include <initializer_list>
#include <string_view>

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

}  // namespace preceptor::server
