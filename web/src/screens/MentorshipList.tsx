import { MentorshipState, Role, type DirectoryEntry, type MentorshipView } from "@preceptor/client";
import { useEffect, useLayoutEffect, useState } from "preact/hooks";
import { Dialog, FormError, SubmitOrCancel } from "../components/Dialog.js";
import { conversationHref, navigate, useModel } from "../hooks.js";
import { cadenceLabel, fullTime, isoTime, purposeLabel, shortTime, stateLabel } from "../labels.js";
import { errorText, type Model } from "../model.js";

let firstListMarked = false;

export function MentorshipList({
  model,
  compact = false,
  currentConversation,
}: {
  model: Model;
  compact?: boolean;
  currentConversation?: bigint;
}) {
  useModel(model);
  const me = model.me?.id;
  const views = [...model.mentorships.values()].filter((v) => v.mentorship);
  const m = (v: MentorshipView) => v.mentorship!;
  const isMentor = model.role === Role.MENTOR;

  const incoming = views.filter((v) => m(v).state === MentorshipState.REQUESTED && m(v).mentorId === me);
  const outgoing = views.filter((v) => m(v).state === MentorshipState.REQUESTED && m(v).menteeId === me);
  const answered = views.filter(
    (v) =>
      (m(v).state === MentorshipState.DECLINED || m(v).state === MentorshipState.EXPIRED) &&
      m(v).menteeId === me,
  );
  const lastMs = (v: MentorshipView) => {
    const s = model.conversations.get(m(v).conversationId);
    return Number(s?.lastMessageMs ?? 0n) || Number(m(v).startedAtMs);
  };
  const active = views
    .filter((v) => m(v).state === MentorshipState.ACTIVE)
    .sort((a, b) => lastMs(b) - lastMs(a));
  const ended = views.filter((v) => m(v).state === MentorshipState.ENDED).sort((a, b) => lastMs(b) - lastMs(a));

  useLayoutEffect(() => {
    if (model.listsLoaded && !firstListMarked) {
      firstListMarked = true;
      performance.mark("preceptor:list-shown");
    }
  });

  if (!model.listsLoaded) {
    return (
      <section class="list" aria-busy="true">
        {!compact && <h1>Your mentorships</h1>}
        <p class="muted" role="status">
          {model.listsError || "Loading your mentorships…"}
        </p>
      </section>
    );
  }

  return (
    <section class={compact ? "list list-compact" : "list"} data-testid="mentorship-list">
      {compact ? <h2 class="list-title">Mentorships</h2> : <h1>Your mentorships</h1>}
      {model.listsError && <p class="form-error">{model.listsError}</p>}

      {incoming.length > 0 && !compact && (
        <section aria-labelledby="incoming-title" class="group">
          <h2 id="incoming-title">Requests waiting for you</h2>
          <ul class="cards">
            {incoming.map((v) => (
              <IncomingRequest key={String(m(v).id)} model={model} view={v} />
            ))}
          </ul>
        </section>
      )}
      {incoming.length > 0 && compact && (
        <p class="group">
          <a href="#/">
            {incoming.length} {incoming.length === 1 ? "request waits" : "requests wait"} for your answer
          </a>
        </p>
      )}

      <section aria-labelledby="active-title" class="group">
        <h2 id="active-title" class={compact ? "visually-hidden" : ""}>
          Conversations
        </h2>
        {active.length === 0 ? (
          <p class="muted">
            {isMentor ? (
              "No active mentorships yet. Requests from mentees appear here."
            ) : model.role === Role.MENTEE ? (
              <>
                No active mentorships yet. <a href="#/directory">Find a mentor</a>.
              </>
            ) : (
              "No conversations."
            )}
          </p>
        ) : (
          <ul class="rows">
            {active.map((v) => (
              <ConversationRow key={String(m(v).id)} model={model} view={v} current={currentConversation} />
            ))}
          </ul>
        )}
      </section>

      {!compact && outgoing.length > 0 && (
        <section aria-labelledby="outgoing-title" class="group">
          <h2 id="outgoing-title">Your requests</h2>
          <ul class="cards">
            {outgoing.map((v) => (
              <OutgoingRequest key={String(m(v).id)} model={model} view={v} />
            ))}
          </ul>
        </section>
      )}

      {!compact && answered.length > 0 && (
        <section aria-labelledby="answered-title" class="group">
          <h2 id="answered-title">Answered requests</h2>
          <ul class="cards">
            {answered.map((v) => (
              <AnsweredRequest key={String(m(v).id)} model={model} view={v} />
            ))}
          </ul>
        </section>
      )}

      {ended.length > 0 && (
        <section aria-labelledby="ended-title" class="group">
          <h2 id="ended-title">Past mentorships</h2>
          <ul class="rows">
            {ended.map((v) => (
              <ConversationRow key={String(m(v).id)} model={model} view={v} current={currentConversation} />
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}

function ConversationRow({ model, view, current }: { model: Model; view: MentorshipView; current?: bigint }) {
  const ms = view.mentorship!;
  const other = model.counterpartOf(ms);
  const s = model.conversations.get(ms.conversationId);
  const unread = Number(s?.unread ?? 0n);
  const online = other ? model.online.get(other.id) : undefined;
  const name = other?.displayName ?? "…";
  const body = (
    <>
      <span class="row-main">
        <span class="row-name">
          {name}
          {online && (
            <span class="online-dot" title="Online">
              <span class="visually-hidden"> (online)</span>
            </span>
          )}
        </span>
        <span class="row-sub">
          {purposeLabel(ms.purpose)}
          {ms.state !== MentorshipState.ACTIVE && ` · ${stateLabel(ms.state)}`}
          {ms.agreement && ms.agreement.acceptedAtMs !== 0n && ` · ${cadenceLabel(ms.agreement.cadence)}`}
        </span>
      </span>
      <span class="row-side">
        {s && s.lastMessageMs !== 0n && (
          <time class="row-time" dateTime={isoTime(s.lastMessageMs)}>
            {shortTime(s.lastMessageMs)}
          </time>
        )}
        {unread > 0 && (
          <span class="badge" data-testid="unread">
            {unread}
            <span class="visually-hidden"> unread</span>
          </span>
        )}
      </span>
    </>
  );
  if (ms.conversationId === 0n) return <li class="row">{body}</li>;
  return (
    <li>
      <a
        class="row row-link"
        href={conversationHref(ms.conversationId)}
        aria-current={current === ms.conversationId ? "page" : undefined}
        data-testid="conversation-row"
      >
        {body}
      </a>
    </li>
  );
}

function PersonLine({ model, id }: { model: Model; id: bigint }) {
  const u = model.users.get(id);
  if (!u) return <span>…</span>;
  return (
    <span>
      <strong>{u.displayName}</strong>
      <span class="muted">
        {" "}
        · {[u.trainingLevel, u.specialty].filter(Boolean).join(", ")}
      </span>
    </span>
  );
}

function IncomingRequest({ model, view }: { model: Model; view: MentorshipView }) {
  const ms = view.mentorship!;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [declining, setDeclining] = useState(false);

  async function accept() {
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("acceptMentorship", { mentorshipId: ms.id });
      model.applyMentorship(r.mentorship);
      await model.refreshLists();
      model.notify(`You accepted ${model.userName(ms.menteeId)}'s request.`);
      if (r.mentorship?.conversationId) navigate(`/c/${r.mentorship.conversationId}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class="card" data-testid="incoming-request">
      <p>
        <PersonLine model={model} id={ms.menteeId} />
      </p>
      <p>
        Asks for help with <strong>{purposeLabel(ms.purpose)}</strong>
        <span class="muted">
          {" "}
          · <time dateTime={isoTime(ms.requestedAtMs)}>{fullTime(ms.requestedAtMs)}</time>
        </span>
      </p>
      {ms.requestNote && <blockquote class="note">{ms.requestNote}</blockquote>}
      <FormError error={error} />
      <div class="actions">
        <button type="button" class="btn btn-primary" disabled={busy} onClick={accept}>
          Accept
        </button>
        <button type="button" class="btn" disabled={busy} onClick={() => setDeclining(true)}>
          Decline…
        </button>
      </div>
      {declining && <DeclineDialog model={model} view={view} onClose={() => setDeclining(false)} />}
    </li>
  );
}

function DeclineDialog({ model, view, onClose }: { model: Model; view: MentorshipView; onClose: () => void }) {
  const ms = view.mentorship!;
  const [reason, setReason] = useState("");
  const [referral, setReferral] = useState("");
  const [colleagues, setColleagues] = useState<DirectoryEntry[] | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    model
      .listAllMentors(ms.purpose)
      .then((all) => setColleagues(all.filter((e) => e.mentor && e.mentor.id !== model.me?.id)))
      .catch(() => setColleagues([]));
  }, []);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("declineMentorship", {
        mentorshipId: ms.id,
        reason: reason.trim(),
        referredMentorId: referral ? BigInt(referral) : 0n,
      });
      model.applyMentorship(r.mentorship);
      model.notify(`You declined ${model.userName(ms.menteeId)}'s request.`);
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Decline ${model.userName(ms.menteeId)}'s request`} onClose={onClose} testId="decline-dialog">
      <form onSubmit={submit} class="form">
        <div class="field">
          <label for="decline-reason">Reason (shown to the mentee)</label>
          <textarea
            id="decline-reason"
            rows={3}
            maxLength={2000}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="decline-referral">Refer to a colleague (optional)</label>
          <select id="decline-referral" value={referral} onChange={(e) => setReferral(e.currentTarget.value)}>
            <option value="">No referral</option>
            {(colleagues ?? []).map((c) => (
              <option key={String(c.mentor!.id)} value={String(c.mentor!.id)}>
                {c.mentor!.displayName} — {c.mentor!.specialty}
              </option>
            ))}
          </select>
          {colleagues === null && <p class="muted small">Loading colleagues who mentor for {purposeLabel(ms.purpose)}…</p>}
        </div>
        <FormError error={error} />
        <SubmitOrCancel label="Decline request" kind="btn-danger" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function OutgoingRequest({ model, view }: { model: Model; view: MentorshipView }) {
  const ms = view.mentorship!;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  async function withdraw() {
    setBusy(true);
    try {
      const r = await model.client.call("endMentorship", { mentorshipId: ms.id, privateReason: "Withdrawn by the mentee" });
      model.applyMentorship(r.mentorship);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <li class="card" data-testid="outgoing-request">
      <p>
        <PersonLine model={model} id={ms.mentorId} />
      </p>
      <p>
        {purposeLabel(ms.purpose)} · <span class="state state-requested">Waiting for an answer</span>
        <span class="muted">
          {" "}
          · sent <time dateTime={isoTime(ms.requestedAtMs)}>{fullTime(ms.requestedAtMs)}</time>
        </span>
      </p>
      <FormError error={error} />
      <div class="actions">
        <button type="button" class="btn" disabled={busy} onClick={withdraw}>
          Withdraw request
        </button>
      </div>
    </li>
  );
}

function AnsweredRequest({ model, view }: { model: Model; view: MentorshipView }) {
  const ms = view.mentorship!;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const referred = ms.referredMentorId;
  // Already asked the suggested colleague for this purpose (after this answer)?
  const followed = [...model.mentorships.values()].some(
    (v) =>
      v.mentorship &&
      v.mentorship.mentorId === referred &&
      v.mentorship.purpose === ms.purpose &&
      v.mentorship.requestedAtMs >= ms.endedAtMs,
  );
  const [referredName, setReferredName] = useState(referred ? model.users.get(referred)?.displayName : undefined);

  useEffect(() => {
    if (referred && !referredName) {
      model
        .listAllMentors(ms.purpose)
        .then(() => setReferredName(model.users.get(referred)?.displayName ?? `mentor ${referred}`))
        .catch(() => setReferredName(`mentor ${referred}`));
    }
  }, [referred]);

  async function requestReferral() {
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("requestMentorship", {
        mentorId: referred,
        purpose: ms.purpose,
        note: `Referred by ${model.userName(ms.mentorId)}.`,
      });
      model.applyMentorship(r.mentorship);
      model.notify(`Request sent to ${referredName}.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class="card">
      <p>
        <PersonLine model={model} id={ms.mentorId} />
      </p>
      <p>
        {purposeLabel(ms.purpose)} · <span class="state">{stateLabel(ms.state)}</span>
      </p>
      {ms.declineReason && <blockquote class="note">{ms.declineReason}</blockquote>}
      {referred !== 0n && (
        <p>
          Suggested instead: <strong>{referredName ?? "…"}</strong>{" "}
          {followed ? (
            <span class="muted">(you asked them)</span>
          ) : (
            <button type="button" class="btn btn-primary btn-small" disabled={busy} onClick={requestReferral}>
              Request {referredName ?? "this mentor"}
            </button>
          )}
        </p>
      )}
      <FormError error={error} />
    </li>
  );
}
