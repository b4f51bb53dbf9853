import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { openAllDay, openNav, pairThroughUi, proposeMeeting, shownOrFailed } from "./flows.js";
import { PHONE, contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchBrowser(); // with a fake camera and microphone (harness.ts)
  server = await startServer("call");
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The remote <video> shows decoded frames of the other side's (fake) camera. */
async function remoteVideoPlays(page: Page): Promise<boolean> {
  return page.getByTestId("remote-video").evaluate((v: HTMLVideoElement) => v.videoWidth > 0 && v.readyState >= 2);
}

describe("the call", () => {
  it("at the meeting's time the mentor calls, the mentee accepts the ringing call, and both receive each other's video; a declined call", async () => {
    const mentee = await newContext(browser);
    const mentor = await newContext(browser);
    await Promise.all([signIn(mentee.page, server.origin, "mentee.chen"), signIn(mentor.page, server.origin, "mentor.raman")]);
    await pairThroughUi(mentee.page, mentor.page, "Dr. Priya Raman");

    // A meeting in the app starting in a minute or two, accepted by the mentee.
    const start = Math.ceil((Date.now() + 90_000) / 60_000) * 60_000;
    await proposeMeeting(mentor.page, { startMs: start, agenda: "Quick video check-in" });
    await openNav(mentee.page, "Meetings");
    const card = mentee.page.getByTestId("meeting").filter({ hasText: "Quick video check-in" });
    await card.getByRole("button", { name: "Accept" }).click();
    await shownOrFailed(card.getByTestId("meeting-state").getByText("Accepted"), card);

    // The mentor joins: the mentee's page rings.
    await openNav(mentor.page, "Meetings");
    const mentorCard = mentor.page.getByTestId("meeting").filter({ hasText: "Quick video check-in" });
    await expect.poll(() => mentorCard.getByTestId("meeting-state").textContent()).toBe("Accepted");
    await mentorCard.getByRole("button", { name: "Join call" }).click();
    const ringing = mentee.page.getByTestId("call-ringing");
    await ringing.waitFor();
    expect(await ringing.textContent()).toContain("Dr. Priya Raman is calling you.");
    await screenshot(mentee.page, "40-call-ringing");
    expect(await contrastFailures(mentee.page)).toEqual([]);
    await ringing.getByRole("button", { name: "Accept call" }).click();

    // WebRTC through the server's signaling: connected, and video flows both ways.
    for (const p of [mentor.page, mentee.page]) {
      await expect.poll(() => p.getByTestId("call-link").textContent(), { timeout: 20_000 }).toBe("connected");
      await expect.poll(() => p.getByTestId("call-video").textContent(), { timeout: 15_000 }).toBe("receiving video");
      await expect.poll(() => remoteVideoPlays(p), { timeout: 10_000 }).toBe(true);
    }
    await screenshot(mentee.page, "41-call");
    expect(await contrastFailures(mentee.page)).toEqual([]);
    // On a phone's width the call fits without sideways scrolling.
    await mentee.page.setViewportSize(PHONE);
    expect(await mentee.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(mentee.page, "42-phone-call");

    // The mentee hangs up: the mentor is told.
    await mentee.page.getByRole("button", { name: "Hang up" }).click();
    await expect.poll(() => mentor.page.getByTestId("call-ended").textContent()).toContain("Wei Chen hung up.");
    expect(await mentor.page.getByTestId("remote-video").count()).toBe(0);

    // Now the mentee calls; the mentor declines: the mentee is told.
    await card.getByRole("button", { name: "Join call" }).click();
    await mentor.page.getByTestId("call-ringing").getByRole("button", { name: "Decline" }).click();
    await expect.poll(() => mentee.page.getByTestId("call-ended").textContent()).toContain("Dr. Priya Raman declined the call");

    expect([...mentee.errors, ...mentor.errors]).toEqual([]);
    await Promise.all([mentee.context.close(), mentor.context.close()]);
  });

  it("from the drop-in queue: the mentor calls the next mentee and starts the call; it rings on the mentee's page", async () => {
    const mentor = await newContext(browser);
    const mentee = await newContext(browser);
    // mentee.novak has no mentorship with Dr. Raman (the demo pairs mentee.garcia with her).
    await Promise.all([signIn(mentor.page, server.origin, "mentor.raman"), signIn(mentee.page, server.origin, "mentee.novak")]);
    await openAllDay(mentor.page, 1);
    await mentee.page.goto(`${server.origin}/#/office-hours`);
    await mentee.page.getByLabel("Mentor").selectOption({ label: "Dr. Priya Raman" });
    const q = mentee.page.getByTestId("mentee-queue");
    await q.getByRole("button", { name: "Join the line" }).click();
    await shownOrFailed(q.getByRole("button", { name: "Leave the line" }), q);

    const panel = mentor.page.getByTestId("queue-panel");
    await panel.getByTestId("queue-entry").filter({ hasText: "Tomas Novak" }).waitFor();
    await panel.getByRole("button", { name: "Call next" }).click();
    await shownOrFailed(panel.getByRole("button", { name: "Start call with Tomas Novak" }), panel);
    await panel.getByRole("button", { name: "Start call with Tomas Novak" }).click();
    const ringing = mentee.page.getByTestId("call-ringing");
    await ringing.waitFor();
    expect(await ringing.textContent()).toContain("Dr. Priya Raman is calling you.");
    await ringing.getByRole("button", { name: "Accept call" }).click();
    for (const p of [mentor.page, mentee.page]) {
      await expect.poll(() => p.getByTestId("call-link").textContent(), { timeout: 20_000 }).toBe("connected");
    }
    await mentor.page.getByRole("button", { name: "Hang up" }).click();
    await expect.poll(() => mentee.page.getByTestId("call-ended").textContent()).toContain("Dr. Priya Raman hung up.");
    expect([...mentee.errors, ...mentor.errors]).toEqual([]);
    await Promise.all([mentee.context.close(), mentor.context.close()]);
  });
});
