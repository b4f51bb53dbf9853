// The meetings module (stub: filled in by its service).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

class MeetingsModule final : public api::Module {
 public:
  explicit MeetingsModule(Core&) {}
  std::string_view name() const override { return "meetings"; }
  void add_requests(api::Router&) override {}
};

}  // namespace

std::unique_ptr<api::Module> meetings_module(Core& core) { return std::make_unique<MeetingsModule>(core); }

}  // namespace preceptor::services
