// Reminders end to end: the scheduler on (off in every other test), the
// smallest reminder time chosen in Settings, a meeting accepted just over that
// far ahead, and the reminder as the page shows it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import type { PreceptorClient } from "@preceptor/client";
import { openNav, shownOrFailed } from "./flows.js";
import { contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";
import { acceptedMeeting, pairUp, sdkClient } from "./sdk.js";

let browser: Browser;
let server: ServerHandle;
const clients: PreceptorClient[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("reminders", { extraArgs: ["--scheduler-interval-ms", "200"] });
});
afterAll(async () => {
  for (const c of clients) c.stop();
  await browser?.close();
  await server?.stop();
});

describe("reminders", () => {
  it("a reminder 1 minute before (the smallest time Settings takes) shows over the page, says with whom and when, and can be dismissed", async () => {
    const menteeSdk = await sdkClient(server.origin, "mentee.chen");
    const mentorSdk = await sdkClient(server.origin, "mentor.raman");
    clients.push(menteeSdk, mentorSdk);
    const mentorshipId = await pairUp(menteeSdk, mentorSdk, "mentor.raman");
    const { page, errors, context } = await newContext(browser);
    await signIn(page, server.origin, "mentee.chen");

    // Settings: only "1 min before" (the server takes 1 to 10080 minutes).
    await openNav(page, "Settings");
    const prefs = page.getByTestId("preferences");
    await expect.poll(() => prefs.getByText("Loading your settings…").count()).toBe(0);
    await prefs.getByLabel("1 day before").uncheck();
    await prefs.getByLabel("15 min before").uncheck();
    const other = prefs.getByLabel("Another time (minutes before)");
    await other.fill("0");
    await other.press("Enter");
    await prefs.getByText("A reminder time is a whole number of minutes from 1 to 10080 (a week).").waitFor();
    await other.fill("1");
    await prefs.getByRole("button", { name: "Add this reminder time" }).click();
    expect(await prefs.getByLabel("1 min before").isChecked()).toBe(true);
    await prefs.getByRole("button", { name: "Save reminder settings" }).click();
    await shownOrFailed(prefs.getByText("Reminder settings saved."), prefs);
    expect(await prefs.getByLabel("1 min before").isChecked()).toBe(true);
    expect(await prefs.getByLabel("1 day before").isChecked()).toBe(false);

    // A meeting accepted that starts a few seconds over 1 minute ahead; the
    // mentee waits on another screen.
    await openNav(page, "Mentorships");
    const agenda = "Quick check before the night shift";
    const { startMs } = await acceptedMeeting(mentorSdk, menteeSdk, mentorshipId, { inMs: 64_000, agenda, minutes: 30 });

    const reminder = page.getByTestId("reminder");
    await reminder.waitFor({ timeout: 30_000 });
    const range = await page.evaluate((startMs) => {
      const day = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });
      const hm = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
      return `${day.format(startMs)}, ${hm.format(startMs)}–${hm.format(startMs + 30 * 60_000)}`;
    }, startMs);
    const text = (await reminder.locator("p").textContent())!;
    expect(text).toMatch(/^Reminder: your meeting with Dr\. Priya Raman starts (in \d+ minutes?|now): /);
    expect(text).toContain(`: ${range} (your time) · Call in Preceptor.`);
    expect(text).not.toContain("late");
    expect(new Date((await reminder.getByTestId("reminder-time").getAttribute("datetime"))!).getTime()).toBe(startMs);
    await screenshot(page, "25-reminder");
    expect(await contrastFailures(page)).toEqual([]);

    // It stays on every screen until dismissed; it leads to the meeting.
    await reminder.getByRole("link", { name: "Open meeting" }).click();
    const card = page.getByTestId("meeting").filter({ hasText: agenda });
    await expect.poll(() => card.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await reminder.count()).toBe(1);
    await reminder.getByRole("button", { name: "Dismiss the reminder" }).click();
    await expect.poll(() => reminder.count()).toBe(0);

    expect(errors).toEqual([]);
    await context.close();
  });
});
