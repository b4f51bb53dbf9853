// The work between meetings, per mentorship: goals (with their history and
// the reassessments) and assignments (with versions and reviews). What the
// Goals and Assignments screens, the conversation's rows and the banners show.
// The Model owns one of these and hands it every event; lists are read when a
// screen first needs them and kept current by the events, merged by revision
// so an older copy never replaces a newer one.
import {
  AssignmentChange,
  AssignmentNudgeKind,
  AssignmentState,
  ErrorCode,
  GoalChangeKind,
  GoalState,
  ReviewChange,
  ReviewVerdict,
  type Assignment,
  type AssignmentVersion,
  type Event as ServerEvent,
  type Goal,
  type GoalHistoryEntry,
  type Reassessment,
  type ReassessmentDue,
  type Review,
} from "@preceptor/client";
import { errorCode, errorText, type Model } from "./model.js";
import { waitsForVersion } from "./work-labels.js";

const NEWS_MAX_AGE_MS = 10 * 60_000;
const ASSIGNMENT_PAGE = 100;
const MAX_PAGES = 20;

/** A mentorship's goals and assignments, as far as they were read. */
export interface MentorshipWork {
  mentorshipId: bigint;
  goals: Map<bigint, Goal>;
  goalsLoaded: boolean;
  goalsLoading: boolean;
  goalsError: string;
  lastReassessmentMs: bigint;
  nextReassessmentMs: bigint;
  reassessments: Reassessment[]; // newest first
  reassessmentsLoaded: boolean;
  reassessmentsMore: boolean;
  assignments: Map<bigint, Assignment>;
  assignmentsLoaded: boolean;
  assignmentsLoading: boolean;
  assignmentsError: string;
}

export interface AssignmentDetail {
  assignment: Assignment | undefined;
  versions: AssignmentVersion[]; // by version
  reviews: Map<bigint, Review>;
  moreReviews: boolean;
  oldestReviewId: bigint;
  loaded: boolean;
  loading: boolean;
  error: string;
  notFound: boolean;
}

export interface GoalHistory {
  entries: GoalHistoryEntry[]; // oldest first
  loaded: boolean;
  loading: boolean;
  hasMore: boolean;
  error: string;
}

/** The last change seen in an event this session (for the conversation's words). */
export interface LastChange {
  actorId: bigint;
  atMs: bigint;
  goalKind?: GoalChangeKind;
  assignmentChange?: AssignmentChange;
  verdict?: ReviewVerdict;
  version?: number;
  note?: string;
}

/** A due-soon or overdue nudge, shown until dismissed or the assignment no longer waits for a version. */
export interface ShownNudge {
  kind: AssignmentNudgeKind;
  assignmentId: bigint;
  dueMs: bigint;
}

export class WorkState {
  private byMentorship = new Map<bigint, MentorshipWork>();
  details = new Map<bigint, AssignmentDetail>();
  histories = new Map<bigint, GoalHistory>();
  lastGoalChange = new Map<bigint, LastChange>();
  lastAssignmentChange = new Map<bigint, LastChange>();
  /** assignment id → its latest nudge. */
  nudges = new Map<bigint, ShownNudge>();
  /** mentorship id → "time to reassess", until dismissed or a reassessment since. */
  reassessDue = new Map<bigint, ReassessmentDue>();

  constructor(private readonly model: Model) {}

  reset(): void {
    this.byMentorship.clear();
    this.details.clear();
    this.histories.clear();
    this.lastGoalChange.clear();
    this.lastAssignmentChange.clear();
    this.nudges.clear();
    this.reassessDue.clear();
  }

  of(mentorshipId: bigint): MentorshipWork {
    let w = this.byMentorship.get(mentorshipId);
    if (!w) {
      w = {
        mentorshipId,
        goals: new Map(),
        goalsLoaded: false,
        goalsLoading: false,
        goalsError: "",
        lastReassessmentMs: 0n,
        nextReassessmentMs: 0n,
        reassessments: [],
        reassessmentsLoaded: false,
        reassessmentsMore: false,
        assignments: new Map(),
        assignmentsLoaded: false,
        assignmentsLoading: false,
        assignmentsError: "",
      };
      this.byMentorship.set(mentorshipId, w);
    }
    return w;
  }

  /** Reads the mentorship's goals and assignments once (the conversation's rows, the screens). */
  ensure(mentorshipId: bigint, what: { goals?: boolean; assignments?: boolean } = { goals: true, assignments: true }): void {
    const w = this.of(mentorshipId);
    if (what.goals && !w.goalsLoaded && !w.goalsLoading && !w.goalsError) void this.loadGoals(mentorshipId);
    if (what.assignments && !w.assignmentsLoaded && !w.assignmentsLoading && !w.assignmentsError) {
      void this.loadAssignments(mentorshipId);
    }
  }

  // ---- goals --------------------------------------------------------------

  /** Every goal of the mentorship (closed ones too: the screen filters), and when to reassess. */
  async loadGoals(mentorshipId: bigint): Promise<void> {
    const w = this.of(mentorshipId);
    if (w.goalsLoading) return;
    w.goalsLoading = true;
    this.model.changed();
    try {
      // A page at a time (about 256 KiB each): 200 long goals take a few.
      let r = await this.model.client.call("listGoals", { mentorshipId, includeClosed: true });
      const got = new Map<bigint, Goal>();
      for (;;) {
        for (const g of r.goals) got.set(g.id, g);
        if (!r.hasMore || !r.nextAfter) break;
        r = await this.model.client.call("listGoals", { mentorshipId, includeClosed: true, after: r.nextAfter });
      }
      for (const [id, g] of w.goals) {
        const n = got.get(id);
        if (!n || n.revision < g.revision) got.set(id, g); // an event brought a newer one meanwhile
      }
      w.goals = got;
      if (r.lastReassessmentMs > w.lastReassessmentMs) w.lastReassessmentMs = r.lastReassessmentMs;
      w.nextReassessmentMs = r.nextReassessmentMs;
      w.goalsLoaded = true;
      w.goalsError = "";
    } catch (err) {
      if (!transient(err)) w.goalsError = errorText(err);
    } finally {
      w.goalsLoading = false;
      this.model.changed();
    }
  }

  applyGoal(g: Goal | undefined): void {
    if (!g) return;
    const w = this.of(g.mentorshipId);
    const old = w.goals.get(g.id);
    if (old && old.revision > g.revision) return;
    w.goals.set(g.id, g);
    this.model.changed();
  }

  /** Open goals first, then by id (the server's order). */
  goalsOf(mentorshipId: bigint): Goal[] {
    const w = this.byMentorship.get(mentorshipId);
    if (!w) return [];
    return [...w.goals.values()].sort((a, b) => {
      const ao = a.state === GoalState.OPEN ? 0 : 1;
      const bo = b.state === GoalState.OPEN ? 0 : 1;
      return ao - bo || Number(a.id - b.id);
    });
  }

  history(goalId: bigint): GoalHistory {
    let h = this.histories.get(goalId);
    if (!h) {
      h = { entries: [], loaded: false, loading: false, hasMore: false, error: "" };
      this.histories.set(goalId, h);
    }
    return h;
  }

  /** The goal's whole history (pages of 200), oldest first. */
  async loadHistory(goalId: bigint): Promise<void> {
    const h = this.history(goalId);
    if (h.loading) return;
    h.loading = true;
    this.model.changed();
    try {
      const got: GoalHistoryEntry[] = [];
      let after = 0;
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = await this.model.client.call("getGoalHistory", { goalId, afterSeq: after, limit: 200 });
        got.push(...r.entries);
        h.hasMore = r.hasMore;
        if (!r.hasMore || r.entries.length === 0) break;
        after = r.entries[r.entries.length - 1]!.seq;
      }
      // Keep entries an event brought in while reading.
      const seen = new Set(got.map((e) => e.seq));
      for (const e of h.entries) if (!seen.has(e.seq)) got.push(e);
      got.sort((a, b) => a.seq - b.seq);
      h.entries = got;
      h.loaded = true;
      h.error = "";
    } catch (err) {
      h.error = errorText(err);
    } finally {
      h.loading = false;
      this.model.changed();
    }
  }

  private addHistory(entry: GoalHistoryEntry | undefined): void {
    if (!entry) return;
    const h = this.histories.get(entry.goalId);
    if (h && (h.loaded || h.loading) && !h.entries.some((e) => e.seq === entry.seq)) {
      h.entries = [...h.entries, entry].sort((a, b) => a.seq - b.seq);
    }
    const last = this.lastGoalChange.get(entry.goalId);
    if (!last || last.atMs <= entry.atMs) {
      this.lastGoalChange.set(entry.goalId, {
        actorId: entry.actorId,
        atMs: entry.atMs,
        goalKind: entry.kind,
        note: entry.note,
      });
    }
  }

  /** A goal and its new history entry, from a reply (the event comes too, and is merged the same). */
  applyGoalChange(goal: Goal | undefined, entry?: GoalHistoryEntry): void {
    this.applyGoal(goal);
    this.addHistory(entry);
    this.model.changed();
  }

  async loadReassessments(mentorshipId: bigint, more = false): Promise<void> {
    const w = this.of(mentorshipId);
    try {
      const before = more && w.reassessments.length > 0 ? w.reassessments[w.reassessments.length - 1]!.id : 0n;
      const r = await this.model.client.call("listReassessments", { mentorshipId, beforeId: before, limit: 20 });
      const all = more ? [...w.reassessments, ...r.reassessments] : r.reassessments;
      // Keep ones an event brought in meanwhile.
      for (const x of w.reassessments) if (!all.some((y) => y.id === x.id)) all.push(x);
      w.reassessments = all.sort((a, b) => Number(b.id - a.id));
      w.reassessmentsMore = r.hasMore;
      w.reassessmentsLoaded = true;
    } catch (err) {
      if (!transient(err)) w.goalsError = errorText(err);
    } finally {
      this.model.changed();
    }
  }

  applyReassessment(re: Reassessment | undefined, goals: Goal[]): void {
    for (const g of goals) this.applyGoal(g);
    if (!re) return;
    const w = this.of(re.mentorshipId);
    if (!w.reassessments.some((x) => x.id === re.id)) {
      w.reassessments = [re, ...w.reassessments].sort((a, b) => Number(b.id - a.id));
    }
    if (re.atMs > w.lastReassessmentMs) w.lastReassessmentMs = re.atMs;
    // The next "time to reassess" is a period on; ListGoals says exactly when.
    if (w.goalsLoaded) void this.loadGoals(re.mentorshipId);
    this.reassessDue.delete(re.mentorshipId);
    this.model.changed();
  }

  /** "Time to reassess" for this mentorship now: the event, or ListGoals' next time passed. */
  reassessmentDue(mentorshipId: bigint, now = Date.now()): boolean {
    if (this.reassessDue.has(mentorshipId)) return true;
    const w = this.byMentorship.get(mentorshipId);
    return !!w && w.goalsLoaded && w.nextReassessmentMs !== 0n && Number(w.nextReassessmentMs) <= now;
  }

  dismissReassessment(mentorshipId: bigint): void {
    this.reassessDue.delete(mentorshipId);
    this.model.changed();
  }

  // ---- assignments --------------------------------------------------------

  /** Every assignment of the mentorship, newest first (closed ones too: the screens filter). */
  async loadAssignments(mentorshipId: bigint): Promise<void> {
    const w = this.of(mentorshipId);
    if (w.assignmentsLoading) return;
    w.assignmentsLoading = true;
    this.model.changed();
    try {
      const got = new Map<bigint, Assignment>();
      let before = 0n;
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = await this.model.client.call("listAssignments", {
          mentorshipId,
          includeClosed: true,
          beforeId: before,
          limit: ASSIGNMENT_PAGE,
        });
        for (const a of r.assignments) got.set(a.id, a);
        if (!r.hasMore || r.assignments.length === 0) break;
        before = r.assignments[r.assignments.length - 1]!.id;
      }
      for (const [id, a] of w.assignments) {
        const n = got.get(id);
        if (!n || n.revision < a.revision) got.set(id, a);
      }
      w.assignments = got;
      w.assignmentsLoaded = true;
      w.assignmentsError = "";
    } catch (err) {
      if (!transient(err)) w.assignmentsError = errorText(err);
    } finally {
      w.assignmentsLoading = false;
      this.model.changed();
    }
  }

  applyAssignment(a: Assignment | undefined): void {
    if (!a) return;
    const w = this.of(a.mentorshipId);
    const old = w.assignments.get(a.id);
    if (!old || old.revision <= a.revision) w.assignments.set(a.id, a);
    const d = this.details.get(a.id);
    if (d && (!d.assignment || d.assignment.revision <= a.revision)) d.assignment = a;
    this.model.changed();
  }

  /** The freshest copy of an assignment this page has. */
  assignment(id: bigint): Assignment | undefined {
    const d = this.details.get(id)?.assignment;
    let best = d;
    for (const w of this.byMentorship.values()) {
      const a = w.assignments.get(id);
      if (a && (!best || a.revision > best.revision)) best = a;
    }
    return best;
  }

  assignmentsOf(mentorshipId: bigint): Assignment[] {
    const w = this.byMentorship.get(mentorshipId);
    if (!w) return [];
    return [...w.assignments.values()].sort((a, b) => Number(b.id - a.id));
  }

  detail(id: bigint): AssignmentDetail {
    let d = this.details.get(id);
    if (!d) {
      d = {
        assignment: undefined,
        versions: [],
        reviews: new Map(),
        moreReviews: false,
        oldestReviewId: 0n,
        loaded: false,
        loading: false,
        error: "",
        notFound: false,
      };
      this.details.set(id, d);
    }
    return d;
  }

  /** One assignment with its versions and (a page of) its reviews; `older` reads the next page. */
  async loadAssignment(id: bigint, older = false): Promise<void> {
    const d = this.detail(id);
    if (d.loading) return;
    d.loading = true;
    this.model.changed();
    try {
      const r = await this.model.client.call("getAssignment", {
        assignmentId: id,
        reviewsBeforeId: older ? d.oldestReviewId : 0n,
        reviewLimit: 20,
      });
      if (r.assignment) {
        if (!d.assignment || d.assignment.revision <= r.assignment.revision) d.assignment = r.assignment;
        this.applyAssignment(r.assignment);
      }
      const versions = new Map<number, AssignmentVersion>();
      for (const v of d.versions) versions.set(v.version, v);
      for (const v of r.versions) versions.set(v.version, v);
      d.versions = [...versions.values()].sort((a, b) => a.version - b.version);
      const first = d.oldestReviewId === 0n;
      for (const rv of r.reviews) d.reviews.set(rv.id, rv);
      // "More" is about the oldest page read: a fresh first page does not undo older pages already here.
      if (older || first) d.moreReviews = r.moreReviews;
      let oldest = 0n;
      for (const rid of d.reviews.keys()) if (oldest === 0n || rid < oldest) oldest = rid;
      d.oldestReviewId = oldest;
      d.loaded = true;
      d.error = "";
      d.notFound = false;
    } catch (err) {
      const code = errorCode(err);
      if (code === ErrorCode.NOT_FOUND || code === ErrorCode.PERMISSION_DENIED) d.notFound = true;
      else if (!transient(err)) d.error = errorText(err);
    } finally {
      d.loading = false;
      this.model.changed();
    }
  }

  applyVersion(v: AssignmentVersion | undefined): void {
    if (!v) return;
    const d = this.details.get(v.assignmentId);
    if (!d) return;
    if (!d.versions.some((x) => x.version === v.version)) {
      d.versions = [...d.versions, v].sort((a, b) => a.version - b.version);
    }
    this.model.changed();
  }

  applyReview(r: Review | undefined): void {
    if (!r) return;
    const d = this.details.get(r.assignmentId);
    if (!d) return;
    d.reviews.set(r.id, r);
    if (d.oldestReviewId === 0n || r.id < d.oldestReviewId) d.oldestReviewId = r.id;
    this.model.changed();
  }

  /** Reviews newest first. */
  reviewsOf(id: bigint): Review[] {
    const d = this.details.get(id);
    if (!d) return [];
    return [...d.reviews.values()].sort((a, b) => Number(b.id - a.id));
  }

  /** The nudges to show now: assignments still waiting for a version with the same due time. */
  activeNudges(): { nudge: ShownNudge; assignment: Assignment }[] {
    const out: { nudge: ShownNudge; assignment: Assignment }[] = [];
    for (const n of this.nudges.values()) {
      const a = this.assignment(n.assignmentId);
      if (!a || !waitsForVersion(a) || a.dueMs !== n.dueMs) continue;
      out.push({ nudge: n, assignment: a });
    }
    return out.sort((x, y) => Number(x.assignment.dueMs - y.assignment.dueMs));
  }

  dismissNudge(assignmentId: bigint): void {
    this.nudges.delete(assignmentId);
    this.model.changed();
  }

  // ---- events -------------------------------------------------------------

  onEvent(ev: ServerEvent): void {
    const k = ev.kind;
    const me = this.model.me?.id;
    const fresh = this.model.everAuthenticated && Date.now() - Number(ev.timeMs) < NEWS_MAX_AGE_MS;
    switch (k.case) {
      case "goalChanged": {
        const { goal, entry } = k.value;
        this.applyGoalChange(goal, entry);
        if (fresh && goal && entry && entry.actorId !== me) this.tellGoalNews(goal, entry);
        break;
      }
      case "reassessment": {
        const re = k.value.reassessment;
        this.applyReassessment(re, k.value.goals);
        if (re) {
          for (const g of k.value.goals) {
            const last = this.lastGoalChange.get(g.id);
            if (!last || last.atMs <= re.atMs) {
              this.lastGoalChange.set(g.id, { actorId: re.by, atMs: re.atMs, goalKind: GoalChangeKind.REASSESSED });
            }
          }
          if (fresh && re.by !== me) this.model.notify(`${this.model.userName(re.by)} recorded a reassessment of your goals.`);
        }
        break;
      }
      case "reassessmentDue":
        this.reassessDue.set(k.value.mentorshipId, k.value);
        this.model.changed();
        break;
      case "assignmentChanged": {
        const { change, assignment, actorId, version } = k.value;
        this.applyAssignment(assignment);
        this.applyVersion(version);
        if (assignment) {
          const last = this.lastAssignmentChange.get(assignment.id);
          if (!last || last.atMs <= assignment.updatedMs) {
            this.lastAssignmentChange.set(assignment.id, {
              actorId,
              atMs: assignment.updatedMs,
              assignmentChange: change,
              version: version?.version,
            });
          }
          // A review changes the assignment; its text comes in ReviewChanged (read it if not here yet).
          // (ReviewChanged comes from the same write, usually right after: look again in a moment.)
          if (change === AssignmentChange.REVIEWED) {
            const id = assignment.id;
            setTimeout(() => {
              const d = this.details.get(id);
              const a = this.assignment(id);
              if (d?.loaded && a && d.reviews.size < a.reviewCount && !d.moreReviews) void this.loadAssignment(id);
            }, 1000);
          }
          if (fresh && actorId !== me) this.tellAssignmentNews(change, assignment, actorId, version);
        }
        break;
      }
      case "reviewChanged": {
        const { change, review, actorId } = k.value;
        this.applyReview(review);
        if (review && change === ReviewChange.POSTED) {
          const last = this.lastAssignmentChange.get(review.assignmentId);
          if (last && last.atMs <= review.createdMs) last.verdict = review.verdict;
          else if (!last) {
            this.lastAssignmentChange.set(review.assignmentId, {
              actorId,
              atMs: review.createdMs,
              assignmentChange: AssignmentChange.REVIEWED,
              verdict: review.verdict,
            });
          }
        }
        if (fresh && review && actorId !== me && change === ReviewChange.REPLIED) {
          const title = this.assignment(review.assignmentId)?.title;
          this.model.notify(`${this.model.userName(actorId)} replied to a comment${title ? ` on “${title}”` : ""}.`);
        }
        break;
      }
      case "assignmentNudge": {
        const a = k.value.assignment;
        if (!a) break;
        this.applyAssignment(a);
        this.nudges.set(a.id, { kind: k.value.kind, assignmentId: a.id, dueMs: a.dueMs });
        this.model.changed();
        break;
      }
      default:
        break;
    }
  }

  private tellGoalNews(goal: Goal, entry: GoalHistoryEntry): void {
    const who = this.model.userName(entry.actorId);
    const what = `“${short(goal.what)}”`;
    switch (entry.kind) {
      case GoalChangeKind.ADDED:
        this.model.notify(`${who} added a goal: ${what}.`);
        break;
      case GoalChangeKind.DONE:
        this.model.notify(`${who} marked a goal done: ${what}.`);
        break;
      case GoalChangeKind.DROPPED:
        this.model.notify(`${who} dropped a goal: ${what}.`);
        break;
      case GoalChangeKind.NOTE:
        this.model.notify(`${who} added a progress note to ${what}.`);
        break;
      default:
        break;
    }
  }

  private tellAssignmentNews(change: AssignmentChange, a: Assignment, actorId: bigint, v?: AssignmentVersion): void {
    const who = this.model.userName(actorId);
    const title = `“${short(a.title)}”`;
    switch (change) {
      case AssignmentChange.CREATED:
        this.model.notify(
          a.createdBy === a.reviewerId ? `${who} handed you an assignment: ${title}.` : `${who} asked you to review ${title}.`,
        );
        break;
      case AssignmentChange.ACKNOWLEDGED:
        this.model.notify(`${who} acknowledged ${title}.`);
        break;
      case AssignmentChange.SUBMITTED:
        this.model.notify(`${who} submitted version ${v?.version ?? a.versionCount} of ${title}.`);
        break;
      case AssignmentChange.REVIEWED:
        this.model.notify(`${who} reviewed ${title}.`);
        break;
      case AssignmentChange.WITHDRAWN:
        this.model.notify(`${who} withdrew ${title}.`);
        break;
      default:
        break;
    }
  }
}

function transient(err: unknown): boolean {
  const c = errorCode(err);
  return c === ErrorCode.UNAVAILABLE || c === ErrorCode.CANCELLED;
}

function short(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + "…" : s;
}

// ---- the conversation's rows --------------------------------------------------

/** The words of a goal's row in the conversation: its last change, when known, else its state. */
export function goalRowText(g: Goal, last: LastChange | undefined, me: bigint | undefined, name: (id: bigint) => string): string {
  const who = (id: bigint) => (id === me ? "you" : id === 0n ? "the program" : name(id));
  const what = `“${g.what}”`;
  if (last && last.atMs >= g.updatedMs) {
    switch (last.goalKind) {
      case GoalChangeKind.ADDED:
        return `Goal added by ${who(last.actorId)}: ${what}`;
      case GoalChangeKind.EDITED:
        return `Goal edited by ${who(last.actorId)}: ${what}`;
      case GoalChangeKind.DONE:
        return `Goal done, marked by ${who(last.actorId)}: ${what}`;
      case GoalChangeKind.DROPPED:
        return `Goal dropped by ${who(last.actorId)}: ${what}${g.dropReason ? ` (${g.dropReason})` : ""}`;
      case GoalChangeKind.REOPENED:
        return `Goal reopened by ${who(last.actorId)}: ${what}`;
      case GoalChangeKind.NOTE:
        return `Progress note by ${who(last.actorId)} on ${what}${last.note ? `: ${last.note}` : ""}`;
      case GoalChangeKind.REASSESSED:
        return `Goal reassessed by ${who(last.actorId)}: ${what}`;
      default:
        break;
    }
  }
  if (g.revision <= 1) return `Goal added by ${who(g.createdBy)}: ${what}`;
  switch (g.state) {
    case GoalState.DONE:
      return `Goal done: ${what}`;
    case GoalState.DROPPED:
      return `Goal dropped: ${what}${g.dropReason ? ` (${g.dropReason})` : ""}`;
    default:
      return `Goal updated: ${what}`;
  }
}

/** The words of an assignment's row: what happened last (the state says most of it). */
export function assignmentRowText(
  a: Assignment,
  last: LastChange | undefined,
  me: bigint | undefined,
  name: (id: bigint) => string,
): string {
  const who = (id: bigint) => (id === me ? "you" : id === 0n ? "the program" : name(id));
  const title = `“${a.title}”`;
  const fresh = last && last.atMs >= a.updatedMs ? last : undefined;
  if (fresh?.assignmentChange === AssignmentChange.REVIEWED && fresh.verdict === ReviewVerdict.COMMENT_ONLY) {
    return `Comments on version ${a.versionCount} of ${title} by ${who(a.reviewerId)}`;
  }
  switch (a.state) {
    case AssignmentState.ASSIGNED:
      return `Assignment ${title} handed off by ${who(a.createdBy)} to ${who(a.authorId)}`;
    case AssignmentState.ACKNOWLEDGED:
      return a.createdBy === a.authorId && a.versionCount === 0 && (!fresh || fresh.assignmentChange === AssignmentChange.CREATED)
        ? `${title} opened by ${who(a.authorId)} for review by ${who(a.reviewerId)}`
        : `Assignment ${title} acknowledged by ${who(a.authorId)}`;
    case AssignmentState.SUBMITTED:
    case AssignmentState.RESUBMITTED:
      return `Version ${a.versionCount} of ${title} submitted by ${who(a.authorId)}`;
    case AssignmentState.CHANGES_REQUESTED:
      return `Changes requested on ${title} by ${who(a.reviewerId)}`;
    case AssignmentState.APPROVED:
      return `${title} approved by ${who(a.reviewerId)} (version ${a.approvedVersion})`;
    case AssignmentState.WITHDRAWN:
      return `${title} withdrawn${fresh ? ` by ${who(fresh.actorId)}` : ""}${a.withdrawReason ? `: ${a.withdrawReason}` : ""}`;
    default:
      return `Assignment ${title}`;
  }
}
