// The audit module: admins read the security log (ListAudit), and timed
// work deletes entries past the retention period.
#include "common/log.h"
#include "server/services/audit.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;

class AuditModule final : public api::Module {
 public:
  explicit AuditModule(Core& core)
      : core_(core), retention_(core.store, core.committer, core.clock, core.audit) {}
  std::string_view name() const override { return "audit"; }

  void add_requests(api::Router& router) override {
    router.handle_now<v1::ListAudit, v1::ListAuditResult>(
        Access::roles({v1::ROLE_ADMIN}, "Only an administrator can read the audit log."),
        [this](const Caller&, const v1::ListAudit& req) {
          return list_audit(core_.store, core_.accounts, req);
        });
  }

  // At most kSweepBatchesPerRun batches a run, so one run stays short
  // however far behind retention is; the next run goes on.
  void run_timed_work() override {
    for (int i = 0; i < kSweepBatchesPerRun; ++i) {
      auto swept = retention_.sweep_once();
      if (!swept) {
        log::warn("audit_sweep_failed").kv("error", swept.status().to_string());
        return;
      }
      if (swept->finished) return;
    }
  }

 private:
  static constexpr int kSweepBatchesPerRun = 20;
  Core& core_;
  AuditRetention retention_;
};

}  // namespace

std::unique_ptr<api::Module> audit_module(Core& core) { return std::make_unique<AuditModule>(core); }

}  // namespace preceptor::services
