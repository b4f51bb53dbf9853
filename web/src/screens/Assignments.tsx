// Assignments: a mentorship's list (and one's list across mentorships), the
// hand-off form, and one assignment with its versions (uploaded over HTTP with
// a progress bar) and reviews (verdict, anchored comments, replies, resolve).
import {
  AssignmentKind,
  AssignmentState,
  GoalState,
  MentorshipState,
  ReviewVerdict,
  Role,
  type Assignment,
  type AssignmentVersion,
  type MentorshipView,
  type Review,
  type ReviewComment,
} from "@preceptor/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { Dialog, FormError, SubmitOrCancel } from "../components/Dialog.js";
import { assignmentHref, assignmentsHref, conversationHref, goalsHref, useModel, useNow } from "../hooks.js";
import { browserZone, fromLocalInput, fullTime, isoTime } from "../labels.js";
import { errorText, type Model } from "../model.js";
import { Upload, UploadError, downloadDocument } from "../upload.js";
import {
  ASSIGNMENT_KINDS,
  VERDICTS,
  assignmentClosed,
  assignmentKindLabel,
  assignmentNextStep,
  assignmentStateClass,
  assignmentStateLabel,
  contentTypeLabel,
  dueLabel,
  dueStatus,
  relative,
  sizeLabel,
  verdictChoice,
  verdictLabel,
} from "../work-labels.js";
import { NotFound } from "./Goals.js";
import { PortfolioButton } from "./Portfolio.js";

const isMember = (model: Model) => model.role === Role.MENTEE || model.role === Role.MENTOR;

// ---- lists ------------------------------------------------------------------

/** One mentorship's assignments (mentorshipId), or the open ones across one's mentorships. */
export function AssignmentsScreen({ model, mentorshipId }: { model: Model; mentorshipId?: bigint }) {
  useModel(model);
  const now = useNow(60_000);
  const authenticated = model.conn.state === "authenticated";
  const [creating, setCreating] = useState(false);
  const [showClosed, setShowClosed] = useState(false);
  const mine = [...model.mentorships.values()].filter(
    (v) =>
      v.mentorship &&
      (v.mentorship.state === MentorshipState.ACTIVE || v.mentorship.state === MentorshipState.ENDED) &&
      (mentorshipId === undefined || v.mentorship.id === mentorshipId),
  );

  useEffect(() => {
    if (!authenticated) return;
    for (const v of mine) model.work.ensure(v.mentorship!.id, { assignments: true, goals: mentorshipId !== undefined });
  });

  if (!isMember(model)) return <NotFound what="assignments" />;
  if (mentorshipId !== undefined && model.listsLoaded && mine.length === 0) return <NotFound what="assignments" />;

  const single = mentorshipId !== undefined ? model.mentorships.get(mentorshipId) : undefined;
  const ms = single?.mentorship;
  const other = ms ? model.counterpartOf(ms)?.displayName : undefined;
  const active = ms?.state === MentorshipState.ACTIVE;
  const mentor = ms?.mentorId === model.me?.id;

  return (
    <section class="work" aria-labelledby="assignments-title" data-testid="assignments">
      <div class="title-row">
        <h1 id="assignments-title">{mentorshipId === undefined ? "Assignments" : `Assignments${other ? ` with ${other}` : ""}`}</h1>
        {ms && (
          <div class="actions">
            {ms.conversationId !== 0n && (
              <a class="btn btn-small" href={conversationHref(ms.conversationId)}>
                Conversation
              </a>
            )}
            <a class="btn btn-small" href={goalsHref(ms.id)}>
              Goals
            </a>
            <PortfolioButton model={model} mentorshipId={ms.id} />
            {active && (
              <button type="button" class="btn btn-primary btn-small" onClick={() => setCreating(true)}>
                {mentor ? "Hand off an assignment" : "Ask for a review of your work"}
              </button>
            )}
          </div>
        )}
      </div>
      <p class="muted small">Due times are shown in your time zone ({browserZone().replace(/_/g, " ")}).</p>
      {model.listsLoaded && mine.length === 0 && (
        <p class="muted">Assignments live inside a mentorship; you have none yet.</p>
      )}
      {mine.map((v) => (
        <MentorshipAssignments
          key={String(v.mentorship!.id)}
          model={model}
          view={v}
          now={now}
          showClosed={showClosed}
          heading={mentorshipId === undefined}
        />
      ))}
      <label class="choice">
        <input type="checkbox" checked={showClosed} onChange={(e) => setShowClosed(e.currentTarget.checked)} />
        Show approved and withdrawn assignments
      </label>
      {creating && ms && <CreateAssignmentDialog model={model} mentorshipId={ms.id} onClose={() => setCreating(false)} />}
    </section>
  );
}

function MentorshipAssignments({
  model,
  view,
  now,
  showClosed,
  heading,
}: {
  model: Model;
  view: MentorshipView;
  now: number;
  showClosed: boolean;
  heading: boolean;
}) {
  const ms = view.mentorship!;
  const w = model.work.of(ms.id);
  const all = model.work.assignmentsOf(ms.id);
  const shown = all.filter((a) => showClosed || !assignmentClosed(a));
  const other = model.counterpartOf(ms)?.displayName ?? "…";
  const titleId = `assignments-with-${ms.id}`;
  if (heading && w.assignmentsLoaded && shown.length === 0 && !w.assignmentsError) return null;
  return (
    <section class="group" aria-labelledby={heading ? titleId : undefined}>
      {heading && (
        <h2 id={titleId}>
          <a href={assignmentsHref(ms.id)}>With {other}</a>
        </h2>
      )}
      <FormError error={w.assignmentsError} />
      {!w.assignmentsLoaded ? (
        !w.assignmentsError && (
          <p class="muted" role="status">
            Loading assignments…
          </p>
        )
      ) : shown.length === 0 ? (
        <p class="muted">{all.length === 0 ? "No assignments yet." : "No open assignments."}</p>
      ) : (
        <ul class="cards">
          {shown.map((a) => (
            <AssignmentCard key={String(a.id)} model={model} a={a} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}

function DueLine({ a, now }: { a: Assignment; now: number }) {
  if (a.dueMs === 0n) return <span class="muted">No due date</span>;
  const status = dueStatus(a, now);
  const zone = a.timeZone && a.timeZone !== browserZone() ? a.timeZone : "";
  const there = zone ? dueLabel(a.dueMs, zone) : "";
  return (
    <>
      Due{" "}
      <time dateTime={isoTime(a.dueMs)} data-testid="due-time">
        {dueLabel(a.dueMs)}
      </time>{" "}
      (your time{there && there !== dueLabel(a.dueMs) ? `; ${there} ${zone.replace(/_/g, " ")}` : ""})
      {status === "overdue" && (
        <strong class="due-badge due-overdue" data-testid="due-status">
          {" "}
          Overdue
        </strong>
      )}
      {status === "soon" && (
        <strong class="due-badge due-soon" data-testid="due-status">
          {" "}
          Due {relative(Number(a.dueMs), now)}
        </strong>
      )}
    </>
  );
}

function AssignmentCard({ model, a, now }: { model: Model; a: Assignment; now: number }) {
  return (
    <li class="card assignment-card" data-testid="assignment-card" data-assignment-id={String(a.id)}>
      <div class="meeting-head">
        <h3 class="card-title">
          <a href={assignmentHref(a.id)}>{a.title}</a>
        </h3>
        <span class={`state assignment-state-${assignmentStateClass(a.state)}`} data-testid="assignment-state">
          {assignmentStateLabel(a.state)}
        </span>
      </div>
      <p class="small">
        {assignmentKindLabel(a.kind)} · <DueLine a={a} now={now} />
        {a.versionCount > 0 && ` · ${a.versionCount} version${a.versionCount === 1 ? "" : "s"}`}
      </p>
      <p class="muted small">{assignmentNextStep(a, model.me?.id, (id) => model.userName(id))}</p>
    </li>
  );
}

function CreateAssignmentDialog({ model, mentorshipId, onClose }: { model: Model; mentorshipId: bigint; onClose: () => void }) {
  const [title, setTitle] = useState("");
  const [kind, setKind] = useState<AssignmentKind>(AssignmentKind.CV);
  const [instructions, setInstructions] = useState("");
  const [due, setDue] = useState("");
  const [goal, setGoal] = useState("0");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const zone = browserZone();
  const goals = model.work.goalsOf(mentorshipId).filter((g) => g.state === GoalState.OPEN);
  return (
    <Dialog title="New assignment" onClose={onClose} testId="create-assignment-dialog">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!title.trim()) return setError("Give it a title.");
          const dueMs = due ? fromLocalInput(due) : 0;
          if (due && !Number.isFinite(dueMs)) return setError("Choose a due date and time, or leave it empty.");
          if (due && dueMs <= Date.now()) return setError("The due time has passed; choose a later one.");
          setBusy(true);
          setError("");
          try {
            const r = await model.client.call("createAssignment", {
              mentorshipId,
              title: title.trim(),
              instructions: instructions.trim(),
              kind,
              dueMs: BigInt(dueMs),
              timeZone: due ? zone : "",
              goalId: BigInt(goal),
            });
            model.work.applyAssignment(r.assignment);
            model.notify("Assignment created.");
            onClose();
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label for="assignment-title">Title</label>
          <input id="assignment-title" maxLength={200} required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="assignment-kind">Kind</label>
          <select id="assignment-kind" value={String(kind)} onChange={(e) => setKind(Number(e.currentTarget.value) as AssignmentKind)}>
            {ASSIGNMENT_KINDS.map((k) => (
              <option key={k} value={String(k)}>
                {assignmentKindLabel(k)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="assignment-instructions">Instructions</label>
          <textarea
            id="assignment-instructions"
            rows={4}
            maxLength={8192}
            value={instructions}
            onInput={(e) => setInstructions(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="assignment-due">Due (optional; date and time in {zone.replace(/_/g, " ")})</label>
          <input id="assignment-due" type="datetime-local" value={due} onInput={(e) => setDue(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="assignment-goal">Serves the goal (optional)</label>
          <select id="assignment-goal" value={goal} onChange={(e) => setGoal(e.currentTarget.value)}>
            <option value="0">None</option>
            {goals.map((g) => (
              <option key={String(g.id)} value={String(g.id)}>
                {g.what.length > 80 ? g.what.slice(0, 77) + "…" : g.what}
              </option>
            ))}
          </select>
        </div>
        <FormError error={error} />
        <SubmitOrCancel label="Create assignment" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

// ---- one assignment -----------------------------------------------------------

export function AssignmentScreen({ model, id }: { model: Model; id: bigint }) {
  useModel(model);
  const now = useNow(30_000);
  const work = model.work;
  const d = work.detail(id);
  const authenticated = model.conn.state === "authenticated";
  const [withdrawing, setWithdrawing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    if (authenticated && !d.loaded && !d.loading && !d.notFound && !d.error) void work.loadAssignment(id);
  });

  if (!isMember(model) || d.notFound) return <NotFound what="assignments" />;
  const a = work.assignment(id);
  if (!a) {
    return (
      <p class="muted" role="status">
        {d.error || "Loading the assignment…"}
      </p>
    );
  }
  const me = model.me?.id;
  const view = model.mentorships.get(a.mentorshipId);
  const ms = view?.mentorship;
  const active = ms ? ms.state === MentorshipState.ACTIVE : true;
  const goal = a.goalId !== 0n ? work.of(a.mentorshipId).goals.get(a.goalId) : undefined;
  const reviews = work.reviewsOf(id);
  const latest = d.versions[d.versions.length - 1];
  const isAuthor = a.authorId === me;
  const inReview = a.state === AssignmentState.SUBMITTED || a.state === AssignmentState.RESUBMITTED;
  const canSubmit =
    active &&
    isAuthor &&
    (a.state === AssignmentState.ASSIGNED ||
      a.state === AssignmentState.ACKNOWLEDGED ||
      a.state === AssignmentState.CHANGES_REQUESTED ||
      (inReview && !reviews.some((r) => r.version === a.versionCount)));
  const canReview = active && inReview && d.loaded && latest !== undefined && latest.submittedBy !== me && a.reviewerId === me;

  async function acknowledge() {
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("acknowledgeAssignment", { assignmentId: id });
      work.applyAssignment(r.assignment);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <article class="work assignment" aria-labelledby="assignment-title" data-testid="assignment">
      <p class="small">
        <a href={assignmentsHref(a.mentorshipId)}>
          ← Assignments{ms ? ` with ${model.counterpartOf(ms)?.displayName ?? "…"}` : ""}
        </a>
      </p>
      <div class="meeting-head">
        <h1 id="assignment-title">{a.title}</h1>
        <span class={`state assignment-state-${assignmentStateClass(a.state)}`} data-testid="assignment-state">
          {assignmentStateLabel(a.state)}
        </span>
      </div>
      <p class="small">
        {assignmentKindLabel(a.kind)} · <DueLine a={a} now={now} />
      </p>
      <p class="next-step" data-testid="next-step">
        {assignmentNextStep(a, me, (x) => model.userName(x))}
      </p>
      <p class="muted small">
        {a.createdBy === a.authorId ? "Opened" : "Handed off"} by {model.userName(a.createdBy).replace(/^You$/, "you")} on{" "}
        {fullTime(a.createdMs)}
        {goal && (
          <>
            {" · serves the goal "}
            <a href={goalsHref(a.mentorshipId)}>“{goal.what}”</a>
          </>
        )}
      </p>
      {a.instructions && (
        <blockquote class="note" data-testid="instructions">
          {a.instructions}
        </blockquote>
      )}
      <FormError error={error || d.error} />
      <div class="actions">
        {active && isAuthor && a.state === AssignmentState.ASSIGNED && (
          <button type="button" class="btn btn-primary" disabled={busy} onClick={acknowledge}>
            Acknowledge
          </button>
        )}
        {active && !assignmentClosed(a) && !withdrawing && (
          <button type="button" class="btn btn-danger-quiet" disabled={busy} onClick={() => setWithdrawing(true)}>
            Withdraw…
          </button>
        )}
      </div>
      {withdrawing && (
        <WithdrawForm
          onCancel={() => setWithdrawing(false)}
          onSubmit={async (reason) => {
            const r = await model.client.call("withdrawAssignment", { assignmentId: id, reason });
            work.applyAssignment(r.assignment);
            setWithdrawing(false);
          }}
        />
      )}
      {canSubmit && <SubmitPanel key={`submit-${a.versionCount}`} model={model} a={a} />}
      <section class="group" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        {!d.loaded ? (
          <p class="muted" role="status">
            Loading…
          </p>
        ) : d.versions.length === 0 ? (
          <p class="muted">No version submitted yet.</p>
        ) : (
          <ol class="cards versions">
            {[...d.versions].reverse().map((v) => (
              <VersionItem key={v.version} model={model} v={v} approved={a.state === AssignmentState.APPROVED && a.approvedVersion === v.version} />
            ))}
          </ol>
        )}
      </section>
      {canReview && latest && <ReviewForm key={`review-${latest.version}-${a.reviewCount}`} model={model} a={a} versions={d.versions} />}
      <section class="group" aria-labelledby="reviews-title">
        <h2 id="reviews-title">Reviews</h2>
        {d.loaded && reviews.length === 0 && <p class="muted">No review yet.</p>}
        <ul class="cards">
          {reviews.map((r) => (
            <ReviewCard key={String(r.id)} model={model} a={a} r={r} active={active} />
          ))}
        </ul>
        {d.moreReviews && (
          <button type="button" class="btn btn-small" disabled={d.loading} onClick={() => work.loadAssignment(id, true)}>
            Show older reviews
          </button>
        )}
      </section>
    </article>
  );
}

function WithdrawForm({ onCancel, onSubmit }: { onCancel: () => void; onSubmit: (reason: string) => Promise<void> }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="card card-flat form"
      data-testid="withdraw-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!reason.trim()) return setError("Say why it is withdrawn.");
        setBusy(true);
        setError("");
        try {
          await onSubmit(reason.trim());
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <div class="field">
        <label for="withdraw-reason">Why withdraw it? (both of you see it)</label>
        <textarea id="withdraw-reason" rows={2} maxLength={2000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </div>
      <FormError error={error} />
      <SubmitOrCancel label="Withdraw assignment" kind="btn-danger" disabled={busy} onCancel={onCancel} />
    </form>
  );
}

function VersionItem({ model, v, approved }: { model: Model; v: AssignmentVersion; approved: boolean }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const doc = v.document;
  return (
    <li class="card card-flat" data-testid="version" data-version={v.version}>
      <p>
        <strong>Version {v.version}</strong>
        {approved && <span class="state assignment-state-approved"> · approved</span>}
        <span class="muted small">
          {" "}
          · submitted by {model.userName(v.submittedBy).replace(/^You$/, "you")} on{" "}
          <time dateTime={isoTime(v.submittedMs)}>{fullTime(v.submittedMs)}</time>
        </span>
      </p>
      {v.note && (
        <blockquote class="note" data-testid="version-note">
          {v.note}
        </blockquote>
      )}
      {doc && (
        <p class="small">
          <button
            type="button"
            class="link-btn download"
            disabled={busy}
            data-testid="download"
            onClick={async () => {
              setBusy(true);
              setError("");
              try {
                await downloadDocument(doc.id, doc.name);
              } catch (err) {
                setError(errorText(err));
              } finally {
                setBusy(false);
              }
            }}
          >
            Download {doc.name}
          </button>
          <span class="muted">
            {" "}
            ({contentTypeLabel(doc.contentType)}, {sizeLabel(doc.size)}) ·{" "}
            <span title={`SHA-256 ${doc.sha256}`}>SHA-256 {doc.sha256.slice(0, 12)}…</span>
          </span>
        </p>
      )}
      <FormError error={error} />
    </li>
  );
}

// ---- submitting a version ------------------------------------------------------

const ACCEPT = ".pdf,.docx,.odt,.txt,.md,.markdown,application/pdf,text/plain,text/markdown";

function SubmitPanel({ model, a }: { model: Model; a: Assignment }) {
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState("");
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [error, setError] = useState("");
  const [resumable, setResumable] = useState(false);
  const [busy, setBusy] = useState(false);
  const upload = useRef<Upload | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const reviewer = model.userName(a.reviewerId);

  // Leaving the page stops an upload in flight (what the server has is kept for a day).
  useEffect(() => () => upload.current?.cancel(), []);

  async function go() {
    if (!file) return setError("Choose the file to submit.");
    setBusy(true);
    setError("");
    setResumable(false);
    try {
      if (!upload.current || upload.current.file !== file) {
        upload.current = new Upload(a.mentorshipId, file, file.name, (sent, total) => setProgress({ sent, total }));
      }
      const doc = await upload.current.run();
      const r = await model.client.call("submitVersion", { assignmentId: a.id, documentId: doc.id, note: note.trim() });
      model.work.applyAssignment(r.assignment);
      model.work.applyVersion(r.version);
      model.notify(`Version ${r.version?.version ?? ""} submitted.`);
      upload.current = null;
      setFile(null);
      setNote("");
      setProgress(null);
      if (fileInput.current) fileInput.current.value = "";
    } catch (err) {
      if (err instanceof UploadError) {
        setError(err.message);
        setResumable(err.resumable);
        if (!err.resumable) {
          upload.current = null;
          setProgress(null);
        }
      } else {
        // The upload is done; submitting failed (the state moved on?): "Submit" again reuses it.
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  }

  const pct = progress && progress.total > 0 ? Math.floor((progress.sent * 100) / progress.total) : 0;
  return (
    <section class="card submit-panel" aria-labelledby="submit-title" data-testid="submit-panel">
      <h2 id="submit-title">Submit {a.versionCount === 0 ? "a first version" : `version ${a.versionCount + 1}`}</h2>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void go();
        }}
      >
        <div class="field">
          <label for="submit-file">Document (PDF, Word .docx, OpenDocument .odt, text or Markdown)</label>
          <input
            id="submit-file"
            ref={fileInput}
            type="file"
            accept={ACCEPT}
            disabled={busy}
            onChange={(e) => {
              const f = e.currentTarget.files?.[0] ?? null;
              setFile(f);
              setError("");
              setResumable(false);
              setProgress(null);
              if (upload.current && upload.current.file !== f) void upload.current.abandon();
              upload.current = null;
            }}
          />
        </div>
        <div class="field">
          <label for="submit-note">Note for {reviewer} (optional)</label>
          <textarea id="submit-note" rows={2} maxLength={4000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        </div>
        {progress && (
          <div class="upload-progress" data-testid="upload-progress">
            <progress max={progress.total} value={progress.sent} aria-label="Upload progress">
              {pct}%
            </progress>
            <span class="small" role="status" data-testid="upload-status">
              {progress.sent >= progress.total
                ? `Uploaded ${sizeLabel(progress.total)}.`
                : `Uploading: ${pct}% (${sizeLabel(progress.sent)} of ${sizeLabel(progress.total)})`}
            </span>
          </div>
        )}
        <FormError error={error} testId="upload-error" />
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={busy || !file}>
            {resumable ? "Resume upload" : busy ? "Uploading…" : "Upload and submit"}
          </button>
          {resumable && (
            <button
              type="button"
              class="btn"
              onClick={() => {
                void upload.current?.abandon();
                upload.current = null;
                setResumable(false);
                setProgress(null);
                setError("");
              }}
            >
              Cancel upload
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

// ---- reviewing -----------------------------------------------------------------

interface CommentDraft {
  key: number;
  version: number;
  page: string;
  quote: string;
  text: string;
}
let commentSeq = 0;

function ReviewForm({ model, a, versions }: { model: Model; a: Assignment; versions: AssignmentVersion[] }) {
  const latest = versions[versions.length - 1]!;
  const [verdict, setVerdict] = useState<ReviewVerdict>(ReviewVerdict.UNSPECIFIED);
  const [summary, setSummary] = useState("");
  const [comments, setComments] = useState<CommentDraft[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  function addComment() {
    setComments([...comments, { key: ++commentSeq, version: latest.version, page: "", quote: "", text: "" }]);
  }

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (verdict === ReviewVerdict.UNSPECIFIED) return setError("Choose: request changes, approve, or comment only.");
    const anyComment = comments.some((c) => c.text.trim());
    if (verdict !== ReviewVerdict.APPROVED && !summary.trim() && !anyComment) {
      return setError("Say what to change: write a summary or add a comment.");
    }
    const out = [];
    for (const [i, c] of comments.entries()) {
      if (!c.text.trim() && !c.quote.trim() && !c.page.trim()) continue; // an empty row
      const page = c.page.trim() ? Number(c.page) : 0;
      if (!Number.isInteger(page) || page < 0) return setError(`Comment ${i + 1}: the page is a whole number.`);
      if (!c.text.trim()) return setError(`Comment ${i + 1}: write the comment.`);
      if (page === 0 && !c.quote.trim()) return setError(`Comment ${i + 1}: give a page or quote the passage it is about.`);
      out.push({ anchor: { version: c.version, page, quote: c.quote.trim() }, text: c.text.trim() });
    }
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("reviewVersion", {
        assignmentId: a.id,
        version: latest.version,
        verdict,
        summary: summary.trim(),
        comments: out,
      });
      model.work.applyAssignment(r.assignment);
      model.work.applyReview(r.review);
      model.notify(`Review posted: ${verdictLabel(verdict).toLowerCase()}.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card review-form" aria-labelledby="review-title" data-testid="review-form">
      <h2 id="review-title">Review version {latest.version}</h2>
      <form class="form" onSubmit={submit}>
        <fieldset class="choices">
          <legend>Verdict</legend>
          {VERDICTS.map((v) => (
            <label key={v} class="choice">
              <input type="radio" name="review-verdict" checked={verdict === v} onChange={() => setVerdict(v)} />
              {verdictChoice(v)}
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="review-summary">Summary</label>
          <textarea id="review-summary" rows={3} maxLength={8192} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />
        </div>
        {comments.map((c, i) => {
          const set = (x: Partial<CommentDraft>) => setComments(comments.map((y) => (y.key === c.key ? { ...y, ...x } : y)));
          const id = `comment-${c.key}`;
          return (
            <fieldset key={c.key} class="choices comment-draft" data-testid="comment-draft">
              <legend>Comment {i + 1}</legend>
              {versions.length > 1 && (
                <div class="field">
                  <label for={`${id}-version`}>On version</label>
                  <select id={`${id}-version`} value={String(c.version)} onChange={(e) => set({ version: Number(e.currentTarget.value) })}>
                    {versions.map((v) => (
                      <option key={v.version} value={String(v.version)}>
                        Version {v.version}
                      </option>
                    ))}
                  </select>
                </div>
              )}
              <div class="field-row">
                <div class="field">
                  <label for={`${id}-page`}>Page</label>
                  <input id={`${id}-page`} type="number" min={1} inputMode="numeric" value={c.page} onInput={(e) => set({ page: e.currentTarget.value })} />
                </div>
                <div class="field field-grow">
                  <label for={`${id}-quote`}>Quoted passage</label>
                  <input id={`${id}-quote`} maxLength={1000} value={c.quote} onInput={(e) => set({ quote: e.currentTarget.value })} />
                </div>
              </div>
              <div class="field">
                <label for={`${id}-text`}>Comment</label>
                <textarea id={`${id}-text`} rows={2} maxLength={4000} value={c.text} onInput={(e) => set({ text: e.currentTarget.value })} />
              </div>
              <button type="button" class="btn btn-quiet btn-small" onClick={() => setComments(comments.filter((y) => y.key !== c.key))}>
                Remove comment {i + 1}
              </button>
            </fieldset>
          );
        })}
        {comments.length < 100 && (
          <p>
            <button type="button" class="btn btn-small" onClick={addComment}>
              Add a comment
            </button>
          </p>
        )}
        <FormError error={error} />
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Post review
          </button>
        </div>
      </form>
    </section>
  );
}

function anchorText(c: ReviewComment): string {
  const parts = [];
  const an = c.anchor;
  if (an) {
    parts.push(`Version ${an.version}`);
    if (an.page) parts.push(`page ${an.page}`);
    if (an.quote) parts.push(`“${an.quote}”`);
  }
  return parts.join(" · ");
}

function ReviewCard({ model, a, r, active }: { model: Model; a: Assignment; r: Review; active: boolean }) {
  return (
    <li class="card review" data-testid="review" data-review-id={String(r.id)}>
      <p>
        <strong class={`verdict verdict-${r.verdict}`} data-testid="review-verdict">
          {verdictLabel(r.verdict)}
        </strong>
        <span class="muted small">
          {" "}
          · version {r.version} · by {model.userName(r.reviewerId).replace(/^You$/, "you")} on{" "}
          <time dateTime={isoTime(r.createdMs)}>{fullTime(r.createdMs)}</time>
        </span>
      </p>
      {r.summary && (
        <blockquote class="note" data-testid="review-summary">
          {r.summary}
        </blockquote>
      )}
      {r.comments.length > 0 && (
        <ol class="comments">
          {r.comments.map((c) => (
            <CommentItem key={c.id} model={model} a={a} r={r} c={c} active={active} />
          ))}
        </ol>
      )}
    </li>
  );
}

function CommentItem({ model, a, r, c, active }: { model: Model; a: Assignment; r: Review; c: ReviewComment; active: boolean }) {
  const me = model.me?.id;
  const [replying, setReplying] = useState(false);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const replyBox = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (replying) replyBox.current?.focus();
  }, [replying]);
  const isAuthor = a.authorId === me;
  // The author replies; the reviewer answers back once the author has replied to that comment.
  const open = active && a.state !== AssignmentState.WITHDRAWN;
  const canReply =
    open && c.replies.length < 50 && (isAuthor || (r.reviewerId === me && c.replies.some((x) => x.by === a.authorId)));

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

  return (
    <li class={`comment${c.resolved ? " comment-resolved" : ""}`} data-testid="review-comment" data-comment-id={c.id}>
      <p class="small comment-anchor" data-testid="comment-anchor">
        {anchorText(c)}
      </p>
      <p class="comment-text" data-testid="comment-text">
        {c.text}
      </p>
      {c.replies.length > 0 && (
        <ul class="replies">
          {c.replies.map((x, i) => (
            <li key={i} data-testid="comment-reply">
              <strong>{model.userName(x.by)}:</strong> <span data-testid="reply-text">{x.text}</span>{" "}
              <time class="muted small" dateTime={isoTime(x.atMs)}>
                {fullTime(x.atMs)}
              </time>
            </li>
          ))}
        </ul>
      )}
      <p class="small" data-testid="comment-status">
        {c.resolved ? `Resolved by ${model.userName(c.resolvedBy).replace(/^You$/, "you")}` : "Open"}
      </p>
      <FormError error={error} />
      {open && !replying && (canReply || isAuthor) && (
        <div class="actions">
          {canReply && (
            <button type="button" class="btn btn-small" disabled={busy} onClick={() => setReplying(true)}>
              Reply<span class="visually-hidden"> to comment {c.id}</span>
            </button>
          )}
          {isAuthor && (
            <button
              type="button"
              class="btn btn-small"
              disabled={busy}
              onClick={() =>
                run(async () => {
                  const res = await model.client.call("resolveComment", { reviewId: r.id, commentId: c.id, resolved: !c.resolved });
                  model.work.applyReview(res.review);
                })
              }
            >
              {c.resolved ? "Mark unresolved" : "Mark resolved"}
            </button>
          )}
        </div>
      )}
      {replying && (
        <form
          class="form inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!text.trim()) return setError("Write the reply.");
            void run(async () => {
              const res = await model.client.call("replyToComment", { reviewId: r.id, commentId: c.id, text: text.trim() });
              model.work.applyReview(res.review);
              setReplying(false);
              setText("");
            });
          }}
        >
          <div class="field">
            <label for={`reply-${r.id}-${c.id}`}>Your reply</label>
            <textarea
              id={`reply-${r.id}-${c.id}`}
              rows={2}
              maxLength={4000}
              value={text}
              ref={replyBox}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </div>
          <SubmitOrCancel label="Send reply" disabled={busy} onCancel={() => setReplying(false)} />
        </form>
      )}
    </li>
  );
}
