// Goals end to end, two people on a real server: added from the conversation's
// Goals link, seen live by the other member (rows in the conversation, the
// list), edited, a progress note, done and reopened, dropped with a reason,
// each goal's history; a reassessment that keeps one, refines one and adds
// one, recorded for both; the director sees the counts and no goal text.
// Alongside (so its wait costs no time of its own), an assignment due in a
// few seconds: the due-soon and overdue nudges come as banners over every
// screen, until dismissed. This file's server runs the scheduler for them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { AssignmentKind, type PreceptorClient } from "@preceptor/client";
import { closedOrFailed, shownOrFailed } from "./flows.js";
import { DESKTOP, PHONE, contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";
import { pairUp, sdkClient } from "./sdk.js";
import { openConversationWith } from "./work.js";

let browser: Browser;
let server: ServerHandle;
const clients: PreceptorClient[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("goals", { extraArgs: ["--scheduler-interval-ms", "200"] });
});
afterAll(async () => {
  for (const c of clients) c.stop();
  await browser?.close();
  await server?.stop();
});

async function sdk(username: string): Promise<PreceptorClient> {
  const c = await sdkClient(server.origin, username);
  clients.push(c);
  return c;
}

const G1 = "Present a case at grand rounds";
const G1_EDITED = "Present two cases at grand rounds";
const G2 = "Read one cardiology guideline a week";
const G3 = "Shadow a cath lab session";
const G3_REFINED = "Shadow two cath lab sessions";
const G4 = "Submit an abstract to the regional meeting";
const DUE_TITLE = "Send the abstract draft";

async function addGoal(page: Page, what: string, measure = ""): Promise<void> {
  await page.getByRole("button", { name: "Add a goal" }).click();
  const dialog = page.getByTestId("add-goal-dialog");
  await dialog.getByLabel("Goal", { exact: true }).fill(what);
  if (measure) await dialog.getByLabel(/^How progress is measured/).fill(measure);
  await dialog.getByRole("button", { name: "Add goal" }).click();
  await closedOrFailed(dialog);
}

/** The goal's card by its exact text. */
const goal = (page: Page, what: string) =>
  page.getByTestId("goal").filter({ has: page.getByTestId("goal-what").getByText(what, { exact: true }) });

async function historyOf(page: Page, what: string): Promise<string[]> {
  const card = goal(page, what);
  await card.getByRole("button", { name: /^History/ }).click();
  const list = card.getByTestId("goal-history");
  await list.waitFor();
  return list.getByTestId("goal-history-entry").allTextContents();
}

describe("goals", () => {
  it("add, edit, a note, done and reopen, drop with a reason, the history, live for both; a reassessment that keeps, refines and adds; due soon and overdue banners; the director's counts", async () => {
    const mentorSdk = await sdk("mentor.lindqvist");
    const mentorshipId = await pairUp(await sdk("mentee.garcia"), mentorSdk, "mentor.lindqvist");
    const mentee = await newContext(browser);
    const mentor = await newContext(browser);
    await Promise.all([signIn(mentee.page, server.origin, "mentee.garcia"), signIn(mentor.page, server.origin, "mentor.lindqvist")]);
    await Promise.all([openConversationWith(mentee.page, "Dr. Erik Lindqvist"), openConversationWith(mentor.page, "Lucia Garcia")]);

    // An assignment due in a few seconds (from the mentor's other device): due soon at once, to the mentee only.
    await mentorSdk.call("createAssignment", {
      mentorshipId,
      title: DUE_TITLE,
      kind: AssignmentKind.ABSTRACT,
      dueMs: BigInt(Date.now() + 5_000),
      timeZone: "Europe/Stockholm",
    });
    const soon = mentee.page.getByTestId("assignment-nudge").filter({ hasText: DUE_TITLE });
    await soon.waitFor();
    expect(await soon.textContent()).toMatch(/^Due soon: “Send the abstract draft” is due in less than a minute, /);
    expect(await mentor.page.getByTestId("assignment-nudge").count()).toBe(0);

    // The mentee goes to the goals from the conversation's header and adds three.
    await mentee.page.getByTestId("conversation").getByRole("link", { name: "Goals" }).click();
    await mentee.page.getByRole("heading", { name: "Goals with Dr. Erik Lindqvist" }).waitFor();
    await mentee.page.getByText("No open goals.", { exact: false }).waitFor();
    await addGoal(mentee.page, G1, "Feedback forms from two attendings");
    await addGoal(mentee.page, G2);
    await addGoal(mentee.page, G3);
    await expect.poll(() => mentee.page.getByTestId("goal").count()).toBe(3);
    expect(await goal(mentee.page, G1).getByTestId("goal-measure").textContent()).toBe("Measured by: Feedback forms from two attendings");

    // The mentor's open conversation shows them live, one row each, and links to them.
    const rows = mentor.page.getByTestId("work-row").and(mentor.page.locator('[data-kind="goal"]'));
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.first().getByTestId("work-row-text").textContent()).toBe(`Goal added by Lucia Garcia: “${G1}”`);
    await rows.first().getByRole("link", { name: "Open goals" }).click();
    await mentor.page.getByRole("heading", { name: "Goals with Lucia Garcia" }).waitFor();
    await expect.poll(() => mentor.page.getByTestId("goal").count()).toBe(3);

    // The mentor edits the first; the mentee sees the new text live.
    const g1 = goal(mentor.page, G1);
    await g1.getByRole("button", { name: /^Edit/ }).click();
    await g1.getByLabel("Goal", { exact: true }).fill(G1_EDITED);
    await g1.getByRole("button", { name: "Save goal" }).click();
    await goal(mentor.page, G1_EDITED).waitFor();
    await goal(mentee.page, G1_EDITED).waitFor();

    // A progress note from the mentee.
    const g1m = goal(mentee.page, G1_EDITED);
    await g1m.getByRole("button", { name: "Add a progress note" }).click();
    await g1m.getByLabel("Progress note").fill("Drafted the first case with the team.");
    await g1m.getByRole("button", { name: "Add note" }).click();
    await expect.poll(() => g1m.textContent()).toContain("1 progress note");

    // Done, and reopened (it moves behind the toggle and back).
    await goal(mentee.page, G3).getByRole("button", { name: "Mark done" }).click();
    await expect.poll(() => mentee.page.getByTestId("goal").count()).toBe(2);
    await expect.poll(() => goal(mentor.page, G3).count()).toBe(0);
    await mentee.page.getByTestId("show-closed-goals").check();
    await expect.poll(() => goal(mentee.page, G3).getByTestId("goal-state").textContent()).toBe("Done");
    await goal(mentee.page, G3).getByRole("button", { name: "Reopen" }).click();
    await expect.poll(() => goal(mentee.page, G3).getByTestId("goal-state").textContent()).toBe("Open");
    await goal(mentor.page, G3).waitFor();

    // The mentor drops the second with a reason.
    const g2 = goal(mentor.page, G2);
    await g2.getByRole("button", { name: "Drop…" }).click();
    await g2.getByLabel(/^Why drop this goal/).fill("Covered by the journal club instead.");
    await g2.getByRole("button", { name: "Drop goal" }).click();
    await expect.poll(() => goal(mentor.page, G2).count()).toBe(0);
    const g2m = goal(mentee.page, G2); // the mentee shows closed goals
    await expect.poll(() => g2m.getByTestId("goal-state").textContent()).toBe("Dropped");
    expect(await g2m.getByTestId("goal-drop-reason").textContent()).toBe("Dropped: Covered by the journal club instead.");

    // The history: who, what before and after, the note.
    const h1 = await historyOf(mentee.page, G1_EDITED);
    expect(h1).toHaveLength(3);
    expect(h1[0]).toMatch(/^You added the goal · /);
    expect(h1[1]).toMatch(/^Dr\. Erik Lindqvist edited the goal · /);
    expect(h1[1]).toContain(`Goal: ${G1} → ${G1_EDITED}`);
    expect(h1[2]).toMatch(/^You added a progress note · /);
    expect(h1[2]).toContain("Drafted the first case with the team.");
    const h3 = await historyOf(mentee.page, G3);
    expect(h3.map((e) => e.replace(/ · .*$/s, ""))).toEqual([
      "You added the goal",
      "You marked the goal done",
      "You reopened the goal",
    ]);
    expect(h3[1]).toContain("State: Open → Done");

    // The reassessment: keep the first, refine the third, add a new one, a summary.
    await mentee.page.getByRole("button", { name: "Reassess now" }).click();
    const form = mentee.page.getByTestId("reassess-form");
    const decide = (what: string) => form.getByTestId("reassess-goal").filter({ hasText: what });
    await expect.poll(() => form.getByTestId("reassess-goal").count()).toBe(2); // the open ones
    await decide(G1_EDITED).getByLabel("Keep").check();
    await decide(G3).getByLabel("Refine").check();
    await decide(G3).getByLabel("New wording").fill(G3_REFINED);
    await form.getByRole("button", { name: "Add a new goal" }).click();
    await form.getByTestId("new-goal").getByLabel("Goal", { exact: true }).fill(G4);
    await form.getByLabel(/^Summary/).fill("Good progress on rounds; more time in the cath lab next.");
    await form.getByRole("button", { name: "Record reassessment" }).click();
    await closedOrFailed(form);
    const past = mentee.page.getByTestId("reassessment");
    await past.waitFor();
    expect(await past.getByTestId("reassessment-summary").textContent()).toBe("Good progress on rounds; more time in the cath lab next.");
    expect(await past.getByTestId("reassessment-decision").allTextContents()).toEqual([
      `Kept: ${G1_EDITED}`,
      `Refined: ${G3_REFINED}`,
      `New: ${G4}`,
    ]);
    await goal(mentee.page, G3_REFINED).waitFor();
    await goal(mentee.page, G4).waitFor();
    await screenshot(mentee.page, "31-goals-reassessed");
    expect(await contrastFailures(mentee.page)).toEqual([]);
    // Usable on a phone: nothing runs off the side.
    await mentee.page.setViewportSize(PHONE);
    expect(await mentee.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await mentee.page.setViewportSize(DESKTOP);

    // Recorded for the mentor too, live.
    const pastForMentor = mentor.page.getByTestId("reassessment");
    await pastForMentor.waitFor();
    await goal(mentor.page, G3_REFINED).waitFor();
    await goal(mentor.page, G4).waitFor();
    const h3r = await historyOf(mentor.page, G3_REFINED);
    expect(h3r[h3r.length - 1]).toMatch(/^Lucia Garcia reassessed the goal in a reassessment · /);
    expect(h3r[h3r.length - 1]).toContain(`Goal: ${G3} → ${G3_REFINED}`);

    // The mentor marks the first one done.
    await goal(mentor.page, G1_EDITED).getByRole("button", { name: "Mark done" }).click();
    await shownOrFailed(mentor.page.getByText("Open goals (2)"), mentor.page.getByTestId("goals"));

    // In the mentee's conversation, one row per goal at its last change.
    await mentee.page.getByRole("link", { name: "Conversation", exact: true }).click();
    const menteeRows = mentee.page.getByTestId("work-row").and(mentee.page.locator('[data-kind="goal"]'));
    await expect.poll(() => menteeRows.count()).toBe(4);
    expect(await menteeRows.filter({ hasText: G2 }).getByTestId("work-row-text").textContent()).toBe(
      `Goal dropped by Dr. Erik Lindqvist: “${G2}” (Covered by the journal club instead.)`,
    );
    await expect.poll(() => menteeRows.filter({ hasText: G1_EDITED }).getByTestId("work-row-state").textContent()).toBe("Done");

    // By now the assignment is overdue: a banner for both, the mentee's replacing "due soon".
    const overdue = mentee.page.getByTestId("assignment-nudge").filter({ hasText: "Overdue:" });
    await overdue.waitFor();
    expect(await mentee.page.getByTestId("assignment-nudge").count()).toBe(1);
    expect(await overdue.textContent()).toContain(`“${DUE_TITLE}” was due `);
    expect(await overdue.textContent()).toContain("submit a version when you can.");
    const mentorOverdue = mentor.page.getByTestId("assignment-nudge").filter({ hasText: "Overdue:" });
    await mentorOverdue.waitFor();
    expect(await mentorOverdue.textContent()).toContain("and Lucia Garcia has not submitted a version yet.");
    await screenshot(mentee.page, "32-assignment-overdue-banner");
    expect(await contrastFailures(mentee.page)).toEqual([]);
    // Its link opens the assignment, marked overdue; dismissed, the banner stays away.
    await overdue.getByRole("link", { name: "Open assignment" }).click();
    await mentee.page.getByRole("heading", { name: DUE_TITLE }).waitFor();
    expect(await mentee.page.getByTestId("assignment").getByTestId("due-status").textContent()).toContain("Overdue");
    await overdue.getByRole("button", { name: /^Dismiss/ }).click();
    await expect.poll(() => mentee.page.getByTestId("assignment-nudge").count()).toBe(0);
    await mentee.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Assignments" }).click();
    const card = mentee.page.getByTestId("assignment-card").filter({ hasText: DUE_TITLE });
    await card.waitFor();
    expect(await card.getByTestId("due-status").textContent()).toContain("Overdue");
    expect(await mentee.page.getByTestId("assignment-nudge").count()).toBe(0);

    expect([...mentee.errors, ...mentor.errors]).toEqual([]);
    await Promise.all([mentee.context.close(), mentor.context.close()]);

    // The director: counts and the date, no goal text.
    const d = await newContext(browser);
    await signIn(d.page, server.origin, "director.okafor");
    const table = d.page.getByTestId("engagement-table");
    // (The demo pairs Lucia Garcia with Dr. Raman too: this test's row is the one with Dr. Lindqvist.)
    const dRow = table.locator("tbody tr").filter({ hasText: "Lucia Garcia" }).filter({ hasText: "Dr. Erik Lindqvist" });
    await expect.poll(() => dRow.count()).toBe(1);
    const head = await table.locator("thead th").allTextContents();
    const cells = await dRow.locator("td").allTextContents();
    const cell = (name: string) => cells[head.findIndex((h) => h.trim() === name)];
    expect(cell("Goals open")).toBe("2");
    expect(cell("Goals done")).toBe("1");
    expect(cell("Last reassessment")).not.toBe("Never");
    expect([cell("Assignments open"), cell("Overdue"), cell("Approved")]).toEqual(["1", "1", "0"]);
    const html = await d.page.content();
    for (const text of [G1, G2, G3_REFINED, G4, "cath lab", DUE_TITLE]) expect(html).not.toContain(text);
    expect(d.errors).toEqual([]);
    await d.context.close();
  });
});
