// A mentorship's goals: the list (open first, closed behind a toggle), add,
// edit, done, drop with a reason, reopen, progress notes, each goal's history,
// and the reassessment ("time to reassess", the form, the past ones).
import {
  ErrorCode,
  GoalChangeKind,
  GoalDecisionKind,
  GoalState,
  MentorshipState,
  Purpose,
  Role,
  type Goal,
  type GoalHistoryEntry,
  type Reassessment,
} from "@preceptor/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { Dialog, FormError, SubmitOrCancel } from "../components/Dialog.js";
import { assignmentsHref, conversationHref, useModel, useNow } from "../hooks.js";
import { PURPOSES, fullTime, isoTime, purposeLabel } from "../labels.js";
import { errorCode, errorText, type Model } from "../model.js";
import { PortfolioButton } from "./Portfolio.js";
import { DECISIONS, dateLabel, decisionLabel, goalChangeVerb, goalStateLabel, localDate } from "../work-labels.js";

export function GoalsScreen({ model, mentorshipId }: { model: Model; mentorshipId: bigint }) {
  useModel(model);
  const now = useNow(60_000);
  const work = model.work;
  const w = work.of(mentorshipId);
  const authenticated = model.conn.state === "authenticated";
  const [adding, setAdding] = useState(false);
  const [reassessing, setReassessing] = useState(false);
  const [showClosed, setShowClosed] = useState(false);

  useEffect(() => {
    if (!authenticated) return;
    work.ensure(mentorshipId, { goals: true });
    if (!w.reassessmentsLoaded) void work.loadReassessments(mentorshipId);
  });

  const view = model.mentorships.get(mentorshipId);
  const ms = view?.mentorship;
  const member = model.role === Role.MENTEE || model.role === Role.MENTOR;
  if (!member || (model.listsLoaded && !ms) || (w.goalsError && !w.goalsLoaded)) {
    return <NotFound what="goals" error={member && ms ? w.goalsError : ""} />;
  }
  const other = ms ? model.counterpartOf(ms)?.displayName : undefined;
  const active = ms?.state === MentorshipState.ACTIVE;
  const goals = work.goalsOf(mentorshipId);
  const open = goals.filter((g) => g.state === GoalState.OPEN);
  const closed = goals.filter((g) => g.state !== GoalState.OPEN);
  const due = active && work.reassessmentDue(mentorshipId, now);
  const dueEvent = work.reassessDue.get(mentorshipId);

  return (
    <section class="work" aria-labelledby="goals-title" data-testid="goals">
      <div class="title-row">
        <h1 id="goals-title">Goals{other ? ` with ${other}` : ""}</h1>
        <div class="actions">
          {ms && ms.conversationId !== 0n && (
            <a class="btn btn-small" href={conversationHref(ms.conversationId)}>
              Conversation
            </a>
          )}
          <a class="btn btn-small" href={assignmentsHref(mentorshipId)}>
            Assignments
          </a>
          <PortfolioButton model={model} mentorshipId={mentorshipId} />
          {active && (
            <button type="button" class="btn btn-primary btn-small" onClick={() => setAdding(true)}>
              Add a goal
            </button>
          )}
        </div>
      </div>
      {ms && !active && <p class="banner banner-info">This mentorship is not active: its goals can be read, not changed.</p>}
      {due && !reassessing && (
        <div class="banner banner-reminder" role="status" data-testid="reassess-due">
          <p>
            <strong>Time to reassess your goals.</strong>{" "}
            {w.lastReassessmentMs !== 0n || (dueEvent && dueEvent.lastReassessmentMs !== 0n)
              ? `The last reassessment was on ${fullTime(w.lastReassessmentMs || dueEvent!.lastReassessmentMs)}.`
              : "You have not reassessed them together yet."}{" "}
            Keep, refine or drop each open goal and add new ones.
          </p>
          <div class="actions">
            <button type="button" class="btn btn-primary btn-small" onClick={() => setReassessing(true)}>
              Reassess now
            </button>
            {dueEvent && (
              <button type="button" class="btn btn-quiet btn-small" onClick={() => work.dismissReassessment(mentorshipId)}>
                Later
              </button>
            )}
          </div>
        </div>
      )}
      {w.goalsLoaded && !due && (
        <p class="muted small" data-testid="reassess-next">
          {w.lastReassessmentMs !== 0n ? `Last reassessed on ${fullTime(w.lastReassessmentMs)}. ` : "Not reassessed yet. "}
          {w.nextReassessmentMs !== 0n && active && `Next reassessment due ${fullTime(w.nextReassessmentMs)}. `}
          {active && !reassessing && (
            <button type="button" class="link-btn" onClick={() => setReassessing(true)}>
              Reassess now
            </button>
          )}
        </p>
      )}
      {reassessing && (
        <ReassessForm model={model} mentorshipId={mentorshipId} goals={open} onDone={() => setReassessing(false)} />
      )}
      {!w.goalsLoaded ? (
        <p class="muted" role="status">
          {w.goalsError || "Loading goals…"}
        </p>
      ) : (
        <>
          <section class="group" aria-labelledby="open-goals-title">
            <h2 id="open-goals-title">Open goals ({open.length})</h2>
            {open.length === 0 ? (
              <p class="muted">{active ? "No open goals. Add one: what, and how you will know." : "No open goals."}</p>
            ) : (
              <ul class="cards">
                {open.map((g) => (
                  <GoalCard key={String(g.id)} model={model} goal={g} active={active} />
                ))}
              </ul>
            )}
          </section>
          {closed.length > 0 && (
            <section class="group">
              <label class="choice">
                <input
                  type="checkbox"
                  checked={showClosed}
                  onChange={(e) => setShowClosed(e.currentTarget.checked)}
                  data-testid="show-closed-goals"
                />
                Show done and dropped goals ({closed.length})
              </label>
              {showClosed && (
                <ul class="cards">
                  {closed.map((g) => (
                    <GoalCard key={String(g.id)} model={model} goal={g} active={active} />
                  ))}
                </ul>
              )}
            </section>
          )}
          <PastReassessments model={model} mentorshipId={mentorshipId} />
        </>
      )}
      {adding && <AddGoalDialog model={model} mentorshipId={mentorshipId} onClose={() => setAdding(false)} />}
    </section>
  );
}

export function NotFound({ what, error }: { what: string; error?: string }) {
  return (
    <div class="empty" role="alert" data-testid="work-not-found">
      <h1>Not found</h1>
      <p>{error || `These ${what} do not exist, or they are not yours to see.`}</p>
      <p>
        <a href="#/">Back to your mentorships</a>
      </p>
    </div>
  );
}

function PurposeSelect({ id, value, onChange }: { id: string; value: Purpose; onChange: (p: Purpose) => void }) {
  return (
    <select id={id} value={String(value)} onChange={(e) => onChange(Number(e.currentTarget.value) as Purpose)}>
      <option value="0">None</option>
      {PURPOSES.map((p) => (
        <option key={p} value={String(p)}>
          {purposeLabel(p)}
        </option>
      ))}
    </select>
  );
}

/** The fields of a goal (add and edit share them). */
function GoalFields({
  prefix,
  what,
  measure,
  target,
  purpose,
  set,
}: {
  prefix: string;
  what: string;
  measure: string;
  target: string;
  purpose: Purpose;
  set: (f: Partial<{ what: string; measure: string; target: string; purpose: Purpose }>) => void;
}) {
  return (
    <>
      <div class="field">
        <label for={`${prefix}-what`}>Goal</label>
        <textarea
          id={`${prefix}-what`}
          rows={2}
          maxLength={1000}
          required
          value={what}
          onInput={(e) => set({ what: e.currentTarget.value })}
        />
      </div>
      <div class="field">
        <label for={`${prefix}-measure`}>How progress is measured (optional)</label>
        <textarea
          id={`${prefix}-measure`}
          rows={2}
          maxLength={1000}
          value={measure}
          onInput={(e) => set({ measure: e.currentTarget.value })}
        />
      </div>
      <div class="field">
        <label for={`${prefix}-target`}>Target date (optional)</label>
        <input
          id={`${prefix}-target`}
          type="date"
          min={localDate()}
          value={target}
          onInput={(e) => set({ target: e.currentTarget.value })}
        />
      </div>
      <div class="field">
        <label for={`${prefix}-purpose`}>Related purpose (optional)</label>
        <PurposeSelect id={`${prefix}-purpose`} value={purpose} onChange={(p) => set({ purpose: p })} />
      </div>
    </>
  );
}

function AddGoalDialog({ model, mentorshipId, onClose }: { model: Model; mentorshipId: bigint; onClose: () => void }) {
  const [f, setF] = useState({ what: "", measure: "", target: "", purpose: Purpose.UNSPECIFIED as Purpose });
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title="Add a goal" onClose={onClose} testId="add-goal-dialog">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!f.what.trim()) return setError("Write the goal.");
          setBusy(true);
          setError("");
          try {
            const r = await model.client.call("addGoal", {
              mentorshipId,
              what: f.what.trim(),
              measure: f.measure.trim(),
              targetDate: f.target,
              purpose: f.purpose,
            });
            model.work.applyGoal(r.goal);
            model.notify("Goal added.");
            onClose();
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <GoalFields prefix="add-goal" {...f} set={(x) => setF({ ...f, ...x })} />
        <FormError error={error} />
        <SubmitOrCancel label="Add goal" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

type GoalAction = "edit" | "drop" | "note" | null;

function GoalCard({ model, goal: g, active }: { model: Model; goal: Goal; active: boolean }) {
  const [action, setAction] = useState<GoalAction>(null);
  const [showHistory, setShowHistory] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const open = g.state === GoalState.OPEN;

  async function setState(state: GoalState, reason = "") {
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("setGoalState", { goalId: g.id, state, reason });
      model.work.applyGoal(r.goal);
      setAction(null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class="card goal-card" data-testid="goal" data-goal-id={String(g.id)}>
      <div class="meeting-head">
        <h3 class="card-title goal-what" data-testid="goal-what">
          {g.what}
        </h3>
        <span class={`state goal-state-${goalStateLabel(g.state).toLowerCase()}`} data-testid="goal-state">
          {goalStateLabel(g.state)}
        </span>
      </div>
      {g.measure && (
        <p class="small" data-testid="goal-measure">
          <strong>Measured by:</strong> {g.measure}
        </p>
      )}
      <p class="muted small">
        {g.targetDate ? `Target: ${dateLabel(g.targetDate)}` : "No target date"}
        {g.purpose !== Purpose.UNSPECIFIED && ` · ${purposeLabel(g.purpose)}`}
        {` · added by ${model.userName(g.createdBy).replace(/^You$/, "you")} on ${fullTime(g.createdMs)}`}
        {g.noteCount > 0 && ` · ${g.noteCount} progress note${g.noteCount === 1 ? "" : "s"}`}
      </p>
      {g.state === GoalState.DROPPED && g.dropReason && (
        <p class="small" data-testid="goal-drop-reason">
          <strong>Dropped:</strong> {g.dropReason}
        </p>
      )}
      <FormError error={error} />
      {active && action === null && (
        <div class="actions">
          {open && (
            <>
              <button type="button" class="btn btn-small" disabled={busy} onClick={() => setAction("edit")}>
                Edit<span class="visually-hidden"> the goal</span>
              </button>
              <button type="button" class="btn btn-small" disabled={busy} onClick={() => setState(GoalState.DONE)}>
                Mark done
              </button>
              <button type="button" class="btn btn-small" disabled={busy} onClick={() => setAction("drop")}>
                Drop…
              </button>
            </>
          )}
          {!open && (
            <button type="button" class="btn btn-small" disabled={busy} onClick={() => setState(GoalState.OPEN)}>
              Reopen
            </button>
          )}
          <button type="button" class="btn btn-small" disabled={busy} onClick={() => setAction("note")}>
            Add a progress note
          </button>
        </div>
      )}
      {action === "edit" && <EditGoalForm model={model} goal={g} onDone={() => setAction(null)} />}
      {action === "drop" && (
        <TextForm
          label="Why drop this goal? (both of you see it)"
          id={`drop-${g.id}`}
          submit="Drop goal"
          danger
          max={2000}
          onCancel={() => setAction(null)}
          onSubmit={(reason) => setState(GoalState.DROPPED, reason)}
        />
      )}
      {action === "note" && (
        <TextForm
          label="Progress note"
          id={`note-${g.id}`}
          submit="Add note"
          max={4000}
          onCancel={() => setAction(null)}
          onSubmit={async (text) => {
            const r = await model.client.call("addGoalNote", { goalId: g.id, text });
            model.work.applyGoalChange(r.goal, r.entry);
            setAction(null);
          }}
        />
      )}
      <button
        type="button"
        class="link-btn history-toggle"
        aria-expanded={showHistory}
        onClick={() => {
          if (!showHistory) void model.work.loadHistory(g.id);
          setShowHistory(!showHistory);
        }}
      >
        {showHistory ? "Hide history" : "History"}
        <span class="visually-hidden"> of the goal</span>
      </button>
      {showHistory && <History model={model} goalId={g.id} />}
    </li>
  );
}

/** A one-field form (a reason, a note): the text is required. */
function TextForm({
  label,
  id,
  submit,
  danger = false,
  max,
  onCancel,
  onSubmit,
}: {
  label: string;
  id: string;
  submit: string;
  danger?: boolean;
  max: number;
  onCancel: () => void;
  onSubmit: (text: string) => Promise<void>;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => box.current?.focus(), []);
  return (
    <form
      class="form inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!text.trim()) return setError("Write something first.");
        setBusy(true);
        setError("");
        try {
          await onSubmit(text.trim());
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <div class="field">
        <label for={id}>{label}</label>
        <textarea id={id} rows={3} maxLength={max} value={text} ref={box} onInput={(e) => setText(e.currentTarget.value)} />
      </div>
      <FormError error={error} />
      <SubmitOrCancel label={submit} kind={danger ? "btn-danger" : "btn-primary"} disabled={busy} onCancel={onCancel} />
    </form>
  );
}

function EditGoalForm({ model, goal: g, onDone }: { model: Model; goal: Goal; onDone: () => void }) {
  const [f, setF] = useState({ what: g.what, measure: g.measure, target: g.targetDate, purpose: g.purpose });
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="form inline-form"
      data-testid="edit-goal"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!f.what.trim()) return setError("Write the goal.");
        setBusy(true);
        setError("");
        try {
          const r = await model.client.call("editGoal", {
            goalId: g.id,
            what: f.what.trim(),
            measure: f.measure.trim(),
            targetDate: f.target,
            purpose: f.purpose,
            revision: g.revision,
          });
          model.work.applyGoal(r.goal);
          onDone();
        } catch (err) {
          setError(
            errorCode(err) === ErrorCode.ABORTED
              ? "The goal was changed meanwhile (see it above); cancel and edit it again."
              : errorText(err),
          );
        } finally {
          setBusy(false);
        }
      }}
    >
      <GoalFields prefix={`edit-${g.id}`} {...f} set={(x) => setF({ ...f, ...x })} />
      <FormError error={error} />
      <SubmitOrCancel label="Save goal" disabled={busy} onCancel={onDone} />
    </form>
  );
}

/** "What: A → B" lines for what an entry changed. */
function changes(e: GoalHistoryEntry): { label: string; before: string; after: string }[] {
  const b = e.before;
  const a = e.after;
  if (!a || !b) return [];
  const out: { label: string; before: string; after: string }[] = [];
  const add = (label: string, x: string, y: string) => {
    if (x !== y) out.push({ label, before: x || "none", after: y || "none" });
  };
  add("Goal", b.what, a.what);
  add("Measured by", b.measure, a.measure);
  add("Target", b.targetDate ? dateLabel(b.targetDate) : "", a.targetDate ? dateLabel(a.targetDate) : "");
  add(
    "Purpose",
    b.purpose ? purposeLabel(b.purpose) : "",
    a.purpose ? purposeLabel(a.purpose) : "",
  );
  add("State", goalStateLabel(b.state), goalStateLabel(a.state));
  return out;
}

function History({ model, goalId }: { model: Model; goalId: bigint }) {
  const h = model.work.history(goalId);
  if (!h.loaded) {
    return (
      <p class="muted small" role="status">
        {h.error || "Loading the history…"}
      </p>
    );
  }
  return (
    <ol class="history" data-testid="goal-history" aria-label="History of the goal">
      {h.entries.map((e) => {
        const who = model.userName(e.actorId);
        const diffs = changes(e);
        return (
          <li key={e.seq} data-testid="goal-history-entry">
            <p class="small">
              <strong>{who}</strong> {goalChangeVerb(e.kind)}
              {e.kind === GoalChangeKind.REASSESSED && e.reassessmentId !== 0n && " in a reassessment"}
              {" · "}
              <time dateTime={isoTime(e.atMs)}>{fullTime(e.atMs)}</time>
            </p>
            {e.kind === GoalChangeKind.ADDED && e.after && <p class="small history-diff">{e.after.what}</p>}
            {diffs.map((d) => (
              <p key={d.label} class="small history-diff" data-testid="goal-history-change">
                {d.label}: <span class="before">{d.before}</span> → <span class="after">{d.after}</span>
              </p>
            ))}
            {e.note && (
              <blockquote class="note small" data-testid="goal-history-note">
                {e.note}
              </blockquote>
            )}
          </li>
        );
      })}
      {h.hasMore && <li class="muted small">Older entries are not shown.</li>}
    </ol>
  );
}

interface Decision {
  kind: GoalDecisionKind;
  what: string;
  measure: string;
  target: string;
  reason: string;
}
interface NewGoalDraft {
  key: number;
  what: string;
  measure: string;
  target: string;
}

let draftSeq = 0;

function ReassessForm({
  model,
  mentorshipId,
  goals,
  onDone,
}: {
  model: Model;
  mentorshipId: bigint;
  goals: Goal[];
  onDone: () => void;
}) {
  const [decisions, setDecisions] = useState<Map<bigint, Decision>>(
    () =>
      new Map(
        goals.map((g) => [
          g.id,
          { kind: GoalDecisionKind.KEEP, what: g.what, measure: g.measure, target: g.targetDate, reason: "" },
        ]),
      ),
  );
  const [added, setAdded] = useState<NewGoalDraft[]>([]);
  const [summary, setSummary] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  // Goals opened while the form is up join it as "keep".
  const missing = goals.filter((g) => !decisions.has(g.id));
  if (missing.length > 0) {
    const next = new Map(decisions);
    for (const g of missing) next.set(g.id, { kind: GoalDecisionKind.KEEP, what: g.what, measure: g.measure, target: g.targetDate, reason: "" });
    setDecisions(next);
  }
  const setDecision = (id: bigint, d: Partial<Decision>) => {
    const next = new Map(decisions);
    next.set(id, { ...next.get(id)!, ...d });
    setDecisions(next);
  };

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    setError("");
    const out = [];
    for (const g of goals) {
      const d = decisions.get(g.id)!;
      if (d.kind === GoalDecisionKind.DROP && !d.reason.trim()) return setError(`Say why you drop “${g.what}”.`);
      if (d.kind === GoalDecisionKind.REFINE) {
        const what = d.what.trim() !== g.what ? d.what.trim() : "";
        const measure = d.measure.trim() !== g.measure ? d.measure.trim() : "";
        const target = d.target !== g.targetDate ? d.target : "";
        if (!what && !measure && !target) return setError(`Change the wording, the measure or the target of “${g.what}” to refine it (or keep it).`);
        out.push({ goalId: g.id, decision: d.kind, what, measure, targetDate: target });
      } else if (d.kind === GoalDecisionKind.DROP) {
        out.push({ goalId: g.id, decision: d.kind, reason: d.reason.trim() });
      } else {
        out.push({ goalId: g.id, decision: d.kind });
      }
    }
    const newGoals = added
      .filter((n) => n.what.trim())
      .map((n) => ({ what: n.what.trim(), measure: n.measure.trim(), targetDate: n.target }));
    if (!summary.trim()) return setError("Write a short summary of what you agreed.");
    setBusy(true);
    try {
      const r = await model.client.call("reassess", {
        mentorshipId,
        decisions: out,
        newGoals,
        summary: summary.trim(),
      });
      model.work.applyReassessment(r.reassessment, r.goals);
      model.notify("Reassessment recorded.");
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card reassess-form" onSubmit={submit} data-testid="reassess-form" aria-labelledby="reassess-title">
      <h2 id="reassess-title">Reassess your goals</h2>
      <p class="muted small">One decision for every open goal; new goals and the summary are recorded with them.</p>
      {goals.length === 0 && <p class="muted">No open goals to decide on.</p>}
      {goals.map((g) => {
        const d = decisions.get(g.id);
        if (!d) return null;
        const id = `reassess-${g.id}`;
        return (
          <fieldset key={String(g.id)} class="choices reassess-goal" data-testid="reassess-goal">
            <legend>{g.what}</legend>
            <div class="choices-inline">
              {DECISIONS.map((k) => (
                <label key={k} class="choice">
                  <input type="radio" name={id} checked={d.kind === k} onChange={() => setDecision(g.id, { kind: k })} />
                  {decisionLabel(k)}
                </label>
              ))}
            </div>
            {d.kind === GoalDecisionKind.REFINE && (
              <>
                <div class="field">
                  <label for={`${id}-what`}>New wording</label>
                  <textarea id={`${id}-what`} rows={2} maxLength={1000} value={d.what} onInput={(e) => setDecision(g.id, { what: e.currentTarget.value })} />
                </div>
                <div class="field">
                  <label for={`${id}-measure`}>How progress is measured</label>
                  <textarea id={`${id}-measure`} rows={2} maxLength={1000} value={d.measure} onInput={(e) => setDecision(g.id, { measure: e.currentTarget.value })} />
                </div>
                <div class="field">
                  <label for={`${id}-target`}>Target date</label>
                  <input id={`${id}-target`} type="date" min={localDate()} value={d.target} onInput={(e) => setDecision(g.id, { target: e.currentTarget.value })} />
                </div>
              </>
            )}
            {d.kind === GoalDecisionKind.DROP && (
              <div class="field">
                <label for={`${id}-reason`}>Why drop it?</label>
                <input id={`${id}-reason`} maxLength={2000} value={d.reason} onInput={(e) => setDecision(g.id, { reason: e.currentTarget.value })} />
              </div>
            )}
          </fieldset>
        );
      })}
      <h3>New goals</h3>
      {added.map((n, i) => {
        const set = (x: Partial<NewGoalDraft>) => setAdded(added.map((y) => (y.key === n.key ? { ...y, ...x } : y)));
        return (
          <fieldset key={n.key} class="choices new-goal" data-testid="new-goal">
            <legend>New goal {i + 1}</legend>
            <div class="field">
              <label for={`new-${n.key}-what`}>Goal</label>
              <textarea id={`new-${n.key}-what`} rows={2} maxLength={1000} value={n.what} onInput={(e) => set({ what: e.currentTarget.value })} />
            </div>
            <div class="field">
              <label for={`new-${n.key}-measure`}>How progress is measured (optional)</label>
              <input id={`new-${n.key}-measure`} maxLength={1000} value={n.measure} onInput={(e) => set({ measure: e.currentTarget.value })} />
            </div>
            <div class="field">
              <label for={`new-${n.key}-target`}>Target date (optional)</label>
              <input id={`new-${n.key}-target`} type="date" min={localDate()} value={n.target} onInput={(e) => set({ target: e.currentTarget.value })} />
            </div>
            <button type="button" class="btn btn-quiet btn-small" onClick={() => setAdded(added.filter((y) => y.key !== n.key))}>
              Remove new goal {i + 1}
            </button>
          </fieldset>
        );
      })}
      {added.length < 20 && (
        <p>
          <button
            type="button"
            class="btn btn-small"
            onClick={() => setAdded([...added, { key: ++draftSeq, what: "", measure: "", target: "" }])}
          >
            Add a new goal
          </button>
        </p>
      )}
      <div class="field">
        <label for="reassess-summary">Summary (both of you see it)</label>
        <textarea id="reassess-summary" rows={3} maxLength={4000} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />
      </div>
      <FormError error={error} />
      <SubmitOrCancel label="Record reassessment" disabled={busy} onCancel={onDone} />
    </form>
  );
}

function PastReassessments({ model, mentorshipId }: { model: Model; mentorshipId: bigint }) {
  const w = model.work.of(mentorshipId);
  if (!w.reassessmentsLoaded && w.reassessments.length === 0) return null;
  return (
    <section class="group" aria-labelledby="past-reassessments-title">
      <h2 id="past-reassessments-title">Past reassessments</h2>
      {w.reassessments.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <ul class="cards">
          {w.reassessments.map((r) => (
            <ReassessmentCard key={String(r.id)} model={model} r={r} />
          ))}
        </ul>
      )}
      {w.reassessmentsMore && (
        <button type="button" class="btn btn-small" onClick={() => model.work.loadReassessments(mentorshipId, true)}>
          Show older reassessments
        </button>
      )}
    </section>
  );
}

function ReassessmentCard({ model, r }: { model: Model; r: Reassessment }) {
  const goals = model.work.of(r.mentorshipId).goals;
  const text = (id: bigint) => goals.get(id)?.what ?? `Goal ${id}`;
  return (
    <li class="card card-flat" data-testid="reassessment">
      <p>
        <strong>{model.userName(r.by)}</strong> reassessed the goals on{" "}
        <time dateTime={isoTime(r.atMs)}>{fullTime(r.atMs)}</time>
      </p>
      <blockquote class="note" data-testid="reassessment-summary">
        {r.summary}
      </blockquote>
      <ul class="decisions small">
        {r.decisions.map((d) => (
          <li key={String(d.goalId)} data-testid="reassessment-decision">
            {d.decision === GoalDecisionKind.KEEP && <>Kept: {text(d.goalId)}</>}
            {d.decision === GoalDecisionKind.REFINE && <>Refined: {d.what || text(d.goalId)}</>}
            {d.decision === GoalDecisionKind.DROP && (
              <>
                Dropped: {text(d.goalId)} ({d.reason})
              </>
            )}
          </li>
        ))}
        {r.newGoalIds.map((id) => (
          <li key={`new-${id}`} data-testid="reassessment-decision">
            New: {text(id)}
          </li>
        ))}
      </ul>
    </li>
  );
}
