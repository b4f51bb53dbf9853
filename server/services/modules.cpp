#include "server/services/modules.h"

namespace preceptor::services {

std::vector<std::unique_ptr<api::Module>> all_modules(Core& core) {
  std::vector<std::unique_ptr<api::Module>> modules;
  modules.push_back(accounts_module(core));
  modules.push_back(mentorships_module(core));
  modules.push_back(chat_module(core));
  modules.push_back(audit_module(core));
  return modules;
}

}  // namespace preceptor::services
