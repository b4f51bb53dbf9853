// The chat module: messages, history, sync, read markers, typing and
// presence. Every request is a member's: Chat answers NOT_FOUND to anyone
// outside the conversation.
#include "server/hub/hub.h"
#include "server/services/chat.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

class ChatModule final : public api::Module {
 public:
  explicit ChatModule(Core& core)
      : chat_(core.store, core.committer, core.hub, core.membership, core.clock, core.monotonic_clock,
              core.quota) {
    core.hub.add_presence_listener([this](uint64_t user, bool online) { chat_.on_presence(user, online); });
  }
  std::string_view name() const override { return "chat"; }

  void run_timed_work() override { chat_.flush_presence(); }

  void add_requests(api::Router& router) override {
    router.handle<v1::SendMessage, v1::SendMessageResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::SendMessage& req, Reply<v1::SendMessageResult> reply) {
          // The reply carries the message, so this connection is not also sent its MessagePosted.
          chat_.send(caller.user(), req, reply, caller.connection_id);
        });
    router.handle<v1::EditMessage, v1::EditMessageResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::EditMessage& req, Reply<v1::EditMessageResult> reply) {
          chat_.edit(caller.user(), req, [reply](Result<v1::Message> m) {
            if (!m) return reply(m.status());
            v1::EditMessageResult result;
            *result.mutable_message() = std::move(*m);
            reply(std::move(result));
          });
        });
    router.handle<v1::DeleteMessage, v1::DeleteMessageResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::DeleteMessage& req, Reply<v1::DeleteMessageResult> reply) {
          chat_.remove(caller.user(), req, [reply](Result<v1::Message> m) {
            if (!m) return reply(m.status());
            v1::DeleteMessageResult result;
            *result.mutable_message() = std::move(*m);
            reply(std::move(result));
          });
        });
    router.handle_now<v1::History, v1::HistoryResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::History& req) { return chat_.history(caller.user(), req); });
    router.handle_now<v1::Sync, v1::SyncResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::Sync& req) { return chat_.sync(caller.user(), req); });
    router.handle<v1::MarkRead, v1::MarkReadResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::MarkRead& req, Reply<v1::MarkReadResult> reply) {
          chat_.mark_read(caller.user(), req, reply);
        });
    router.handle_now<v1::ListConversations, v1::ListConversationsResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::ListConversations&) { return chat_.list(caller.user()); });
    router.handle_now<v1::SetTyping, v1::SetTypingResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::SetTyping& req) -> Result<v1::SetTypingResult> {
          PRECEPTOR_RETURN_IF_ERROR(chat_.set_typing(caller.user(), req));
          return v1::SetTypingResult();
        });
  }

 private:
  Chat chat_;
};

}  // namespace

std::unique_ptr<api::Module> chat_module(Core& core) { return std::make_unique<ChatModule>(core); }

}  // namespace preceptor::services
