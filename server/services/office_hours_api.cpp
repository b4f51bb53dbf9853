// The office hours module (stub: filled in by its service).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

class OfficeHoursModule final : public api::Module {
 public:
  explicit OfficeHoursModule(Core&) {}
  std::string_view name() const override { return "office hours"; }
  void add_requests(api::Router&) override {}
};

}  // namespace

std::unique_ptr<api::Module> office_hours_module(Core& core) {
  return std::make_unique<OfficeHoursModule>(core);
}

}  // namespace preceptor::services
