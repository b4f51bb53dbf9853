// The documents module. Not built yet: every request answers UNIMPLEMENTED
// until the service lands (issue 13).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

Status not_built() {
  return Status(v1::ERROR_CODE_UNIMPLEMENTED, "Documents are not available on this server yet.");
}

class Module final : public api::Module {
 public:
  std::string_view name() const override { return "documents"; }
  void add_requests(api::Router& router) override {
    router.handle<v1::GetDocument, v1::GetDocumentResult>(
        Access::signed_in(), [](const Caller&, const v1::GetDocument&, Reply<v1::GetDocumentResult> reply) {
          reply(not_built());
        });
  }
};

}  // namespace

std::unique_ptr<api::Module> documents_module(Core&) { return std::make_unique<Module>(); }

}  // namespace preceptor::services
