// The calls module (stub: filled in by its service).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

class CallsModule final : public api::Module {
 public:
  explicit CallsModule(Core&) {}
  std::string_view name() const override { return "calls"; }
  void add_requests(api::Router&) override {}
};

}  // namespace

std::unique_ptr<api::Module> calls_module(Core& core) { return std::make_unique<CallsModule>(core); }

}  // namespace preceptor::services
