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

// The work between meetings, so a new user sees the flow: Dr. Raman
// mentors Lucia Garcia (career; assigned by Dr. Okafor), with one goal and
// one CV assignment Dr. Raman handed off, that Lucia acknowledged and
// answered with a first version (a short CV in Markdown, uploaded through
// the documents service: a complete document with its SHA-256), and Dr.
// Raman's review of it asking for changes, with one comment on page 1
// quoting a passage. Each step is made only when missing, so a second start
// adds nothing; nothing is added to a pair the users have since ended, and
// nothing more once the assignment moved on past the demo's steps.
// REQUIRES: the demo users exist and the committer runs. Blocks until
// written.
Status ensure_demo_work(services::Core& core);

// The demo's names, for the start-up test and the documentation.
inline constexpr const char* kDemoAssignmentTitle = "Update your CV for residency applications";
inline constexpr const char* kDemoDocumentName = "garcia-cv-draft.md";
// The CV draft Lucia Garcia submits (Markdown).
extern const char* const kDemoCvDraft;

}  // namespace preceptor::server
