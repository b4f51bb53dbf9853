// The words the conversation's rows and the assignment screens use (pure
// functions of work.ts and work-labels.ts), for the cases the browser tests
// do not reach: a comment-only review, a mentee's own request, a withdrawal,
// a goal after a reload (no event at hand), due soon and overdue.
import { describe, expect, it } from "vitest";
import {
  AssignmentChange,
  AssignmentState,
  GoalChangeKind,
  GoalState,
  ReviewVerdict,
  create,
  AssignmentSchema,
  GoalSchema,
  type Assignment,
} from "@preceptor/client";
import { assignmentRowText, goalRowText } from "../src/work.js";
import { assignmentNextStep, dueStatus } from "../src/work-labels.js";

const ME = 1n;
const MENTOR = 2n;
const names = new Map([[MENTOR, "Dr. Priya Raman"]]);
const name = (id: bigint) => names.get(id) ?? `User ${id}`;

const assignment = (over: Partial<Omit<Assignment, "$typeName" | "$unknown">> = {}) =>
  create(AssignmentSchema, {
    id: 7n,
    mentorshipId: 3n,
    createdBy: MENTOR,
    authorId: ME,
    reviewerId: MENTOR,
    title: "Revise your CV",
    state: AssignmentState.ASSIGNED,
    updatedMs: 1000n,
    ...over,
  });

describe("the words of work rows", () => {
  it("says each assignment state from the viewer's side", () => {
    expect(assignmentRowText(assignment(), undefined, ME, name)).toBe("Assignment “Revise your CV” handed off by Dr. Priya Raman to you");
    expect(assignmentRowText(assignment({ state: AssignmentState.RESUBMITTED, versionCount: 3 }), undefined, ME, name)).toBe(
      "Version 3 of “Revise your CV” submitted by you",
    );
    expect(assignmentRowText(assignment({ state: AssignmentState.CHANGES_REQUESTED }), undefined, MENTOR, name)).toBe(
      "Changes requested on “Revise your CV” by you",
    );
    expect(
      assignmentRowText(assignment({ state: AssignmentState.WITHDRAWN, withdrawReason: "No longer needed" }), { actorId: ME, atMs: 1000n }, MENTOR, name),
    ).toBe("“Revise your CV” withdrawn by User 1: No longer needed");
    // A mentee's own request starts acknowledged.
    expect(assignmentRowText(assignment({ createdBy: ME, state: AssignmentState.ACKNOWLEDGED }), undefined, MENTOR, name)).toBe(
      "“Revise your CV” opened by User 1 for review by you",
    );
    // A comment-only review leaves the state: the row says what happened.
    const commented = assignment({ state: AssignmentState.SUBMITTED, versionCount: 1 });
    expect(
      assignmentRowText(commented, { actorId: MENTOR, atMs: 1000n, assignmentChange: AssignmentChange.REVIEWED, verdict: ReviewVerdict.COMMENT_ONLY }, ME, name),
    ).toBe("Comments on version 1 of “Revise your CV” by Dr. Priya Raman");
    // An older event does not describe a newer state.
    expect(
      assignmentRowText(commented, { actorId: MENTOR, atMs: 999n, assignmentChange: AssignmentChange.REVIEWED, verdict: ReviewVerdict.COMMENT_ONLY }, ME, name),
    ).toBe("Version 1 of “Revise your CV” submitted by you");
  });

  it("says a goal's last change, or its state when the event is not at hand", () => {
    const g = create(GoalSchema, { id: 4n, mentorshipId: 3n, what: "Present a case", createdBy: MENTOR, state: GoalState.OPEN, revision: 1, updatedMs: 50n });
    expect(goalRowText(g, undefined, ME, name)).toBe("Goal added by Dr. Priya Raman: “Present a case”");
    const dropped = { ...g, state: GoalState.DROPPED, revision: 3, dropReason: "Covered elsewhere", updatedMs: 80n };
    expect(goalRowText(dropped, undefined, ME, name)).toBe("Goal dropped: “Present a case” (Covered elsewhere)");
    expect(goalRowText(dropped, { actorId: ME, atMs: 80n, goalKind: GoalChangeKind.DROPPED }, ME, name)).toBe(
      "Goal dropped by you: “Present a case” (Covered elsewhere)",
    );
    expect(goalRowText({ ...g, revision: 2, noteCount: 1, updatedMs: 90n }, { actorId: MENTOR, atMs: 90n, goalKind: GoalChangeKind.NOTE, note: "Slides drafted" }, ME, name)).toBe(
      "Progress note by Dr. Priya Raman on “Present a case”: Slides drafted",
    );
  });

  it("due soon within 48 hours and overdue only while a version is awaited", () => {
    const now = 10_000_000_000;
    const due = (h: number, state = AssignmentState.ACKNOWLEDGED) => assignment({ dueMs: BigInt(now + h * 3_600_000), state });
    expect(dueStatus(due(49), now)).toBe("");
    expect(dueStatus(due(47), now)).toBe("soon");
    expect(dueStatus(due(-1), now)).toBe("overdue");
    expect(dueStatus(due(-1, AssignmentState.SUBMITTED), now)).toBe("");
    expect(dueStatus(due(-1, AssignmentState.CHANGES_REQUESTED), now)).toBe("overdue");
    expect(dueStatus(assignment({ dueMs: 0n, state: AssignmentState.ASSIGNED }), now)).toBe("");
    expect(assignmentNextStep(assignment(), ME, name)).toBe("Handed to you: acknowledge it, then submit a version.");
    expect(assignmentNextStep(assignment({ state: AssignmentState.CHANGES_REQUESTED, versionCount: 1 }), MENTOR, name)).toBe(
      "Changes requested: waiting for User 1 to submit version 2.",
    );
  });
});
