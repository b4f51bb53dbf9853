#include "server/demo.h"

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

}  // namespace preceptor::server
