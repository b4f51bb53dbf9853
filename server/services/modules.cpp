#include "server/services/modules.h"

namespace preceptor::services {

std::vector<std::unique_ptr<api::Module>> all_modules(Core& core) {
  std::vector<std::unique_ptr<api::Module>> modules;
  modules.push_back(accounts_module(core));
  modules.push_back(mentorships_module(core));
  modules.push_back(chat_module(core));
  modules.push_back(audit_module(core));
  modules.push_back(meetings_module(core));
  modules.push_back(office_hours_module(core));
  modules.push_back(reminders_module(core));
  modules.push_back(calendar_module(core));
  modules.push_back(calls_module(core));
  modules.push_back(goals_module(core));
  modules.push_back(assignments_module(core));
  modules.push_back(documents_module(core));
  modules.push_back(portfolio_module(core));
  return modules;
}

}  // namespace preceptor::services
