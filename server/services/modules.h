#pragma once

#include <memory>
#include <vector>

#include "server/api/module.h"
#include "server/services/core.h"

namespace preceptor::services {

// Every service's module, in the order their requests and timed work are
// added (modules.cpp): the one list a new service joins.
std::vector<std::unique_ptr<api::Module>> all_modules(Core& core);

// Each service's module, defined beside the service (<name>_api.cpp).
std::unique_ptr<api::Module> accounts_module(Core& core);
std::unique_ptr<api::Module> mentorships_module(Core& core);
std::unique_ptr<api::Module> chat_module(Core& core);
std::unique_ptr<api::Module> audit_module(Core& core);
std::unique_ptr<api::Module> meetings_module(Core& core);
std::unique_ptr<api::Module> office_hours_module(Core& core);
std::unique_ptr<api::Module> reminders_module(Core& core);
std::unique_ptr<api::Module> calendar_module(Core& core);
std::unique_ptr<api::Module> calls_module(Core& core);
std::unique_ptr<api::Module> goals_module(Core& core);
std::unique_ptr<api::Module> assignments_module(Core& core);
std::unique_ptr<api::Module> documents_module(Core& core);
std::unique_ptr<api::Module> portfolio_module(Core& core);

}  // namespace preceptor::services
