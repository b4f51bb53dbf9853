// The calendar module (stub: filled in by its service).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

class CalendarModule final : public api::Module {
 public:
  explicit CalendarModule(Core&) {}
  std::string_view name() const override { return "calendar"; }
  void add_requests(api::Router&) override {}
};

}  // namespace

std::unique_ptr<api::Module> calendar_module(Core& core) { return std::make_unique<CalendarModule>(core); }

}  // namespace preceptor::services
