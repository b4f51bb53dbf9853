// The reminders module (stub: filled in by its service).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

class RemindersModule final : public api::Module {
 public:
  explicit RemindersModule(Core&) {}
  std::string_view name() const override { return "reminders"; }
  void add_requests(api::Router&) override {}
};

}  // namespace

std::unique_ptr<api::Module> reminders_module(Core& core) { return std::make_unique<RemindersModule>(core); }

}  // namespace preceptor::services
