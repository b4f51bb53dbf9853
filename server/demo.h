#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "server/services/accounts.h"
#include "server/services/core.h"

namespace preceptor::server {

struct DemoLogin {
  std::string username;
  std::string password;
  std::string role;
  std::string display_name;
};

// Creates the demo program (one program director, two mentors, three
// mentees) unless its users already exist, and returns their logins. The
// passwords are fixed and public: a demo store is never a real one.
Result<std::vector<DemoLogin>> ensure_demo_program(services::Accounts& accounts);

// Gives the demo mentors office hours unless they already have some:
// Dr. Lindqvist weekday afternoons in Europe/Stockholm (one-to-one), Dr.
// Raman Tuesday and Thursday afternoons in America/Chicago (group slots of
// four); 30-minute slots, open to every mentee. With them, Tomas Novak's
// booking of Dr. Lindqvist's first slot two days on, so the meetings screen
// shows a meeting at once. REQUIRES: the demo users
// exist (ensure_demo_program) and the committer runs. Blocks until written.
Status ensure_demo_office_hours(services::Core& core);

}  // namespace preceptor::server
