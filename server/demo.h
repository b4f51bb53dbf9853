#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "server/services/accounts.h"

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

}  // namespace preceptor::server
