#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "preceptor/v1/frames.pb.h"

namespace preceptor::client {

// Where a Client is in its connection's life.
enum class State {
  kConnecting,     // opening the WebSocket
  kConnected,      // open, not signed in (no token yet: call login())
  kAuthenticated,  // signed in, caught up with Sync, outbox resent: requests flow
  kDisconnected,   // no connection; see StateChange::will_reconnect
};
const char* state_name(State state);  // "connecting", ...

struct StateChange {
  State state = State::kDisconnected;
  // kDisconnected: why (the server's close reason, a network error, "Your
  // session ended: ..."). kAuthenticated: a note when the resume was partial
  // (e.g. the server does not support Sync). Otherwise empty.
  std::string reason;
  // kDisconnected: true while the client will reconnect by itself; false once
  // it stopped (stop(), session ended, token refused, logout, go_offline()).
  bool will_reconnect = false;
};

// Everything a Client is told at construction. Durations are milliseconds.
struct Options {
  // ws://host[:port][/path]; the path defaults to /v1/ws.
  std::string url = "ws://127.0.0.1:8080/v1/ws";
  // A token from an earlier Login (saved by the app): the client sends
  // Authenticate with it on every connect. Empty: call login() once connected.
  std::string token;
  // Resume the event stream after this position (an earlier position(), saved
  // by the app). Default: from the beginning of the user's inbox.
  v1::SyncPosition resume_from;
  // After every sign-in, page through Sync from the last position and deliver
  // the stored events to on_event. Tools that only make requests turn it off
  // (live events still arrive, but position() then has no store id and is
  // not worth saving).
  bool sync_events = true;
  uint32_t sync_page_size = 500;  // events per Sync page, 1-1000

  // Reconnect delays: initial_backoff, multiplied by backoff_multiplier after
  // each failed attempt up to max_backoff, each spread by +-jitter (0.2 = 20%).
  // A server's retry_after_ms, when longer, wins. A successful sign-in resets it.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  double backoff_multiplier = 2.0;
  double jitter = 0.2;

  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect and WebSocket handshake, each
  // No traffic at all for this long drops the connection (and reconnects);
  // the client pings at half of it, so only a dead link is dropped.
  std::chrono::milliseconds idle_timeout{40'000};
};

// A Preceptor connection that stays up: a client of ws://host:port/v1/ws that
// reconnects by itself (exponential backoff with jitter), signs in again with
// its token, resumes the event stream with Sync from the last position it
// delivered, and resends unacknowledged messages with their original
// client_message_id, so the user sees every stored event once and every
// message is stored once.
//
// Requests: each has a callback form, `x(request, done)`, and a blocking form,
// `x_sync(request, timeout)`. A server Error arrives as a Status with the same
// code, message, field and retry_after_ms; a reply never comes back twice.
// Requests made before the client is signed in (or while it reconnects) wait
// and go out once it is; Login, Authenticate and Ping go out as soon as a
// connection is open. A request other than SendMessage that was sent when the
// connection dropped fails with UNAVAILABLE ("The connection dropped; retry.");
// SendMessage stays in the outbox until the server answers it.
//
// Threads: every public method may be called from any thread. The client owns
// one I/O thread; every callback (replies, events, state, store changed) runs
// on it, one at a time, in order. Callbacks must not block on it: the `_sync`
// forms called from a callback return FAILED_PRECONDITION at once, and the
// Client must not be destroyed from one of its callbacks.
class Client {
 public:
  template <class T>
  using Callback = std::function<void(Result<T>)>;
  using Timeout = std::chrono::milliseconds;
  static constexpr Timeout kDefaultTimeout{30'000};

  explicit Client(Options options);
  ~Client();  // stop(), then joins the I/O thread
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Handlers; set them before start(). Events arrive in order: stored events
  // (position > 0) once each, in position order; live-only events (typing,
  // presence; position 0) as they come. SessionEnded is delivered too, and
  // then the client stops. A message this client sent arrives as its
  // MessagePosted as well: the server puts the SendMessage reply in that
  // event's place, and the client delivers it as the event.
  void on_event(std::function<void(const v1::Event&)> handler);
  void on_state(std::function<void(const StateChange&)> handler);
  // A Sync found that the server's store is not the one the saved position
  // came from (data replaced or restored): drop local state and refetch
  // (ListMentorships, ListConversations, History). Events then continue from
  // the new store's beginning.
  void on_store_changed(std::function<void(const v1::SyncPosition& next)> handler);

  // Connects (and keeps reconnecting). INVALID_ARGUMENT for a bad url; the
  // client then stays stopped.
  Status start();
  // Closes the connection and stops for good. Every waiting request, and the
  // outbox, fails with CANCELLED. Blocks until done (not from a callback).
  void stop();
  // Closes the connection and stays offline (requests and sends wait) until
  // go_online(); for an app going to the background.
  void go_offline();
  void go_online();

  // Snapshots, from any thread.
  State state() const;
  // The last position delivered (or reached by Sync): save it with the token
  // and pass both in Options to resume after a restart.
  v1::SyncPosition position() const;
  std::string token() const;   // empty until signed in
  v1::User user() const;       // the signed-in user, or empty
  size_t outbox_size() const;  // messages sent but not yet acknowledged

  // Test hooks: drop the TCP connection without a WebSocket close, as a
  // network failure would. The client then reconnects by itself. Like every
  // method they take effect in call order on the client's thread; to drop
  // between a request and its reply with certainty, call both from a Client
  // callback (the client's thread reads nothing in between).
  void drop_connection_for_test();
  // As above, but once every request made before it has been written; what
  // arrives from then on is ignored. The requests reach the server while
  // their replies are lost.
  void drop_connection_after_writes_for_test();

  // Accounts. A successful login() or authenticate() keeps the token for
  // reconnects; logout() ends it and stops the client.
  void login(v1::Login request, Callback<v1::LoginResult> done);
  Result<v1::LoginResult> login_sync(v1::Login request, Timeout timeout = kDefaultTimeout);
  void authenticate(v1::Authenticate request, Callback<v1::AuthenticateResult> done);
  Result<v1::AuthenticateResult> authenticate_sync(v1::Authenticate request,
                                                   Timeout timeout = kDefaultTimeout);
  void logout(v1::Logout request, Callback<v1::LogoutResult> done);
  Result<v1::LogoutResult> logout_sync(v1::Logout request, Timeout timeout = kDefaultTimeout);
  void who_am_i(v1::WhoAmI request, Callback<v1::WhoAmIResult> done);
  Result<v1::WhoAmIResult> who_am_i_sync(v1::WhoAmI request, Timeout timeout = kDefaultTimeout);
  void ping(v1::Ping request, Callback<v1::PingResult> done);
  Result<v1::PingResult> ping_sync(v1::Ping request, Timeout timeout = kDefaultTimeout);
  void revoke_tokens(v1::RevokeTokens request, Callback<v1::RevokeTokensResult> done);
  Result<v1::RevokeTokensResult> revoke_tokens_sync(v1::RevokeTokens request,
                                                    Timeout timeout = kDefaultTimeout);
  void set_account_disabled(v1::SetAccountDisabled request, Callback<v1::SetAccountDisabledResult> done);
  Result<v1::SetAccountDisabledResult> set_account_disabled_sync(v1::SetAccountDisabled request,
                                                                 Timeout timeout = kDefaultTimeout);
  void reset_password(v1::ResetPassword request, Callback<v1::ResetPasswordResult> done);
  Result<v1::ResetPasswordResult> reset_password_sync(v1::ResetPassword request,
                                                      Timeout timeout = kDefaultTimeout);
  // Admins: the audit log, a page at a time.
  void list_audit(v1::ListAudit request, Callback<v1::ListAuditResult> done);
  Result<v1::ListAuditResult> list_audit_sync(v1::ListAudit request, Timeout timeout = kDefaultTimeout);

  // Mentorships.
  void update_mentor_profile(v1::UpdateMentorProfile request, Callback<v1::UpdateMentorProfileResult> done);
  Result<v1::UpdateMentorProfileResult> update_mentor_profile_sync(v1::UpdateMentorProfile request,
                                                                   Timeout timeout = kDefaultTimeout);
  void list_mentors(v1::ListMentors request, Callback<v1::ListMentorsResult> done);
  Result<v1::ListMentorsResult> list_mentors_sync(v1::ListMentors request, Timeout timeout = kDefaultTimeout);
  void request_mentorship(v1::RequestMentorship request, Callback<v1::RequestMentorshipResult> done);
  Result<v1::RequestMentorshipResult> request_mentorship_sync(v1::RequestMentorship request,
                                                              Timeout timeout = kDefaultTimeout);
  void accept_mentorship(v1::AcceptMentorship request, Callback<v1::AcceptMentorshipResult> done);
  Result<v1::AcceptMentorshipResult> accept_mentorship_sync(v1::AcceptMentorship request,
                                                            Timeout timeout = kDefaultTimeout);
  void decline_mentorship(v1::DeclineMentorship request, Callback<v1::DeclineMentorshipResult> done);
  Result<v1::DeclineMentorshipResult> decline_mentorship_sync(v1::DeclineMentorship request,
                                                              Timeout timeout = kDefaultTimeout);
  void assign_mentorship(v1::AssignMentorship request, Callback<v1::AssignMentorshipResult> done);
  Result<v1::AssignMentorshipResult> assign_mentorship_sync(v1::AssignMentorship request,
                                                            Timeout timeout = kDefaultTimeout);
  void end_mentorship(v1::EndMentorship request, Callback<v1::EndMentorshipResult> done);
  Result<v1::EndMentorshipResult> end_mentorship_sync(v1::EndMentorship request,
                                                      Timeout timeout = kDefaultTimeout);
  void propose_agreement(v1::ProposeAgreement request, Callback<v1::ProposeAgreementResult> done);
  Result<v1::ProposeAgreementResult> propose_agreement_sync(v1::ProposeAgreement request,
                                                            Timeout timeout = kDefaultTimeout);
  void accept_agreement(v1::AcceptAgreement request, Callback<v1::AcceptAgreementResult> done);
  Result<v1::AcceptAgreementResult> accept_agreement_sync(v1::AcceptAgreement request,
                                                          Timeout timeout = kDefaultTimeout);
  void list_mentorships(v1::ListMentorships request, Callback<v1::ListMentorshipsResult> done);
  Result<v1::ListMentorshipsResult> list_mentorships_sync(v1::ListMentorships request,
                                                          Timeout timeout = kDefaultTimeout);
  // Every page from the request's position on, following has_more: the
  // entries of all pages in one result (has_more false). Each page may take
  // `timeout`. Directories and mentorship lists come a page at a time
  // (ListMentors, ListMentorships), so an app that wants them whole uses these.
  Result<v1::ListMentorsResult> list_all_mentors_sync(v1::ListMentors request,
                                                      Timeout timeout = kDefaultTimeout);
  Result<v1::ListMentorshipsResult> list_all_mentorships_sync(v1::ListMentorships request,
                                                              Timeout timeout = kDefaultTimeout);

  // Chat. send_message fills an empty client_message_id with 128 random bits
  // in hex, and keeps the message in the outbox until the server answers it
  // (with the stored message or an Error): across reconnects it is resent
  // with the same id (the server then answers with the original message,
  // duplicate = true), and `done` runs once. Messages written while offline
  // go out, in order, once the client is signed in and caught up.
  void send_message(v1::SendMessage request, Callback<v1::SendMessageResult> done);
  Result<v1::SendMessageResult> send_message_sync(v1::SendMessage request, Timeout timeout = kDefaultTimeout);
  void edit_message(v1::EditMessage request, Callback<v1::EditMessageResult> done);
  Result<v1::EditMessageResult> edit_message_sync(v1::EditMessage request, Timeout timeout = kDefaultTimeout);
  void delete_message(v1::DeleteMessage request, Callback<v1::DeleteMessageResult> done);
  Result<v1::DeleteMessageResult> delete_message_sync(v1::DeleteMessage request,
                                                      Timeout timeout = kDefaultTimeout);
  void history(v1::History request, Callback<v1::HistoryResult> done);
  Result<v1::HistoryResult> history_sync(v1::History request, Timeout timeout = kDefaultTimeout);
  // A raw Sync page; it does not move position() (the client's own resume does).
  void sync(v1::Sync request, Callback<v1::SyncResult> done);
  Result<v1::SyncResult> sync_sync(v1::Sync request, Timeout timeout = kDefaultTimeout);
  void mark_read(v1::MarkRead request, Callback<v1::MarkReadResult> done);
  Result<v1::MarkReadResult> mark_read_sync(v1::MarkRead request, Timeout timeout = kDefaultTimeout);
  void list_conversations(v1::ListConversations request, Callback<v1::ListConversationsResult> done);
  Result<v1::ListConversationsResult> list_conversations_sync(v1::ListConversations request,
                                                              Timeout timeout = kDefaultTimeout);
  void set_typing(v1::SetTyping request, Callback<v1::SetTypingResult> done);
  Result<v1::SetTypingResult> set_typing_sync(v1::SetTyping request, Timeout timeout = kDefaultTimeout);

  // Meetings in a mentorship (meetings.proto).
  void propose_meeting(v1::ProposeMeeting request, Callback<v1::ProposeMeetingResult> done);
  Result<v1::ProposeMeetingResult> propose_meeting_sync(v1::ProposeMeeting request,
                                                        Timeout timeout = kDefaultTimeout);
  void accept_meeting(v1::AcceptMeeting request, Callback<v1::AcceptMeetingResult> done);
  Result<v1::AcceptMeetingResult> accept_meeting_sync(v1::AcceptMeeting request,
                                                      Timeout timeout = kDefaultTimeout);
  void decline_meeting(v1::DeclineMeeting request, Callback<v1::DeclineMeetingResult> done);
  Result<v1::DeclineMeetingResult> decline_meeting_sync(v1::DeclineMeeting request,
                                                        Timeout timeout = kDefaultTimeout);
  void reschedule_meeting(v1::RescheduleMeeting request, Callback<v1::RescheduleMeetingResult> done);
  Result<v1::RescheduleMeetingResult> reschedule_meeting_sync(v1::RescheduleMeeting request,
                                                              Timeout timeout = kDefaultTimeout);
  void cancel_meeting(v1::CancelMeeting request, Callback<v1::CancelMeetingResult> done);
  Result<v1::CancelMeetingResult> cancel_meeting_sync(v1::CancelMeeting request,
                                                      Timeout timeout = kDefaultTimeout);
  void mark_meeting(v1::MarkMeeting request, Callback<v1::MarkMeetingResult> done);
  Result<v1::MarkMeetingResult> mark_meeting_sync(v1::MarkMeeting request, Timeout timeout = kDefaultTimeout);
  void write_meeting_notes(v1::WriteMeetingNotes request, Callback<v1::WriteMeetingNotesResult> done);
  Result<v1::WriteMeetingNotesResult> write_meeting_notes_sync(v1::WriteMeetingNotes request,
                                                               Timeout timeout = kDefaultTimeout);
  void answer_fit(v1::AnswerFit request, Callback<v1::AnswerFitResult> done);
  Result<v1::AnswerFitResult> answer_fit_sync(v1::AnswerFit request, Timeout timeout = kDefaultTimeout);
  void get_fit_summary(v1::GetFitSummary request, Callback<v1::GetFitSummaryResult> done);
  Result<v1::GetFitSummaryResult> get_fit_summary_sync(v1::GetFitSummary request,
                                                       Timeout timeout = kDefaultTimeout);
  void list_meetings(v1::ListMeetings request, Callback<v1::ListMeetingsResult> done);
  Result<v1::ListMeetingsResult> list_meetings_sync(v1::ListMeetings request,
                                                    Timeout timeout = kDefaultTimeout);
  // Office hours and bookings.
  void set_office_hours(v1::SetOfficeHours request, Callback<v1::SetOfficeHoursResult> done);
  Result<v1::SetOfficeHoursResult> set_office_hours_sync(v1::SetOfficeHours request,
                                                         Timeout timeout = kDefaultTimeout);
  void get_office_hours(v1::GetOfficeHours request, Callback<v1::GetOfficeHoursResult> done);
  Result<v1::GetOfficeHoursResult> get_office_hours_sync(v1::GetOfficeHours request,
                                                         Timeout timeout = kDefaultTimeout);
  void list_slots(v1::ListSlots request, Callback<v1::ListSlotsResult> done);
  Result<v1::ListSlotsResult> list_slots_sync(v1::ListSlots request, Timeout timeout = kDefaultTimeout);
  void book_slot(v1::BookSlot request, Callback<v1::BookSlotResult> done);
  Result<v1::BookSlotResult> book_slot_sync(v1::BookSlot request, Timeout timeout = kDefaultTimeout);
  // The drop-in queue.
  void join_queue(v1::JoinQueue request, Callback<v1::JoinQueueResult> done);
  Result<v1::JoinQueueResult> join_queue_sync(v1::JoinQueue request, Timeout timeout = kDefaultTimeout);
  void leave_queue(v1::LeaveQueue request, Callback<v1::LeaveQueueResult> done);
  Result<v1::LeaveQueueResult> leave_queue_sync(v1::LeaveQueue request, Timeout timeout = kDefaultTimeout);
  void call_next(v1::CallNext request, Callback<v1::CallNextResult> done);
  Result<v1::CallNextResult> call_next_sync(v1::CallNext request, Timeout timeout = kDefaultTimeout);
  void skip_in_queue(v1::SkipInQueue request, Callback<v1::SkipInQueueResult> done);
  Result<v1::SkipInQueueResult> skip_in_queue_sync(v1::SkipInQueue request,
                                                   Timeout timeout = kDefaultTimeout);
  void get_queue(v1::GetQueue request, Callback<v1::GetQueueResult> done);
  Result<v1::GetQueueResult> get_queue_sync(v1::GetQueue request, Timeout timeout = kDefaultTimeout);
  // Reminders, quiet hours, the calendar feed.
  void set_meeting_preferences(v1::SetMeetingPreferences request,
                               Callback<v1::SetMeetingPreferencesResult> done);
  Result<v1::SetMeetingPreferencesResult> set_meeting_preferences_sync(v1::SetMeetingPreferences request,
                                                                       Timeout timeout = kDefaultTimeout);
  void get_meeting_preferences(v1::GetMeetingPreferences request,
                               Callback<v1::GetMeetingPreferencesResult> done);
  Result<v1::GetMeetingPreferencesResult> get_meeting_preferences_sync(v1::GetMeetingPreferences request,
                                                                       Timeout timeout = kDefaultTimeout);
  void rotate_calendar_feed(v1::RotateCalendarFeed request, Callback<v1::RotateCalendarFeedResult> done);
  Result<v1::RotateCalendarFeedResult> rotate_calendar_feed_sync(v1::RotateCalendarFeed request,
                                                                 Timeout timeout = kDefaultTimeout);
  // The call: ICE servers and signaling (CallUpdate and CallSignal arrive as live events).
  void get_ice_servers(v1::GetIceServers request, Callback<v1::GetIceServersResult> done);
  Result<v1::GetIceServersResult> get_ice_servers_sync(v1::GetIceServers request,
                                                       Timeout timeout = kDefaultTimeout);
  void start_call(v1::StartCall request, Callback<v1::StartCallResult> done);
  Result<v1::StartCallResult> start_call_sync(v1::StartCall request, Timeout timeout = kDefaultTimeout);
  void answer_call(v1::AnswerCall request, Callback<v1::AnswerCallResult> done);
  Result<v1::AnswerCallResult> answer_call_sync(v1::AnswerCall request, Timeout timeout = kDefaultTimeout);
  void hang_up(v1::HangUp request, Callback<v1::HangUpResult> done);
  Result<v1::HangUpResult> hang_up_sync(v1::HangUp request, Timeout timeout = kDefaultTimeout);
  void send_call_signal(v1::SendCallSignal request, Callback<v1::SendCallSignalResult> done);
  Result<v1::SendCallSignalResult> send_call_signal_sync(v1::SendCallSignal request,
                                                         Timeout timeout = kDefaultTimeout);

  // Goals and reassessment (work.proto): either member of a mentorship.
  void add_goal(v1::AddGoal request, Callback<v1::AddGoalResult> done);
  Result<v1::AddGoalResult> add_goal_sync(v1::AddGoal request, Timeout timeout = kDefaultTimeout);
  void edit_goal(v1::EditGoal request, Callback<v1::EditGoalResult> done);
  Result<v1::EditGoalResult> edit_goal_sync(v1::EditGoal request, Timeout timeout = kDefaultTimeout);
  void set_goal_state(v1::SetGoalState request, Callback<v1::SetGoalStateResult> done);
  Result<v1::SetGoalStateResult> set_goal_state_sync(v1::SetGoalState request,
                                                     Timeout timeout = kDefaultTimeout);
  void add_goal_note(v1::AddGoalNote request, Callback<v1::AddGoalNoteResult> done);
  Result<v1::AddGoalNoteResult> add_goal_note_sync(v1::AddGoalNote request,
                                                   Timeout timeout = kDefaultTimeout);
  void list_goals(v1::ListGoals request, Callback<v1::ListGoalsResult> done);
  Result<v1::ListGoalsResult> list_goals_sync(v1::ListGoals request, Timeout timeout = kDefaultTimeout);
  void get_goal_history(v1::GetGoalHistory request, Callback<v1::GetGoalHistoryResult> done);
  Result<v1::GetGoalHistoryResult> get_goal_history_sync(v1::GetGoalHistory request,
                                                         Timeout timeout = kDefaultTimeout);
  void reassess(v1::Reassess request, Callback<v1::ReassessResult> done);
  Result<v1::ReassessResult> reassess_sync(v1::Reassess request, Timeout timeout = kDefaultTimeout);
  void list_reassessments(v1::ListReassessments request, Callback<v1::ListReassessmentsResult> done);
  Result<v1::ListReassessmentsResult> list_reassessments_sync(v1::ListReassessments request,
                                                              Timeout timeout = kDefaultTimeout);
  // A document's metadata; its bytes travel over HTTP (preceptor/client/documents.h).
  void get_document(v1::GetDocument request, Callback<v1::GetDocumentResult> done);
  Result<v1::GetDocumentResult> get_document_sync(v1::GetDocument request, Timeout timeout = kDefaultTimeout);
  // Assignments, versions and reviews. A version's document is uploaded first
  // (Documents::upload), then named in SubmitVersion.
  void create_assignment(v1::CreateAssignment request, Callback<v1::CreateAssignmentResult> done);
  Result<v1::CreateAssignmentResult> create_assignment_sync(v1::CreateAssignment request,
                                                            Timeout timeout = kDefaultTimeout);
  void acknowledge_assignment(v1::AcknowledgeAssignment request,
                              Callback<v1::AcknowledgeAssignmentResult> done);
  Result<v1::AcknowledgeAssignmentResult> acknowledge_assignment_sync(v1::AcknowledgeAssignment request,
                                                                      Timeout timeout = kDefaultTimeout);
  void submit_version(v1::SubmitVersion request, Callback<v1::SubmitVersionResult> done);
  Result<v1::SubmitVersionResult> submit_version_sync(v1::SubmitVersion request,
                                                      Timeout timeout = kDefaultTimeout);
  void review_version(v1::ReviewVersion request, Callback<v1::ReviewVersionResult> done);
  Result<v1::ReviewVersionResult> review_version_sync(v1::ReviewVersion request,
                                                      Timeout timeout = kDefaultTimeout);
  void reply_to_comment(v1::ReplyToComment request, Callback<v1::ReplyToCommentResult> done);
  Result<v1::ReplyToCommentResult> reply_to_comment_sync(v1::ReplyToComment request,
                                                         Timeout timeout = kDefaultTimeout);
  void resolve_comment(v1::ResolveComment request, Callback<v1::ResolveCommentResult> done);
  Result<v1::ResolveCommentResult> resolve_comment_sync(v1::ResolveComment request,
                                                        Timeout timeout = kDefaultTimeout);
  void withdraw_assignment(v1::WithdrawAssignment request, Callback<v1::WithdrawAssignmentResult> done);
  Result<v1::WithdrawAssignmentResult> withdraw_assignment_sync(v1::WithdrawAssignment request,
                                                                Timeout timeout = kDefaultTimeout);
  void list_assignments(v1::ListAssignments request, Callback<v1::ListAssignmentsResult> done);
  Result<v1::ListAssignmentsResult> list_assignments_sync(v1::ListAssignments request,
                                                          Timeout timeout = kDefaultTimeout);
  void get_assignment(v1::GetAssignment request, Callback<v1::GetAssignmentResult> done);
  Result<v1::GetAssignmentResult> get_assignment_sync(v1::GetAssignment request,
                                                      Timeout timeout = kDefaultTimeout);

  class Impl;

 private:
  struct Runtime;
  std::unique_ptr<Runtime> runtime_;  // the io_context and its thread
  std::shared_ptr<Impl> impl_;        // lives on runtime_'s strand
};

// A fresh client_message_id: 128 random bits as 32 lowercase hex digits.
std::string new_client_message_id();

}  // namespace preceptor::client
