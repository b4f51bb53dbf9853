// Meetings where the pair talks: rows in the conversation's timeline, live;
// marking a meeting held or a no-show once it has started; "is this a good fit?".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Locator, Page } from "playwright-core";
import type { PreceptorClient } from "@preceptor/client";
import { clearOfClockChanges, openNav, proposeMeeting, sendMessage, shownOrFailed } from "./flows.js";
import { contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";
import { acceptedMeeting, pairUp, sdkClient } from "./sdk.js";

let browser: Browser;
let server: ServerHandle;
const clients: PreceptorClient[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("meetings-timeline");
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

/** The meeting's time as the page's browser writes it ("Tue, Jun 3, 14:00–14:45"), in its own zone. */
function rangeIn(page: Page, startMs: number, minutes: number): Promise<string> {
  return page.evaluate(
    ({ startMs, minutes }) => {
      const day = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });
      const hm = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
      return `${day.format(startMs)}, ${hm.format(startMs)}–${hm.format(startMs + minutes * 60_000)}`;
    },
    { startMs, minutes },
  );
}

/** What the timeline shows, in order: "message: <text>" and "meeting: <state>". */
function timeline(page: Page): Promise<string[]> {
  return page.locator(".msg-list > li").evaluateAll((els) =>
    els.map((el) =>
      el.getAttribute("data-testid") === "meeting-row"
        ? `meeting: ${el.querySelector('[data-testid="meeting-row-state"]')?.textContent ?? ""}`
        : `message: ${el.querySelector('[data-testid="message-body"]')?.textContent ?? ""}`,
    ),
  );
}

async function openConversationWith(page: Page, name: string): Promise<void> {
  await openNav(page, "Mentorships");
  await page.getByTestId("conversation-row").filter({ hasText: name }).click();
  await page.getByTestId("conversation").waitFor();
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("meetings in the conversation", () => {
  it("the mentee proposes from the conversation; the mentor's open conversation shows it live, in their own time; accepted from the row's link, both rows read accepted", async () => {
    await pairUp(await sdk("mentee.chen"), await sdk("mentor.raman"), "mentor.raman");
    const mentee = await newContext(browser, undefined, { timezoneId: "America/Chicago" });
    const mentor = await newContext(browser, undefined, { timezoneId: "Europe/Stockholm" });
    await Promise.all([
      signIn(mentee.page, server.origin, "mentee.chen"),
      signIn(mentor.page, server.origin, "mentor.raman"),
    ]);
    await Promise.all([
      openConversationWith(mentee.page, "Dr. Priya Raman"),
      openConversationWith(mentor.page, "Wei Chen"),
    ]);
    await sendMessage(mentee.page, "Could we meet about my case presentation?");
    await mentor.page.getByTestId("message-body").filter({ hasText: "case presentation?" }).waitFor();

    const start = clearOfClockChanges(Date.now() + 2 * DAY);
    const agenda = "Preparing my first case presentation";
    await proposeMeeting(mentee.page, { startMs: start, agenda, durationLabel: "45 min" });

    // The proposer's own row, and the mentor's, live: each in their own time zone.
    const menteeRow = mentee.page.getByTestId("meeting-row").filter({ hasText: agenda });
    const mentorRow = mentor.page.getByTestId("meeting-row").filter({ hasText: agenda });
    await menteeRow.waitFor();
    await mentorRow.waitFor();
    expect(await menteeRow.getByTestId("meeting-row-text").textContent()).toBe(
      `Meeting proposed by you for ${await rangeIn(mentee.page, start, 45)} (your time)`,
    );
    expect(await mentorRow.getByTestId("meeting-row-text").textContent()).toBe(
      `Meeting proposed by Wei Chen for ${await rangeIn(mentor.page, start, 45)} (your time)`,
    );
    expect(await rangeIn(mentee.page, start, 45)).not.toBe(await rangeIn(mentor.page, start, 45));
    expect(await mentorRow.getByTestId("meeting-row-state").textContent()).toBe("Proposed");
    // Among the messages, not a bubble: after the message sent before it.
    expect(await timeline(mentor.page)).toEqual(["message: Could we meet about my case presentation?", "meeting: Proposed"]);
    await screenshot(mentor.page, "23-meeting-in-conversation");
    expect(await contrastFailures(mentor.page)).toEqual([]);

    // A message after the proposal comes below the row.
    await sendMessage(mentee.page, "I put a time in; tell me if it does not suit you.");
    await mentor.page.getByTestId("message-body").filter({ hasText: "I put a time in" }).waitFor();
    expect(await timeline(mentor.page)).toEqual([
      "message: Could we meet about my case presentation?",
      "meeting: Proposed",
      "message: I put a time in; tell me if it does not suit you.",
    ]);

    // The mentor follows the row's link to the meeting and accepts it there.
    await mentorRow.getByRole("link", { name: "Answer in Meetings" }).click();
    const card = mentor.page.getByTestId("meeting").filter({ hasText: agenda });
    await card.waitFor();
    await expect.poll(() => card.evaluate((el) => el === document.activeElement)).toBe(true);
    await card.getByRole("button", { name: "Accept" }).click();
    await shownOrFailed(card.getByTestId("meeting-state").getByText("Accepted"), card);

    // The mentee's row changes without a reload, and moves to the time of the change.
    await expect.poll(() => menteeRow.getByTestId("meeting-row-state").textContent()).toBe("Accepted");
    expect(await menteeRow.getByTestId("meeting-row-text").textContent()).toBe(
      `Meeting for ${await rangeIn(mentee.page, start, 45)} (your time) accepted`,
    );
    expect(await timeline(mentee.page)).toEqual([
      "message: Could we meet about my case presentation?",
      "message: I put a time in; tell me if it does not suit you.",
      "meeting: Accepted",
    ]);

    // The mentor's conversation, loaded afresh, reads the same from the server.
    await mentor.page.goBack();
    await mentor.page.reload();
    await mentorRow.waitFor();
    expect(await mentorRow.getByTestId("meeting-row-state").textContent()).toBe("Accepted");
    expect(await mentorRow.getByTestId("meeting-row-text").textContent()).toBe(
      `Meeting for ${await rangeIn(mentor.page, start, 45)} (your time) accepted`,
    );
    expect(await mentorRow.getByRole("link", { name: "Open in Meetings" }).getAttribute("href")).toMatch(/^#\/meetings\/\d+$/);

    expect([...mentee.errors, ...mentor.errors]).toEqual([]);
    await Promise.all([mentee.context.close(), mentor.context.close()]);
  });

  it("a started meeting is marked held, then both answer whether it is a good fit (kept after a reload); a second one is marked a no-show", async () => {
    const menteeSdk = await sdk("mentee.garcia");
    const mentorSdk = await sdk("mentor.lindqvist");
    const mentorshipId = await pairUp(menteeSdk, mentorSdk, "mentor.lindqvist");
    const mentee = await newContext(browser);
    const mentor = await newContext(browser);
    await Promise.all([
      signIn(mentee.page, server.origin, "mentee.garcia"),
      signIn(mentor.page, server.origin, "mentor.lindqvist"),
    ]);
    await Promise.all([openNav(mentee.page, "Meetings"), openNav(mentor.page, "Meetings")]);
    await Promise.all([
      mentee.page.getByRole("heading", { name: "Upcoming" }).waitFor(),
      mentor.page.getByRole("heading", { name: "Upcoming" }).waitFor(),
    ]);
    const state = (card: Locator) => card.getByTestId("meeting-state").textContent();

    // Accepted, starting in a few seconds: no marking before the start.
    const { startMs } = await acceptedMeeting(mentorSdk, menteeSdk, mentorshipId, {
      inMs: 3_000,
      agenda: "First meeting: goals",
    });
    const first = mentee.page.getByTestId("meeting").filter({ hasText: "First meeting: goals" });
    const firstForMentor = mentor.page.getByTestId("meeting").filter({ hasText: "First meeting: goals" });
    await expect.poll(() => state(first)).toBe("Accepted");
    // (Checked only while the start is surely ahead: a slow machine may get here later.)
    if (Date.now() < startMs - 1_000) expect(await first.getByRole("button", { name: "Mark held" }).count()).toBe(0);
    expect(await mentee.page.getByTestId("fit-question").count()).toBe(0);

    // Once it has started the buttons come by themselves; the mentee marks it held.
    await first.getByRole("button", { name: "Mark held" }).waitFor({ timeout: 20_000 });
    await first.getByRole("button", { name: "Mark held" }).click();
    await shownOrFailed(first.getByTestId("meeting-state").getByText("Held"), first);
    await expect.poll(() => state(firstForMentor)).toBe("Held");
    expect(await firstForMentor.getByRole("button", { name: "Mark no-show" }).count()).toBe(0);

    // The next one is set up now, so its start passes while the fit is answered.
    await acceptedMeeting(menteeSdk, mentorSdk, mentorshipId, { inMs: 3_000, agenda: "Second meeting: follow-up" });

    // "Is this a good fit?" for both, after their first held meeting; each answers privately.
    const menteeFit = mentee.page.getByTestId("fit-question");
    const mentorFit = mentor.page.getByTestId("fit-question");
    await menteeFit.waitFor();
    await mentorFit.waitFor();
    expect(await menteeFit.textContent()).toContain("Is your mentorship with Dr. Erik Lindqvist a good fit?");
    expect(await mentorFit.textContent()).toContain("Is your mentorship with Lucia Garcia a good fit?");
    await menteeFit.getByLabel("Yes").check();
    await mentorFit.getByLabel("Unsure").check();
    await expect.poll(() => menteeFit.getByLabel("Yes").isChecked()).toBe(true);
    await expect.poll(() => mentorFit.getByLabel("Unsure").isChecked()).toBe(true);
    expect(await menteeFit.locator(".form-error").count()).toBe(0);
    expect(await mentorFit.locator(".form-error").count()).toBe(0);
    await screenshot(mentee.page, "24-meeting-held-fit");
    expect(await contrastFailures(mentee.page)).toEqual([]);

    // Kept after a reload.
    await Promise.all([mentee.page.reload(), mentor.page.reload()]);
    await menteeFit.waitFor();
    await mentorFit.waitFor();
    await expect.poll(() => menteeFit.getByLabel("Yes").isChecked()).toBe(true);
    expect(await menteeFit.getByLabel("Unsure").isChecked()).toBe(false);
    await expect.poll(() => mentorFit.getByLabel("Unsure").isChecked()).toBe(true);

    // The second meeting: the mentor marks it a no-show; both see it so.
    const second = mentor.page.getByTestId("meeting").filter({ hasText: "Second meeting: follow-up" });
    const secondForMentee = mentee.page.getByTestId("meeting").filter({ hasText: "Second meeting: follow-up" });
    await second.getByRole("button", { name: "Mark no-show" }).waitFor({ timeout: 20_000 });
    await second.getByRole("button", { name: "Mark no-show" }).click();
    await shownOrFailed(second.getByTestId("meeting-state").getByText("No-show"), second);
    await expect.poll(() => state(secondForMentee)).toBe("No-show");
    expect(await secondForMentee.getByRole("button", { name: "Mark held" }).count()).toBe(0);

    // And in the conversation, in words.
    await openConversationWith(mentee.page, "Dr. Erik Lindqvist");
    const rows = mentee.page.getByTestId("meeting-row");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.filter({ hasText: "First meeting" }).getByTestId("meeting-row-text").textContent()).toMatch(
      / held, marked by you$/,
    );
    expect(await rows.filter({ hasText: "Second meeting" }).getByTestId("meeting-row-text").textContent()).toMatch(
      /: no-show, marked by Dr\. Erik Lindqvist$/,
    );

    expect([...mentee.errors, ...mentor.errors]).toEqual([]);
    await Promise.all([mentee.context.close(), mentor.context.close()]);
  });
});
