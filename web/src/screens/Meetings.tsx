import {
  FitAnswer,
  MeetingOutcome,
  MeetingState,
  MentorshipState,
  Role,
  WhereKind,
  type Meeting,
} from "@preceptor/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { Dialog, FormError, SubmitOrCancel } from "../components/Dialog.js";
import { useModel, useNow } from "../hooks.js";
import {
  WHERE_KINDS,
  browserZone,
  durationLabel,
  fitLabel,
  fromLocalInput,
  isoTime,
  meetingStateLabel,
  otherZoneRange,
  purposeLabel,
  timeRange,
  toLocalInput,
  whereDetailLabel,
  whereKindLabel,
  whereText,
} from "../labels.js";
import type { MeetingItem } from "../meetings.js";
import { errorText, type Model } from "../model.js";

/** A call can be joined from this long before the start until the end. */
export const JOIN_EARLY_MS = 15 * 60_000;
const DURATIONS = [15, 30, 45, 60, 90, 120];

/** The next time at which a meeting's buttons change (join opens, start, end), after now. */
export function nextMeetingBoundary(items: Iterable<MeetingItem>, now: number): number | undefined {
  let next: number | undefined;
  for (const { meeting: m } of items) {
    if (m.state !== MeetingState.PROPOSED && m.state !== MeetingState.ACCEPTED) continue;
    const start = Number(m.startMs);
    for (const t of [start - JOIN_EARLY_MS, start, start + m.durationMinutes * 60_000]) {
      if (t > now && (next === undefined || t < next)) next = t;
    }
  }
  return next;
}

export function MeetingsScreen({ model, focusId }: { model: Model; focusId?: bigint }) {
  useModel(model);
  const mt = model.meetings;
  const now = useNow(15_000, (at) => nextMeetingBoundary(mt.items.values(), at));
  const [proposing, setProposing] = useState(false);
  const authenticated = model.conn.state === "authenticated";

  useEffect(() => {
    if (authenticated && !mt.loaded && !mt.loading) void mt.load();
  }, [authenticated]);

  const member = model.role === Role.MENTEE || model.role === Role.MENTOR;
  const active = [...model.mentorships.values()].filter((v) => v.mentorship?.state === MentorshipState.ACTIVE);
  const { upcoming, past } = mt.sorted(now);
  const me = model.me?.id;
  const waiting = upcoming.filter((it) => needsMe(it.meeting, me));

  // "Is this a good fit?": mentorships with a held meeting.
  const heldPairs = new Set<bigint>();
  for (const it of mt.items.values()) {
    if (it.meeting.state === MeetingState.HELD && it.meeting.mentorshipId !== 0n) heldPairs.add(it.meeting.mentorshipId);
  }

  return (
    <section class="meetings" aria-labelledby="meetings-title" data-testid="meetings">
      <div class="title-row">
        <h1 id="meetings-title">Meetings</h1>
        {member && (
          <div class="actions">
            <button type="button" class="btn btn-primary" disabled={active.length === 0} onClick={() => setProposing(true)}>
              Propose a meeting
            </button>
          </div>
        )}
      </div>
      <p class="muted small">Times are shown in your time zone ({browserZone().replace(/_/g, " ")}).</p>
      {member && active.length === 0 && model.listsLoaded && (
        <p class="muted">Meetings are proposed inside an active mentorship.</p>
      )}
      <FormError error={mt.error} />
      {!mt.loaded && !mt.error && (
        <p class="muted" role="status">
          Loading your meetings…
        </p>
      )}
      {mt.loaded && focusId !== undefined && !mt.items.has(focusId) && (
        <p class="muted" role="status" data-testid="meeting-not-listed">
          That meeting is not among the ones listed here (from 30 days back to 60 days ahead).
        </p>
      )}
      {mt.loaded && (
        <>
          {waiting.length > 0 && (
            <p class="banner banner-wait" role="status" data-testid="meetings-waiting">
              {waiting.length === 1 ? "A meeting waits" : `${waiting.length} meetings wait`} for your answer.
            </p>
          )}
          <section aria-labelledby="upcoming-title" class="group">
            <h2 id="upcoming-title">Upcoming</h2>
            {upcoming.length === 0 ? (
              <p class="muted">No upcoming meetings.</p>
            ) : (
              <ul class="cards">
                {upcoming.map((it) => (
                  <MeetingCard
                    key={String(it.meeting.id)}
                    model={model}
                    item={it}
                    now={now}
                    focused={it.meeting.id === focusId}
                  />
                ))}
              </ul>
            )}
          </section>
          {heldPairs.size > 0 && (
            <section aria-labelledby="fit-title" class="group">
              <h2 id="fit-title">Is this a good fit?</h2>
              <p class="muted small">Only you see your answer. Your program director sees counts across the program, never who answered what.</p>
              <ul class="cards">
                {[...heldPairs].map((id) => (
                  <FitQuestion key={String(id)} model={model} mentorshipId={id} />
                ))}
              </ul>
            </section>
          )}
          {past.length > 0 && (
            <section aria-labelledby="past-title" class="group">
              <h2 id="past-title">Past and closed</h2>
              <ul class="cards">
                {past.map((it) => (
                  <MeetingCard
                    key={String(it.meeting.id)}
                    model={model}
                    item={it}
                    now={now}
                    focused={it.meeting.id === focusId}
                  />
                ))}
              </ul>
            </section>
          )}
        </>
      )}
      {proposing && <ProposeMeetingDialog model={model} onClose={() => setProposing(false)} />}
    </section>
  );
}

/** The caller is the one to answer: a proposal by the other member, or a new time they asked for. */
function needsMe(m: Meeting, me: bigint | undefined): boolean {
  if (m.pending && m.pending.startMs !== 0n) return m.pending.proposedBy !== me;
  return m.state === MeetingState.PROPOSED && m.proposedBy !== me;
}

function MeetingCard({
  model,
  item,
  now,
  focused = false,
}: {
  model: Model;
  item: MeetingItem;
  now: number;
  focused?: boolean;
}) {
  const m = item.meeting;
  // Opened from a link to this meeting (the conversation's row): brought into view once.
  const card = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (!focused || !card.current) return;
    card.current.scrollIntoView({ block: "center" });
    card.current.focus({ preventScroll: true });
  }, [focused]);
  const me = model.me?.id;
  const otherId = m.mentorId === me ? m.menteeId : m.mentorId;
  const other = model.userName(otherId);
  const start = Number(m.startMs);
  const end = start + m.durationMinutes * 60_000;
  const started = now >= start;
  const [dialog, setDialog] = useState<"decline" | "cancel" | "newtime" | "declinetime" | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const zoneText = otherZoneRange(m.startMs, m.durationMinutes, m.timeZone);
  const pending = m.pending && m.pending.startMs !== 0n ? m.pending : undefined;
  const live = m.state === MeetingState.PROPOSED || m.state === MeetingState.ACCEPTED;
  const inAppCall = !m.where || m.where.kind === WhereKind.IN_APP_CALL || m.where.kind === WhereKind.UNSPECIFIED;
  const canJoin =
    m.state === MeetingState.ACCEPTED && inAppCall && now >= start - JOIN_EARLY_MS && now < end && !model.call.active;

  async function run(what: () => Promise<{ meeting?: Meeting }>, done?: string) {
    setBusy(true);
    setError("");
    try {
      const r = await what();
      model.meetings.apply(r.meeting);
      if (done) model.notify(done);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const accept = () =>
    run(() => model.client.call("acceptMeeting", { meetingId: m.id, revision: m.revision }), "Meeting accepted.");
  const mark = (outcome: MeetingOutcome) =>
    run(() => model.client.call("markMeeting", { meetingId: m.id, outcome }));

  return (
    <li
      ref={card}
      class={`card meeting-card${focused ? " meeting-card-focused" : ""}`}
      data-testid="meeting"
      data-meeting-id={String(m.id)}
      tabIndex={focused ? -1 : undefined}
    >
      <div class="meeting-head">
        <h3 class="card-title">
          {m.officeHours ? "Office hours with " : "Meeting with "}
          {other}
        </h3>
        <span class={`state meeting-state-${meetingStateLabel(m.state).toLowerCase()}`} data-testid="meeting-state">
          {meetingStateLabel(m.state)}
        </span>
      </div>
      <p>
        <time dateTime={isoTime(m.startMs)} data-testid="meeting-time">
          {timeRange(m.startMs, m.durationMinutes)}
        </time>
        <span class="muted"> · {durationLabel(m.durationMinutes)}</span>
        {zoneText && (
          <>
            {" "}
            <span class="muted small zone-note">({zoneText})</span>
          </>
        )}
      </p>
      <p class="muted small">
        {whereText(m.where)}
        {m.officeHours && m.seats > 1 && ` · group slot of ${m.seats}`}
      </p>
      {m.agenda && <blockquote class="note">{m.agenda}</blockquote>}
      {m.reason && (m.state === MeetingState.DECLINED || m.state === MeetingState.CANCELLED) && (
        <p class="small">
          <strong>Reason:</strong> {m.reason}
        </p>
      )}
      {pending && (
        <p class="pending-time" data-testid="pending-time">
          <strong>{pending.proposedBy === me ? "You asked for a new time:" : `${model.userName(pending.proposedBy)} asks for a new time:`}</strong>{" "}
          {timeRange(pending.startMs, pending.durationMinutes || m.durationMinutes)}
        </p>
      )}
      {m.state === MeetingState.PROPOSED && !pending && m.proposedBy === me && (
        <p class="muted small">Waiting for {other} to answer.</p>
      )}
      <FormError error={error} />
      <div class="actions">
        {live && needsMe(m, me) && (
          <>
            <button type="button" class="btn btn-primary" disabled={busy} onClick={accept}>
              {pending ? "Accept new time" : "Accept"}
            </button>
            <button
              type="button"
              class="btn"
              disabled={busy}
              onClick={() => setDialog(pending ? "declinetime" : "decline")}
            >
              {pending ? "Decline new time…" : "Decline…"}
            </button>
          </>
        )}
        {canJoin && (
          <button
            type="button"
            class="btn btn-primary"
            onClick={() => void model.call.start({ meetingId: m.id })}
          >
            Join call
          </button>
        )}
        {live && !started && (
          <button type="button" class="btn" disabled={busy} onClick={() => setDialog("newtime")}>
            Propose a new time…
          </button>
        )}
        {live && !started && (
          <button type="button" class="btn btn-danger-quiet" disabled={busy} onClick={() => setDialog("cancel")}>
            Cancel meeting…
          </button>
        )}
        {m.state === MeetingState.ACCEPTED && started && (
          <>
            <button type="button" class="btn" disabled={busy} onClick={() => mark(MeetingOutcome.HELD)}>
              Mark held
            </button>
            <button type="button" class="btn" disabled={busy} onClick={() => mark(MeetingOutcome.NO_SHOW)}>
              Mark no-show
            </button>
          </>
        )}
        {(m.state === MeetingState.ACCEPTED || m.state === MeetingState.CANCELLED) && (
          <CalendarDownload model={model} meeting={m} />
        )}
      </div>
      {(m.state === MeetingState.ACCEPTED || m.state === MeetingState.HELD || m.state === MeetingState.NO_SHOW) && (
        <Notes model={model} item={item} />
      )}
      {dialog === "decline" && (
        <ReasonDialog
          title={`Decline the meeting with ${other}`}
          label={`Reason (${other} sees it)`}
          submit="Decline meeting"
          onClose={() => setDialog(null)}
          onSubmit={async (reason) => {
            const r = await model.client.call("declineMeeting", { meetingId: m.id, reason });
            model.meetings.apply(r.meeting);
          }}
        />
      )}
      {dialog === "declinetime" && (
        <ReasonDialog
          title="Decline the new time"
          label={`Reason (${other} sees it; the meeting keeps its time)`}
          submit="Decline new time"
          onClose={() => setDialog(null)}
          onSubmit={async (reason) => {
            const r = await model.client.call("declineMeeting", { meetingId: m.id, reason });
            model.meetings.apply(r.meeting);
          }}
        />
      )}
      {dialog === "cancel" && (
        <ReasonDialog
          title={`Cancel the meeting with ${other}`}
          label={`Reason (${other} sees it)`}
          submit="Cancel meeting"
          onClose={() => setDialog(null)}
          onSubmit={async (reason) => {
            const r = await model.client.call("cancelMeeting", { meetingId: m.id, reason });
            model.meetings.apply(r.meeting);
          }}
        />
      )}
      {dialog === "newtime" && <NewTimeDialog model={model} meeting={m} onClose={() => setDialog(null)} />}
    </li>
  );
}

function ReasonDialog({
  title,
  label,
  submit,
  onClose,
  onSubmit,
}: {
  title: string;
  label: string;
  submit: string;
  onClose: () => void;
  onSubmit: (reason: string) => Promise<void>;
}) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} onClose={onClose} testId="reason-dialog">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError("");
          try {
            await onSubmit(reason.trim());
            onClose();
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label for="meeting-reason">{label}</label>
          <textarea
            id="meeting-reason"
            rows={3}
            maxLength={2000}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </div>
        <FormError error={error} />
        <SubmitOrCancel label={submit} kind="btn-danger" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

/** The next quarter hour at least `leadMs` from now, for a form's first value. */
function nextQuarter(leadMs = 60 * 60_000): number {
  const q = 15 * 60_000;
  return Math.ceil((Date.now() + leadMs) / q) * q;
}

function NewTimeDialog({ model, meeting, onClose }: { model: Model; meeting: Meeting; onClose: () => void }) {
  const [when, setWhen] = useState(toLocalInput(Math.max(Number(meeting.startMs), nextQuarter())));
  const [duration, setDuration] = useState(meeting.durationMinutes);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const zone = browserZone();
  return (
    <Dialog title="Propose a new time" onClose={onClose} testId="new-time-dialog">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const start = fromLocalInput(when);
          if (!Number.isFinite(start)) return setError("Choose a date and a time.");
          setBusy(true);
          setError("");
          try {
            const r = await model.client.call("rescheduleMeeting", {
              meetingId: meeting.id,
              startMs: BigInt(start),
              durationMinutes: duration,
              timeZone: zone,
            });
            model.meetings.apply(r.meeting);
            model.notify("New time proposed; the other member must accept it.");
            onClose();
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label for="newtime-when">New date and time ({zone.replace(/_/g, " ")})</label>
          <input id="newtime-when" type="datetime-local" required value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
        </div>
        <DurationField value={duration} onChange={setDuration} id="newtime-duration" />
        <FormError error={error} />
        <SubmitOrCancel label="Propose new time" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function DurationField({ value, onChange, id }: { value: number; onChange: (v: number) => void; id: string }) {
  const options = DURATIONS.includes(value) ? DURATIONS : [...DURATIONS, value].sort((a, b) => a - b);
  return (
    <div class="field">
      <label for={id}>Duration</label>
      <select id={id} value={String(value)} onChange={(e) => onChange(Number(e.currentTarget.value))}>
        {options.map((d) => (
          <option key={d} value={String(d)}>
            {durationLabel(d)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Propose a meeting in one of the caller's active mentorships (`mentorshipId` picks it). */
export function ProposeMeetingDialog({
  model,
  mentorshipId,
  onClose,
}: {
  model: Model;
  mentorshipId?: bigint;
  onClose: () => void;
}) {
  const active = [...model.mentorships.values()].filter((v) => v.mentorship?.state === MentorshipState.ACTIVE);
  const [ms, setMs] = useState(String(mentorshipId ?? active[0]?.mentorship?.id ?? ""));
  const [when, setWhen] = useState(toLocalInput(nextQuarter(24 * 60 * 60_000)));
  const [duration, setDuration] = useState(30);
  const [agenda, setAgenda] = useState("");
  const [kind, setKind] = useState<WhereKind>(WhereKind.IN_APP_CALL);
  const [detail, setDetail] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const zone = browserZone();

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const start = fromLocalInput(when);
    if (!ms) return setError("Choose the mentorship.");
    if (!Number.isFinite(start)) return setError("Choose a date and a time.");
    if (kind !== WhereKind.IN_APP_CALL && !detail.trim()) return setError(`Fill in “${whereDetailLabel(kind)}”.`);
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("proposeMeeting", {
        mentorshipId: BigInt(ms),
        startMs: BigInt(start),
        durationMinutes: duration,
        timeZone: zone,
        agenda: agenda.trim(),
        where: { kind, detail: kind === WhereKind.IN_APP_CALL ? "" : detail.trim() },
      });
      model.meetings.apply(r.meeting);
      const other = r.meeting ? model.userName(r.meeting.mentorId === model.me?.id ? r.meeting.menteeId : r.meeting.mentorId) : "";
      model.notify(`Meeting proposed${other ? ` to ${other}` : ""}.`);
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="Propose a meeting" onClose={onClose} testId="propose-dialog">
      <form class="form" onSubmit={submit}>
        {mentorshipId === undefined && (
          <div class="field">
            <label for="propose-mentorship">With</label>
            <select id="propose-mentorship" value={ms} onChange={(e) => setMs(e.currentTarget.value)}>
              {active.map((v) => {
                const m = v.mentorship!;
                return (
                  <option key={String(m.id)} value={String(m.id)}>
                    {model.counterpartOf(m)?.displayName ?? "…"} — {purposeLabel(m.purpose)}
                  </option>
                );
              })}
            </select>
          </div>
        )}
        <div class="field">
          <label for="propose-when">Date and time ({zone.replace(/_/g, " ")})</label>
          <input id="propose-when" type="datetime-local" required value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
        </div>
        <DurationField value={duration} onChange={setDuration} id="propose-duration" />
        <fieldset class="choices">
          <legend>Where</legend>
          {WHERE_KINDS.map((k) => (
            <label key={k} class="choice">
              <input type="radio" name="propose-where" checked={kind === k} onChange={() => setKind(k)} />
              {whereKindLabel(k)}
            </label>
          ))}
        </fieldset>
        {kind !== WhereKind.IN_APP_CALL && (
          <div class="field">
            <label for="propose-detail">{whereDetailLabel(kind)}</label>
            <input
              id="propose-detail"
              type={kind === WhereKind.LINK ? "url" : kind === WhereKind.PHONE ? "tel" : "text"}
              maxLength={500}
              value={detail}
              onInput={(e) => setDetail(e.currentTarget.value)}
            />
          </div>
        )}
        <div class="field">
          <label for="propose-agenda">Agenda</label>
          <textarea id="propose-agenda" rows={3} maxLength={4000} value={agenda} onInput={(e) => setAgenda(e.currentTarget.value)} />
        </div>
        <FormError error={error} />
        <SubmitOrCancel label="Propose meeting" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function Notes({ model, item }: { model: Model; item: MeetingItem }) {
  const m = item.meeting;
  const [shared, setShared] = useState(m.sharedNotes);
  const [mine, setMine] = useState(item.privateNotes);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  // Follow what the other member (or another device) saved, unless one is editing.
  const [sharedBase, setSharedBase] = useState(m.sharedNotes);
  if (m.sharedNotes !== sharedBase) {
    if (shared === sharedBase) setShared(m.sharedNotes);
    setSharedBase(m.sharedNotes);
  }
  const [mineBase, setMineBase] = useState(item.privateNotes);
  if (item.privateNotes !== mineBase) {
    if (mine === mineBase) setMine(item.privateNotes);
    setMineBase(item.privateNotes);
  }
  const id = String(m.id);

  async function save(isPrivate: boolean) {
    setBusy(true);
    setError("");
    setSaved("");
    try {
      const r = await model.client.call("writeMeetingNotes", {
        meetingId: m.id,
        isPrivate,
        text: isPrivate ? mine : shared,
      });
      model.meetings.apply(r.meeting, r.privateNotes);
      setSaved(isPrivate ? "Your private notes are saved." : "Shared notes saved.");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <details class="notes">
      <summary>Notes</summary>
      <div class="field">
        <label for={`shared-${id}`}>Shared notes (both of you see these)</label>
        <textarea id={`shared-${id}`} rows={3} maxLength={16384} value={shared} onInput={(e) => setShared(e.currentTarget.value)} />
        <div>
          <button type="button" class="btn btn-small" disabled={busy} onClick={() => save(false)}>
            Save shared notes
          </button>
        </div>
      </div>
      <div class="field private-notes">
        <label for={`private-${id}`}>Private notes — only you see these</label>
        <textarea id={`private-${id}`} rows={3} maxLength={16384} value={mine} onInput={(e) => setMine(e.currentTarget.value)} />
        <div>
          <button type="button" class="btn btn-small" disabled={busy} onClick={() => save(true)}>
            Save private notes
          </button>
        </div>
      </div>
      <FormError error={error} />
      <p class="small" role="status">
        {saved}
      </p>
    </details>
  );
}

function FitQuestion({ model, mentorshipId }: { model: Model; mentorshipId: bigint }) {
  const view = model.mentorships.get(mentorshipId);
  const other = view?.mentorship ? model.counterpartOf(view.mentorship)?.displayName : undefined;
  const answer = model.meetings.fit.get(mentorshipId) ?? FitAnswer.UNSPECIFIED;
  const [error, setError] = useState("");
  const name = `fit-${mentorshipId}`;
  async function choose(a: FitAnswer) {
    setError("");
    try {
      const r = await model.client.call("answerFit", { mentorshipId, answer: a });
      model.meetings.setFit(mentorshipId, r.answer);
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <li class="card card-flat" data-testid="fit-question">
      <fieldset class="choices">
        <legend>Is your mentorship with {other ?? "this person"} a good fit? (private)</legend>
        {[FitAnswer.YES, FitAnswer.UNSURE, FitAnswer.NO].map((a) => (
          <label key={a} class="choice">
            <input type="radio" name={name} checked={answer === a} onChange={() => choose(a)} />
            {fitLabel(a)}
          </label>
        ))}
      </fieldset>
      <FormError error={error} />
    </li>
  );
}

/** Downloads the meeting as an .ics file (GET /v1/meetings/<id>.ics with the session's token). */
function CalendarDownload({ model, meeting }: { model: Model; meeting: Meeting }) {
  const [busy, setBusy] = useState(false);
  async function download() {
    setBusy(true);
    try {
      let token = "";
      try {
        token = localStorage.getItem("preceptor.token") ?? "";
      } catch {
        // Storage blocked: the request goes without a token and the server says so.
      }
      const r = await fetch(`/v1/meetings/${meeting.id}.ics`, { headers: { Authorization: `Bearer ${token}` } });
      if (!r.ok) throw new Error(`the server answered ${r.status}`);
      const blob = await r.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `meeting-${meeting.id}.ics`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      model.notify(`Could not download the calendar entry: ${errorText(err)}`, "error");
    } finally {
      setBusy(false);
    }
  }
  return (
    <button type="button" class="btn btn-quiet" disabled={busy} onClick={download}>
      Add to calendar
    </button>
  );
}
