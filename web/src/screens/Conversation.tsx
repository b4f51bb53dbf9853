import {
  CheckInStatus,
  ErrorCode,
  MeetingState,
  MentorshipState,
  MessageKind,
  Role,
  type Assignment,
  type Goal,
  type Meeting,
  type Message,
  type MentorshipView,
  type PendingMessage,
} from "@preceptor/client";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { Dialog, FormError } from "../components/Dialog.js";
import { memo } from "../components/memo.js";
import {
  CADENCES,
  CHANNELS,
  CHECK_IN_STATUSES,
  cadenceLabel,
  channelLabel,
  checkInLabel,
  fullTime,
  isoTime,
  meetingStateLabel,
  purposeLabel,
  shortTime,
  stateLabel,
} from "../labels.js";
import { assignmentHref, assignmentsHref, goalsHref, meetingHref, useModel, useNow } from "../hooks.js";
import { meetingRowText } from "../meetings.js";
import { assignmentRowText, goalRowText } from "../work.js";
import { assignmentStateClass, assignmentStateLabel, dueStatus, goalStateLabel } from "../work-labels.js";
import { ProposeMeetingDialog } from "./Meetings.js";
import { errorText, type ConvState, type Model } from "../model.js";

let firstMessagesMarked = false;
const CSS_SIZES_FIELDS = typeof CSS !== "undefined" && CSS.supports("field-sizing", "content");

export function ConversationScreen({ model, id }: { model: Model; id: bigint }) {
  useModel(model);
  const conv = model.conv(id);
  const view = model.mentorshipOfConversation(id);
  const summary = model.conversations.get(id);
  const [dialog, setDialog] = useState<"checkin" | "agreement" | "meeting" | null>(null);
  const member = model.role === Role.MENTEE || model.role === Role.MENTOR;
  const authenticated = model.conn.state === "authenticated";

  // The pair's meetings show in the timeline: one's meetings are listed once
  // (shared with the Meetings screen) and kept current by MeetingChanged.
  useEffect(() => {
    if (member && authenticated && !model.meetings.loaded && !model.meetings.loading) void model.meetings.load();
  }, [member, authenticated]);
  // So are its goals and assignments (read once, kept current by their events).
  const mentorshipId = view?.mentorship?.id;
  useEffect(() => {
    if (member && authenticated && mentorshipId !== undefined) model.work.ensure(mentorshipId);
  });

  useEffect(() => {
    model.openConversation = id;
    if (!conv.loaded && !conv.loading) void model.loadConversation(id);
    return () => {
      if (model.openConversation === id) model.openConversation = undefined;
      model.stopTyping(id);
    };
  }, [id]);

  // Mark what is on screen read while the page is visible.
  const [visible, setVisible] = useState(document.visibilityState === "visible");
  useEffect(() => {
    const h = () => setVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", h);
    return () => document.removeEventListener("visibilitychange", h);
  }, []);
  let newest = 0n;
  for (const seq of conv.messages.keys()) if (seq > newest) newest = seq;
  useEffect(() => {
    if (visible && conv.loaded && newest > 0n) model.markRead(id, newest);
  });

  if (conv.error && (conv.error.code === ErrorCode.NOT_FOUND || conv.error.code === ErrorCode.PERMISSION_DENIED)) {
    return (
      <div class="empty" role="alert" data-testid="conversation-not-found">
        <h1>Conversation not found</h1>
        <p>This conversation does not exist, or it is not one of yours.</p>
        <p>
          <a href="#/">Back to your mentorships</a>
        </p>
      </div>
    );
  }

  const ms = view?.mentorship;
  const other = ms ? model.counterpartOf(ms) : undefined;
  const readOnly = summary?.readOnly || ms?.state === MentorshipState.ENDED;
  const typing = conv.typingUntil > Date.now();
  const otherName = other?.displayName ?? "your mentorship partner";

  return (
    <section class="conversation" aria-labelledby="conv-title" data-testid="conversation">
      <header class="conv-head">
        <a class="btn btn-quiet btn-small back-link" href="#/" aria-label="Back to your mentorships">
          <span aria-hidden="true">←</span>
          <span class="back-text" aria-hidden="true">
            Mentorships
          </span>
        </a>
        <div class="conv-title">
          <h1 id="conv-title">{other?.displayName ?? (conv.loaded ? "Conversation" : "Loading…")}</h1>
          {ms && (
            <p class="muted small">
              <span class="conv-details">
                {[other?.trainingLevel, other?.specialty].filter(Boolean).join(", ")}
                {other && " · "}
              </span>
              {purposeLabel(ms.purpose)} · {stateLabel(ms.state)}
              {ms.agreement && ms.agreement.acceptedAtMs !== 0n && ` · ${cadenceLabel(ms.agreement.cadence)}`}
            </p>
          )}
        </div>
        {view && ms && member && (
          <div class="conv-actions">
            <a class="btn btn-small" href={goalsHref(ms.id)}>
              Goals
            </a>
            <a class="btn btn-small" href={assignmentsHref(ms.id)}>
              Assignments
            </a>
            {!readOnly && (
              <button type="button" class="btn btn-small" onClick={() => setDialog("checkin")}>
                Check in
              </button>
            )}
            {!readOnly && ms?.state === MentorshipState.ACTIVE && (
              <button type="button" class="btn btn-small" onClick={() => setDialog("meeting")}>
                Propose meeting
              </button>
            )}
            {!readOnly && (
              <button type="button" class="btn btn-small" onClick={() => setDialog("agreement")}>
                Agreement
                {ms?.proposedAgreement && ms.proposedAgreement.proposedBy !== model.me?.id && (
                  <span class="badge badge-dot" aria-label="(a proposal waits for you)" />
                )}
              </button>
            )}
          </div>
        )}
      </header>
      {readOnly && (
        <p class="banner banner-info" data-testid="read-only-banner">
          This mentorship has ended. The conversation is read-only.
        </p>
      )}
      {!readOnly && view?.engagement?.checkinOverdue && (
        <p class="banner banner-wait" data-testid="checkin-due">
          A check-in is due: your agreed {cadenceLabel(ms!.agreement?.cadence ?? 0).toLowerCase()} contact has passed
          without one.{" "}
          <button type="button" class="btn btn-small" onClick={() => setDialog("checkin")}>
            Check in now
          </button>
        </p>
      )}
      {conv.error && (
        <p class="banner banner-off" role="alert">
          Could not load the conversation: {conv.error.message}
        </p>
      )}
      <MessageList
        model={model}
        conv={conv}
        readOnly={!!readOnly}
        rows={ms && member ? timelineRows(model, ms.id) : []}
      />
      <p class="typing" aria-live="polite" data-testid="typing">
        {typing ? `${otherName} is typing…` : ""}
      </p>
      {!readOnly && <Composer model={model} id={id} otherName={otherName} />}
      {dialog === "checkin" && <CheckInDialog model={model} id={id} onClose={() => setDialog(null)} />}
      {dialog === "meeting" && ms && (
        <ProposeMeetingDialog model={model} mentorshipId={ms.id} onClose={() => setDialog(null)} />
      )}
      {dialog === "agreement" && view && (
        <AgreementDialog model={model} view={view} onClose={() => setDialog(null)} />
      )}
    </section>
  );
}

/** A row of the timeline that is not a message: a meeting, a goal or an assignment, at its last change. */
type TimelineRow =
  | { row: "meeting"; at: bigint; meeting: Meeting }
  | { row: "goal"; at: bigint; goal: Goal }
  | { row: "assignment"; at: bigint; assignment: Assignment };

/** The pair's meetings, goals and assignments, oldest change first. */
function timelineRows(model: Model, mentorshipId: bigint): TimelineRow[] {
  const rows: TimelineRow[] = model.meetings.ofMentorship(mentorshipId).map((m) => ({ row: "meeting", at: m.updatedMs, meeting: m }));
  for (const g of model.work.goalsOf(mentorshipId)) rows.push({ row: "goal", at: g.updatedMs, goal: g });
  for (const a of model.work.assignmentsOf(mentorshipId)) rows.push({ row: "assignment", at: a.updatedMs, assignment: a });
  // Stable: meetings keep their order (ofMentorship's) among equal times.
  return rows.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
}

function MessageList({
  model,
  conv,
  readOnly,
  rows: allRows,
}: {
  model: Model;
  conv: ConvState;
  readOnly: boolean;
  rows: TimelineRow[]; // the pair's meetings, goals and assignments, oldest change first
}) {
  const me = model.me?.id;
  const messages = model.sortedMessages(conv.id);
  // Rows in the loaded window only: changed since the oldest message on
  // screen (all of them once the beginning is loaded).
  const from = conv.hasMoreOlder && messages.length > 0 ? messages[0]!.sentAtMs : undefined;
  const rows = conv.loaded ? allRows.filter((r) => from === undefined || r.at >= from) : [];
  const mine = new Set<string>();
  for (const m of messages) if (m.senderId === me) mine.add(m.clientMessageId);
  // Pending sends of this conversation not yet seen stored.
  const pending = model.outbox.filter((p) => p.conversationId === conv.id && !mine.has(p.clientMessageId));

  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const prevOldest = useRef(0n);
  // The first message on screen and how far below the top it was: kept in
  // place when an older page is put above it.
  const anchor = useRef<{ seq: string; offset: number } | null>(null);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const grewAbove = prevOldest.current !== 0n && conv.oldestSeq < prevOldest.current;
    prevOldest.current = conv.oldestSeq;
    if (grewAbove && anchor.current) {
      const node = el.querySelector<HTMLElement>(`[data-seq="${anchor.current.seq}"]`);
      if (node) el.scrollTop = node.offsetTop - anchor.current.offset;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    if (conv.loaded && !firstMessagesMarked) {
      firstMessagesMarked = true;
      performance.mark("preceptor:messages-shown");
    }
    // Too few to scroll: fetch older pages until it fills (or none is left).
    if (conv.loaded && conv.hasMoreOlder && !conv.loading && el.scrollTop < 200) {
      if (el.scrollHeight <= el.clientHeight + 40) {
        noteAnchor();
        void model.loadOlder(conv.id);
      }
    }
  });

  function noteAnchor() {
    const el = scroller.current!;
    const top = el.scrollTop;
    for (const node of el.querySelectorAll<HTMLElement>("[data-seq]")) {
      if (node.offsetTop + node.offsetHeight > top) {
        anchor.current = { seq: node.dataset.seq!, offset: node.offsetTop - top };
        return;
      }
    }
    anchor.current = null;
  }

  function onScroll() {
    const el = scroller.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 200 && conv.hasMoreOlder && !conv.loading) {
      noteAnchor();
      void model.loadOlder(conv.id);
    }
  }

  let seenSeq = 0n;
  if (conv.counterpartReadSeq > 0n) {
    for (const m of messages) if (m.senderId === me && m.seq <= conv.counterpartReadSeq) seenSeq = m.seq;
  }

  return (
    <div
      class="messages"
      ref={scroller}
      onScroll={onScroll}
      data-testid="messages"
      role="log"
      aria-label="Messages (arrow keys scroll)"
      tabIndex={0}
    >
      {conv.loaded && conv.hasMoreOlder && (
        <p class="older">
          <button
            type="button"
            class="btn btn-quiet btn-small"
            disabled={conv.loading}
            onClick={() => {
              noteAnchor();
              void model.loadOlder(conv.id);
            }}
          >
            {conv.loading ? "Loading older messages…" : "Load older messages"}
          </button>
        </p>
      )}
      {conv.loaded && !conv.hasMoreOlder && messages.length > 0 && (
        <p class="older muted small">The beginning of your conversation.</p>
      )}
      {!conv.loaded && !conv.error && (
        <p class="muted" role="status">
          Loading messages…
        </p>
      )}
      {conv.loaded && messages.length === 0 && pending.length === 0 && (
        <p class="muted empty-conv">No messages yet. Say hello!</p>
      )}
      <ol class="msg-list">
        {interleave(messages, rows).map((item, i, all) => {
          if ("row" in item) {
            if (item.row === "meeting") return <MeetingRow key={`meeting-${item.meeting.id}`} model={model} m={item.meeting} />;
            return <WorkRow key={`${item.row}-${item.row === "goal" ? item.goal.id : item.assignment.id}`} model={model} item={item} />;
          }
          const m = item;
          const before = all[i - 1];
          const sameSender = before !== undefined && !("row" in before) && before.senderId === m.senderId;
          return (
            <MessageItem
              key={String(m.seq)}
              model={model}
              m={m}
              mine={m.senderId === me}
              senderName={sameSender ? "" : model.userName(m.senderId)}
              seen={m.seq === seenSeq}
              readOnly={readOnly}
            />
          );
        })}
        {pending.map((p) => (
          <PendingItem key={p.clientMessageId} model={model} p={p} />
        ))}
      </ol>
    </div>
  );
}

/** Messages (by seq) and rows (by their last change) in time order; a message first on a tie. */
function interleave(messages: Message[], rows: TimelineRow[]): (Message | TimelineRow)[] {
  if (rows.length === 0) return messages;
  const out: (Message | TimelineRow)[] = [];
  let r = 0;
  for (const m of messages) {
    while (r < rows.length && rows[r]!.at < m.sentAtMs) out.push(rows[r++]!);
    out.push(m);
  }
  while (r < rows.length) out.push(rows[r++]!);
  return out;
}

/** A meeting in the timeline: a compact line (not a bubble) with its state now and a link to it. */
function MeetingRow({ model, m }: { model: Model; m: Meeting }) {
  const me = model.me?.id;
  const text = meetingRowText(m, me, (id) => model.userName(id));
  const pending = m.pending && m.pending.startMs !== 0n ? m.pending : undefined;
  const live = m.state === MeetingState.PROPOSED || m.state === MeetingState.ACCEPTED;
  const yourTurn = live && (pending ? pending.proposedBy !== me : m.state === MeetingState.PROPOSED && m.proposedBy !== me);
  const state = pending && live ? "New time asked" : meetingStateLabel(m.state);
  return (
    <li class="timeline-row" data-testid="meeting-row" data-meeting-id={String(m.id)}>
      <p class="timeline-text">
        <span class={`state meeting-state-${meetingStateLabel(m.state).toLowerCase()}`} data-testid="meeting-row-state">
          {state}
        </span>{" "}
        <span data-testid="meeting-row-text">{text}</span>
        {m.agenda && <span class="timeline-agenda"> — {m.agenda}</span>}
      </p>
      <p class="msg-meta">
        <time dateTime={isoTime(m.updatedMs)} title={fullTime(m.updatedMs)}>
          {shortTime(m.updatedMs)}
        </time>
        {" · "}
        <a href={meetingHref(m.id)}>{yourTurn ? "Answer in Meetings" : "Open in Meetings"}</a>
      </p>
    </li>
  );
}

/** A goal or an assignment in the timeline: a compact line with what happened last and a link to it. */
function WorkRow({ model, item }: { model: Model; item: Exclude<TimelineRow, { row: "meeting" }> }) {
  const me = model.me?.id;
  const now = useNow(60_000);
  const name = (id: bigint) => model.userName(id);
  if (item.row === "goal") {
    const g = item.goal;
    return (
      <li class="timeline-row timeline-work" data-testid="work-row" data-kind="goal" data-goal-id={String(g.id)}>
        <p class="timeline-text">
          <span class={`state goal-state-${goalStateLabel(g.state).toLowerCase()}`} data-testid="work-row-state">
            {goalStateLabel(g.state)}
          </span>{" "}
          <span data-testid="work-row-text">{goalRowText(g, model.work.lastGoalChange.get(g.id), me, name)}</span>
        </p>
        <p class="msg-meta">
          <time dateTime={isoTime(g.updatedMs)} title={fullTime(g.updatedMs)}>
            {shortTime(g.updatedMs)}
          </time>
          {" · "}
          <a href={goalsHref(g.mentorshipId)}>Open goals</a>
        </p>
      </li>
    );
  }
  const a = item.assignment;
  const due = dueStatus(a, now);
  return (
    <li class="timeline-row timeline-work" data-testid="work-row" data-kind="assignment" data-assignment-id={String(a.id)}>
      <p class="timeline-text">
        <span class={`state assignment-state-${assignmentStateClass(a.state)}`} data-testid="work-row-state">
          {assignmentStateLabel(a.state)}
        </span>{" "}
        <span data-testid="work-row-text">{assignmentRowText(a, model.work.lastAssignmentChange.get(a.id), me, name)}</span>
        {due === "overdue" && <strong class="overdue"> · overdue</strong>}
        {due === "soon" && <strong class="due-soon"> · due soon</strong>}
      </p>
      <p class="msg-meta">
        <time dateTime={isoTime(a.updatedMs)} title={fullTime(a.updatedMs)}>
          {shortTime(a.updatedMs)}
        </time>
        {" · "}
        <a href={assignmentHref(a.id)}>Open assignment</a>
      </p>
    </li>
  );
}

function CheckInBadge({ status, note }: { status: CheckInStatus; note: string }) {
  const cls =
    status === CheckInStatus.ON_TRACK ? "ok" : status === CheckInStatus.NEED_HELP ? "warn" : "bad";
  return (
    <div class={`checkin checkin-${cls}`}>
      <strong>Check-in: {checkInLabel(status)}</strong>
      {note && <p class="body">{note}</p>}
    </div>
  );
}

/** One stored message; rendered again only when one of its props changes. */
const MessageItem = memo(function MessageItem({
  model,
  m,
  mine,
  senderName,
  seen,
  readOnly,
}: {
  model: Model;
  m: Message;
  mine: boolean;
  senderName: string; // empty: same sender as the message before
  seen: boolean;
  readOnly: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.body);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const isCheckIn = m.kind === MessageKind.CHECKIN && m.checkIn;

  async function saveEdit() {
    const body = draft.trim();
    if (!body || body === m.body) {
      setEditing(false);
      return;
    }
    setBusy(true);
    try {
      await model.editMessage(m.conversationId, m.seq, body);
      setEditing(false);
    } catch (err) {
      model.notify(`Could not edit: ${errorText(err)}`, "error");
    } finally {
      setBusy(false);
    }
  }

  async function doDelete() {
    setBusy(true);
    try {
      await model.deleteMessage(m.conversationId, m.seq);
      setConfirmDelete(false);
    } catch (err) {
      model.notify(`Could not delete: ${errorText(err)}`, "error");
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class={`msg ${mine ? "msg-mine" : "msg-theirs"}`} data-testid="message" data-seq={String(m.seq)}>
      {senderName && !mine && <span class="msg-name">{senderName}</span>}
      <div class={`bubble${m.deleted ? " bubble-deleted" : ""}`}>
        {m.deleted ? (
          <em>Message deleted</em>
        ) : editing ? (
          <div class="edit">
            <label for={`edit-${m.seq}`} class="visually-hidden">
              Edit message
            </label>
            <textarea
              id={`edit-${m.seq}`}
              value={draft}
              rows={3}
              ref={(el) => el?.focus()}
              onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                  e.preventDefault();
                  void saveEdit();
                } else if (e.key === "Escape") {
                  e.preventDefault();
                  e.stopPropagation();
                  setEditing(false);
                }
              }}
            />
            <div class="actions">
              <button type="button" class="btn btn-primary btn-small" disabled={busy} onClick={saveEdit}>
                Save
              </button>
              <button type="button" class="btn btn-small" onClick={() => setEditing(false)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <>
            {isCheckIn && <CheckInBadge status={m.checkIn!.status} note={m.checkIn!.note} />}
            {m.body && <p class="body" data-testid="message-body">{m.body}</p>}
          </>
        )}
      </div>
      <div class="msg-meta">
        <time dateTime={isoTime(m.sentAtMs)} title={fullTime(m.sentAtMs)}>
          {shortTime(m.sentAtMs)}
        </time>
        {m.editedAtMs !== 0n && !m.deleted && <span> · edited</span>}
        {seen && <span data-testid="seen"> · Seen</span>}
        {mine && !m.deleted && !editing && !readOnly && (
          <>
            {m.kind === MessageKind.TEXT && (
              <button
                type="button"
                class="link-btn"
                onClick={() => {
                  setDraft(m.body);
                  setEditing(true);
                }}
              >
                Edit<span class="visually-hidden"> message</span>
              </button>
            )}
            <button type="button" class="link-btn" onClick={() => setConfirmDelete(true)}>
              Delete<span class="visually-hidden"> message</span>
            </button>
          </>
        )}
      </div>
      {confirmDelete && (
        <Dialog title="Delete this message?" onClose={() => setConfirmDelete(false)}>
          <p>Its text is removed for both of you. This cannot be undone.</p>
          <div class="actions">
            <button type="button" class="btn btn-danger" disabled={busy} onClick={doDelete}>
              Delete
            </button>
            <button type="button" class="btn" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </li>
  );
});

function PendingItem({ model, p }: { model: Model; p: PendingMessage }) {
  const live = model.conn.state === "authenticated";
  return (
    <li class="msg msg-mine msg-pending" data-testid="pending-message">
      <div class="bubble">
        {p.checkIn && <CheckInBadge status={p.checkIn.status} note={p.checkIn.note} />}
        {p.body && <p class="body">{p.body}</p>}
      </div>
      <div class="msg-meta">
        <span class="pending-label">{live ? "Sending…" : "Pending"}</span>
        <span class="visually-hidden"> — not yet delivered</span>
      </div>
    </li>
  );
}

function draftKey(model: Model, id: bigint): string {
  return `preceptor-web.draft.${model.me?.id ?? 0}.${id}`;
}

function Composer({ model, id, otherName }: { model: Model; id: bigint; otherName: string }) {
  const [text, setText] = useState(() => sessionStorage.getItem(draftKey(model, id)) ?? "");
  const ref = useRef<HTMLTextAreaElement>(null);

  // With a keyboard and mouse, opening a conversation puts the cursor in the
  // composer (on touch screens that would pop the keyboard up: not there).
  useEffect(() => {
    if (matchMedia("(pointer: fine)").matches) ref.current?.focus({ preventScroll: true });
  }, [id]);

  // The composer grows with its text. Chromium does it in CSS (field-sizing);
  // elsewhere it is measured here, which lays the page out on each keystroke.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || CSS_SIZES_FIELDS) return;
    if (!text) {
      el.style.height = ""; // one line again, without measuring
      return;
    }
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  function update(value: string) {
    setText(value);
    if (value) sessionStorage.setItem(draftKey(model, id), value);
    else sessionStorage.removeItem(draftKey(model, id));
  }

  function send() {
    const body = text.trim();
    if (!body) return;
    model.send(id, body);
    update("");
    ref.current?.focus();
  }

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-input" class="visually-hidden">
        Message to {otherName}
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        rows={1}
        maxLength={16000}
        placeholder="Write a message"
        value={text}
        data-testid="composer"
        onInput={(e) => {
          update(e.currentTarget.value);
          if (e.currentTarget.value) model.typingInput(id);
          else model.stopTyping(id);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="btn btn-primary" data-testid="send">
        Send
      </button>
    </form>
  );
}

function CheckInDialog({ model, id, onClose }: { model: Model; id: bigint; onClose: () => void }) {
  const [status, setStatus] = useState<CheckInStatus>(CheckInStatus.ON_TRACK);
  const [note, setNote] = useState("");
  return (
    <Dialog title="Check in" onClose={onClose} testId="checkin-dialog">
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          model.send(id, "", { status, note: note.trim() });
          onClose();
        }}
      >
        <fieldset class="choices">
          <legend>How is it going?</legend>
          {CHECK_IN_STATUSES.map((s) => (
            <label key={s} class="choice">
              <input type="radio" name="checkin-status" checked={status === s} onChange={() => setStatus(s)} />
              {checkInLabel(s)}
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="checkin-note">Note (optional)</label>
          <textarea id="checkin-note" rows={3} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        </div>
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Send check-in
          </button>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function AgreementDialog({ model, view, onClose }: { model: Model; view: MentorshipView; onClose: () => void }) {
  const ms = view.mentorship!;
  const me = model.me?.id;
  const current = ms.agreement && ms.agreement.acceptedAtMs !== 0n ? ms.agreement : undefined;
  const proposal = ms.proposedAgreement && ms.proposedAgreement.cadence ? ms.proposedAgreement : undefined;
  const [cadence, setCadence] = useState(current?.cadence ?? CADENCES[0]!);
  const [channels, setChannels] = useState(new Set(current?.channels ?? [CHANNELS[0]!]));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [ending, setEnding] = useState(false);
  const [endReason, setEndReason] = useState("");

  async function run(fn: () => Promise<void>) {
    setBusy(true);
    setError("");
    try {
      await fn();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const describe = (a: { cadence: number; channels: number[] }) =>
    `${cadenceLabel(a.cadence)}, by ${a.channels.map((c) => channelLabel(c).toLowerCase()).join(", ") || "any channel"}`;

  return (
    <Dialog title="Agreement" onClose={onClose} testId="agreement-dialog">
      <p>
        <strong>Agreed:</strong>{" "}
        {current ? (
          <>
            {describe(current)} <span class="muted">(since {fullTime(current.acceptedAtMs)})</span>
          </>
        ) : (
          "nothing yet."
        )}
      </p>
      {proposal && (
        <div class="card card-flat" data-testid="proposal">
          {proposal.proposedBy === me ? (
            <p>
              You proposed: <strong>{describe(proposal)}</strong>. Waiting for{" "}
              {model.userName(proposal.proposedBy === ms.mentorId ? ms.menteeId : ms.mentorId)} to accept.
            </p>
          ) : (
            <>
              <p>
                {model.userName(proposal.proposedBy)} proposes: <strong>{describe(proposal)}</strong>.
              </p>
              <button
                type="button"
                class="btn btn-primary"
                disabled={busy}
                onClick={() =>
                  run(async () => {
                    const r = await model.client.call("acceptAgreement", { mentorshipId: ms.id });
                    model.applyMentorship(r.mentorship);
                    model.notify("Agreement accepted.");
                    onClose();
                  })
                }
              >
                Accept this agreement
              </button>
            </>
          )}
        </div>
      )}
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const r = await model.client.call("proposeAgreement", {
              mentorshipId: ms.id,
              cadence,
              channels: CHANNELS.filter((c) => channels.has(c)),
            });
            model.applyMentorship(r.mentorship);
            model.notify("Proposal sent.");
            onClose();
          });
        }}
      >
        <h3>Propose {current || proposal ? "a change" : "an agreement"}</h3>
        <div class="field">
          <label for="agreement-cadence">How often</label>
          <select
            id="agreement-cadence"
            value={String(cadence)}
            onChange={(e) => setCadence(Number(e.currentTarget.value))}
          >
            {CADENCES.map((c) => (
              <option key={c} value={String(c)}>
                {cadenceLabel(c)}
              </option>
            ))}
          </select>
        </div>
        <fieldset class="choices">
          <legend>How</legend>
          {CHANNELS.map((c) => (
            <label key={c} class="choice">
              <input
                type="checkbox"
                checked={channels.has(c)}
                onChange={(e) => {
                  const next = new Set(channels);
                  if (e.currentTarget.checked) next.add(c);
                  else next.delete(c);
                  setChannels(next);
                }}
              />
              {channelLabel(c)}
            </label>
          ))}
        </fieldset>
        <FormError error={error} />
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={busy || channels.size === 0}>
            Propose
          </button>
        </div>
      </form>
      <div class="danger-zone">
        {!ending ? (
          <button type="button" class="btn btn-danger-quiet btn-small" onClick={() => setEnding(true)}>
            End this mentorship…
          </button>
        ) : (
          <form
            class="form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                const r = await model.client.call("endMentorship", {
                  mentorshipId: ms.id,
                  privateReason: endReason.trim(),
                });
                model.applyMentorship(r.mentorship);
                onClose();
              });
            }}
          >
            <div class="field">
              <label for="end-reason">Why? (kept private: the other side only learns that it ended)</label>
              <textarea id="end-reason" rows={2} value={endReason} onInput={(e) => setEndReason(e.currentTarget.value)} />
            </div>
            <div class="actions">
              <button type="submit" class="btn btn-danger" disabled={busy}>
                End mentorship
              </button>
              <button type="button" class="btn" onClick={() => setEnding(false)}>
                Keep it
              </button>
            </div>
          </form>
        )}
      </div>
    </Dialog>
  );
}
