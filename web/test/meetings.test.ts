import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { clearOfClockChanges, closedOrFailed, openNav, pairThroughUi, proposeMeeting, shownOrFailed } from "./flows.js";
import { PHONE, contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("meetings");
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const DAY = 86_400_000;

describe("meetings", () => {
  it("the mentor proposes, the mentee sees it live and accepts, both see it accepted; notes; a new time; cancel with a reason", async () => {
    // Each in their own zone: the mentee sees her time and the mentor's.
    const mentee = await newContext(browser, undefined, { timezoneId: "America/Chicago" });
    const mentor = await newContext(browser, undefined, { timezoneId: "Europe/Stockholm" });
    await Promise.all([
      signIn(mentee.page, server.origin, "mentee.chen"),
      signIn(mentor.page, server.origin, "mentor.raman"),
    ]);
    await pairThroughUi(mentee.page, mentor.page, "Dr. Priya Raman");

    // The mentee waits on the Meetings screen; the mentor proposes from the conversation.
    await openNav(mentee.page, "Meetings");
    await mentee.page.getByRole("heading", { name: "Upcoming" }).waitFor(); // the list is loaded
    const start = clearOfClockChanges(Date.now() + 2 * DAY); // on the hour, two days ahead
    await proposeMeeting(mentor.page, {
      startMs: start,
      agenda: "Presenting on rounds: your first case",
      durationLabel: "45 min",
      place: "Room 4B, internal medicine ward",
    });

    // Live on the mentee's screen, without a reload.
    const card = mentee.page.getByTestId("meeting").filter({ hasText: "Presenting on rounds" });
    await card.waitFor();
    expect(await card.getByTestId("meeting-state").textContent()).toBe("Proposed");
    expect(await card.textContent()).toContain("Room 4B, internal medicine ward");
    const shownTime = await card.getByTestId("meeting-time").getAttribute("datetime");
    expect(new Date(shownTime!).getTime()).toBe(start);
    // The hour as the mentee's browser writes it, in each zone.
    const hm = (zone: string) =>
      mentee.page.evaluate(
        ({ start, zone }) =>
          new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(new Date(start)),
        { start, zone },
      );
    expect(await card.getByTestId("meeting-time").textContent()).toContain(await hm("America/Chicago"));
    expect(await card.locator(".zone-note").textContent()).toContain(await hm("Europe/Stockholm"));
    expect(await card.textContent()).toContain("Europe/Stockholm");
    await mentee.page.getByTestId("meetings-waiting").waitFor();
    await screenshot(mentee.page, "20-meeting-proposed");
    expect(await contrastFailures(mentee.page)).toEqual([]);

    // Accept with the keyboard.
    await card.getByRole("button", { name: "Accept" }).focus();
    await mentee.page.keyboard.press("Enter");
    await shownOrFailed(card.getByTestId("meeting-state").getByText("Accepted"), card);

    await openNav(mentor.page, "Meetings");
    const mentorCard = mentor.page.getByTestId("meeting").filter({ hasText: "Presenting on rounds" });
    await expect.poll(() => mentorCard.getByTestId("meeting-state").textContent()).toBe("Accepted");

    // Shared notes reach the other member; private notes stay with their author.
    await mentorCard.getByText("Notes", { exact: true }).click();
    await mentorCard.getByLabel("Shared notes (both of you see these)").fill("Bring two cases you admitted this week.");
    await mentorCard.getByRole("button", { name: "Save shared notes" }).click();
    await shownOrFailed(mentorCard.getByText("Shared notes saved."), mentorCard);
    await mentorCard.getByLabel(/Private notes — only you see these/).fill("Wei seems anxious about rounds.");
    await mentorCard.getByRole("button", { name: "Save private notes" }).click();
    await shownOrFailed(mentorCard.getByText("Your private notes are saved."), mentorCard);
    await card.getByText("Notes", { exact: true }).click();
    await expect
      .poll(() => card.getByLabel("Shared notes (both of you see these)").inputValue())
      .toBe("Bring two cases you admitted this week.");
    expect(await card.getByLabel(/Private notes — only you see these/).inputValue()).toBe("");
    expect(await mentee.page.content()).not.toContain("Wei seems anxious");

    // The mentee asks for a new time; the mentor sees it live and declines it: the old time stays.
    await card.getByRole("button", { name: "Propose a new time…" }).click();
    const nt = mentee.page.getByTestId("new-time-dialog");
    await nt.getByLabel(/^New date and time/).fill(
      await mentee.page.evaluate((ms) => {
        const d = new Date(ms);
        const p = (n: number) => String(n).padStart(2, "0");
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
      }, start + DAY),
    );
    await nt.getByRole("button", { name: "Propose new time" }).click();
    await closedOrFailed(nt);
    await mentorCard.getByTestId("pending-time").waitFor();
    await mentorCard.getByRole("button", { name: "Decline new time…" }).click();
    const dn = mentor.page.getByTestId("reason-dialog");
    await dn.getByLabel(/^Reason/).fill("I am on call that day.");
    await dn.getByRole("button", { name: "Decline new time" }).click();
    await closedOrFailed(dn);
    await expect.poll(() => card.getByTestId("pending-time").count()).toBe(0);
    expect(await card.getByTestId("meeting-state").textContent()).toBe("Accepted");
    expect(new Date((await card.getByTestId("meeting-time").getAttribute("datetime"))!).getTime()).toBe(start);

    // The mentor cancels with a reason; the mentee sees it live with the reason.
    await mentorCard.getByRole("button", { name: "Cancel meeting…" }).click();
    const cn = mentor.page.getByTestId("reason-dialog");
    await cn.getByLabel(/^Reason/).fill("The ward is closed for an inspection.");
    await cn.getByRole("button", { name: "Cancel meeting" }).click();
    await closedOrFailed(cn);
    await expect.poll(() => card.getByTestId("meeting-state").textContent()).toBe("Cancelled");
    expect(await card.textContent()).toContain("The ward is closed for an inspection.");

    // On a phone: no sideways scroll, readable.
    const phone = await newContext(browser, PHONE);
    await signIn(phone.page, server.origin, "mentee.chen");
    await phone.page.goto(`${server.origin}/#/meetings`);
    await phone.page.getByTestId("meeting").first().waitFor();
    await screenshot(phone.page, "21-phone-meetings");
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(await contrastFailures(phone.page)).toEqual([]);

    expect([...mentee.errors, ...mentor.errors, ...phone.errors]).toEqual([]);
    await Promise.all([mentee.context.close(), mentor.context.close(), phone.context.close()]);
  });

  it("settings: reminder times and quiet hours are saved; the calendar feed is made, replaced, and a meeting downloads as .ics", async () => {
    const a = await newContext(browser);
    const b = await newContext(browser);
    await Promise.all([
      signIn(a.page, server.origin, "mentee.garcia"),
      signIn(b.page, server.origin, "mentor.lindqvist"),
    ]);
    await pairThroughUi(a.page, b.page, "Dr. Erik Lindqvist");

    await openNav(a.page, "Settings");
    const prefs = a.page.getByTestId("preferences");
    await prefs.getByLabel("1 day before").waitFor();
    await expect.poll(() => prefs.getByText("Loading your settings…").count()).toBe(0);
    await prefs.getByLabel("15 min before").uncheck();
    await prefs.getByLabel("1 week before").check();
    await prefs.getByLabel("1 h before").check();
    await prefs.getByLabel("Keep quiet hours").check();
    await prefs.getByLabel("From").fill("22:30");
    await prefs.getByLabel("to", { exact: true }).fill("06:45");
    await prefs.getByRole("button", { name: "Save reminder settings" }).click();
    await shownOrFailed(prefs.getByText("Reminder settings saved."), prefs);

    // Another page of the same user reads them back from the server.
    const again = await newContext(browser);
    await signIn(again.page, server.origin, "mentee.garcia");
    await again.page.goto(`${server.origin}/#/settings`);
    const p2 = again.page.getByTestId("preferences");
    await expect.poll(() => p2.getByLabel("1 week before").isChecked()).toBe(true);
    expect(await p2.getByLabel("1 day before").isChecked()).toBe(true);
    expect(await p2.getByLabel("1 h before").isChecked()).toBe(true);
    expect(await p2.getByLabel("15 min before").isChecked()).toBe(false);
    expect(await p2.getByLabel("Keep quiet hours").isChecked()).toBe(true);
    expect(await p2.getByLabel("From").inputValue()).toBe("22:30");
    expect(await p2.getByLabel("to", { exact: true }).inputValue()).toBe("06:45");
    await screenshot(again.page, "22-settings");
    expect(await contrastFailures(again.page)).toEqual([]);
    await again.context.close();

    // The calendar feed: a new address, then another; the first then answers 404.
    const feed = a.page.getByTestId("calendar-feed");
    await feed.getByRole("button", { name: "Make a new calendar address" }).click();
    await shownOrFailed(feed.getByTestId("feed-url"), feed);
    const first = await feed.getByTestId("feed-url").inputValue();
    expect(first).toMatch(new RegExp(`^${server.origin.replace(/[.]/g, "\\.")}/v1/calendar/[^/]+\\.ics$`));
    const r1 = await a.page.request.get(first);
    expect(r1.status()).toBe(200);
    expect(await r1.text()).toContain("BEGIN:VCALENDAR");
    await feed.getByRole("button", { name: "Make another new address" }).click();
    await expect.poll(() => feed.getByTestId("feed-url").inputValue()).not.toBe(first);
    expect((await a.page.request.get(first)).status()).toBe(404);

    // A meeting's "Add to calendar" downloads its .ics.
    await b.page.getByTestId("conversation").waitFor();
    await proposeMeeting(b.page, { startMs: Date.now() + 3 * DAY, agenda: "Research plan" });
    await openNav(a.page, "Meetings");
    const card = a.page.getByTestId("meeting").filter({ hasText: "Research plan" });
    await card.getByRole("button", { name: "Accept" }).click();
    await shownOrFailed(card.getByTestId("meeting-state").getByText("Accepted"), card);
    const [download] = await Promise.all([
      a.page.waitForEvent("download"),
      card.getByRole("button", { name: "Add to calendar" }).click(),
    ]);
    const ics = readFileSync((await download.path())!, "utf8");
    expect(ics).toContain("BEGIN:VCALENDAR");
    expect(ics).toContain("BEGIN:VEVENT");

    expect([...a.errors, ...b.errors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close()]);
  });
});
