import { AssignmentNudgeKind, MentorshipState } from "@preceptor/client";
import { assignmentHref, goalsHref, useNow, useSelect } from "../hooks.js";
import type { Model } from "../model.js";
import { dueLabel, relative } from "../work-labels.js";

/**
 * Over every screen, like the meeting reminders: the assignment nudges the
 * server sent (due soon, overdue), each until dismissed or the assignment no
 * longer waits for a version (or its due time moved); and "time to reassess"
 * for a mentorship, until dismissed or a reassessment is recorded.
 */
export function WorkBanners({ model }: { model: Model }) {
  const work = model.work;
  useSelect(model, (m) => [
    ...m.work.activeNudges().flatMap((x) => [x.nudge, x.assignment]),
    ...[...m.work.reassessDue.values()],
  ]);
  const now = useNow(60_000);
  const nudges = work.activeNudges();
  const me = model.me?.id;
  const reassess = [...work.reassessDue.values()].filter(
    (r) => model.mentorships.get(r.mentorshipId)?.mentorship?.state !== MentorshipState.ENDED,
  );
  return (
    <div role="status" aria-live="polite" class="reminders">
      {nudges.map(({ nudge: n, assignment: a }) => {
        const overdue = n.kind === AssignmentNudgeKind.OVERDUE;
        const mine = a.authorId === me;
        const due = Number(a.dueMs);
        return (
          <div key={`nudge-${a.id}`} class="banner banner-reminder" data-testid="assignment-nudge">
            <p>
              <strong>{overdue ? "Overdue:" : "Due soon:"}</strong> “{a.title}”{" "}
              {overdue
                ? `was due ${dueLabel(a.dueMs)} (your time)${mine ? "; submit a version when you can." : `, and ${model.userName(a.authorId)} has not submitted a version yet.`}`
                : `is due ${relative(due, now)}, ${dueLabel(a.dueMs)} (your time).`}
            </p>
            <div class="actions">
              <a class="btn btn-small" href={assignmentHref(a.id)}>
                Open assignment
              </a>
              <button type="button" class="btn btn-quiet btn-small" onClick={() => work.dismissNudge(a.id)}>
                Dismiss<span class="visually-hidden"> the notice about “{a.title}”</span>
              </button>
            </div>
          </div>
        );
      })}
      {reassess.map((r) => {
        const ms = model.mentorships.get(r.mentorshipId)?.mentorship;
        const other = ms ? model.counterpartOf(ms)?.displayName : undefined;
        return (
          <div key={`reassess-${r.mentorshipId}`} class="banner banner-reminder" data-testid="reassess-banner">
            <p>
              <strong>Time to reassess</strong> your goals{other ? ` with ${other}` : ""}
              {r.openGoals > 0 ? ` (${r.openGoals} open)` : ""}: keep, refine or drop each, and add new ones.
            </p>
            <div class="actions">
              <a class="btn btn-small" href={goalsHref(r.mentorshipId)}>
                Open goals
              </a>
              <button type="button" class="btn btn-quiet btn-small" onClick={() => work.dismissReassessment(r.mentorshipId)}>
                Later<span class="visually-hidden"> (hide this notice)</span>
              </button>
            </div>
          </div>
        );
      })}
    </div>
  );
}
