import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { closedOrFailed, openAllDay, openNav, shownOrFailed } from "./flows.js";
import { PHONE, contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("office-hours");
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("office hours", () => {
  it("the mentor sets weekly hours; a mentee of the program sees free slots and books one; the mentor sees the booking", async () => {
    const mentor = await newContext(browser);
    const mentee = await newContext(browser);
    // no mentorship with Dr. Lindqvist
    await Promise.all([
      signIn(mentor.page, server.origin, "mentor.lindqvist"),
      signIn(mentee.page, server.origin, "mentee.garcia"),
    ]);
    await openAllDay(mentor.page, 2);
    await screenshot(mentor.page, "30-office-hours-editor");
    expect(await contrastFailures(mentor.page)).toEqual([]);

    await openNav(mentee.page, "Office hours");
    await mentee.page.getByLabel("Mentor").selectOption({ label: "Dr. Erik Lindqvist" });
    const slots = mentee.page.getByTestId("slots");
    await shownOrFailed(slots.getByTestId("slot").first(), slots);
    // Every day of the next weeks, but not the day away.
    expect(await slots.getByTestId("slot-day").count()).toBeGreaterThanOrEqual(14);
    const first = slots.getByTestId("slot").first();
    expect(await first.textContent()).toContain("2 of 2 seats left");
    await screenshot(mentee.page, "31-slots");
    expect(await contrastFailures(mentee.page)).toEqual([]);

    // Book the third free slot. Late in the day it is tomorrow's, whose day
    // is closed: open it as a person would.
    const days = slots.getByTestId("slot-day");
    let day = days.first();
    let index = 2;
    const dayCount = await days.count();
    for (let i = 0; i < dayCount; i++) {
      day = days.nth(i);
      const inDay = await day.getByTestId("slot").count();
      if (index < inDay) break;
      index -= inDay;
    }
    const third = day.getByTestId("slot").nth(index);
    const label = (await third.textContent())!.split(" ·")[0]!;
    if (!(await third.isVisible())) await day.locator("summary").click();
    const slot = day.getByTestId("slot").filter({ hasText: label }).first();
    await slot.click();
    const dialog = mentee.page.getByTestId("book-dialog");
    await dialog.getByLabel("What would you like to talk about?").fill("Choosing a cardiology fellowship");
    await dialog.getByRole("button", { name: "Book this slot" }).click();
    await closedOrFailed(dialog);
    // The slot now has one seat left.
    await expect.poll(() => slot.textContent()).toContain("1 of 2 seats left");

    // In the mentee's meetings, accepted, at that time.
    await openNav(mentee.page, "Meetings");
    const booked = mentee.page.getByTestId("meeting").filter({ hasText: "Choosing a cardiology fellowship" });
    await shownOrFailed(booked, mentee.page.getByTestId("meetings"));
    expect(await booked.getByTestId("meeting-state").textContent()).toBe("Accepted");
    expect(await booked.textContent()).toContain("Office hours with Dr. Erik Lindqvist");
    expect(await booked.getByTestId("meeting-time").textContent()).toContain(label.split("–")[0]);

    // And in the mentor's.
    await openNav(mentor.page, "Meetings");
    const theirs = mentor.page.getByTestId("meeting").filter({ hasText: "Choosing a cardiology fellowship" });
    await shownOrFailed(theirs, mentor.page.getByTestId("meetings"));
    expect(await theirs.textContent()).toContain("Lucia Garcia");
    expect(await theirs.getByTestId("meeting-state").textContent()).toBe("Accepted");

    // A phone: the slots fit.
    const phone = await newContext(browser, PHONE);
    await signIn(phone.page, server.origin, "mentee.novak");
    await phone.page.goto(`${server.origin}/#/office-hours`);
    await phone.page.getByLabel("Mentor").selectOption({ label: "Dr. Erik Lindqvist" });
    await phone.page.getByTestId("slot").first().waitFor();
    await screenshot(phone.page, "32-phone-slots");
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    expect([...mentor.errors, ...mentee.errors, ...phone.errors]).toEqual([]);
    await Promise.all([mentor.context.close(), mentee.context.close(), phone.context.close()]);
  });

  it("drop-in queue: two mentees join and see their place live; the mentor calls the next, who is told at once; the other moves up; skip", async () => {
    const mentor = await newContext(browser);
    const garcia = await newContext(browser);
    const novak = await newContext(browser);
    await Promise.all([
      signIn(mentor.page, server.origin, "mentor.lindqvist"),
      signIn(garcia.page, server.origin, "mentee.garcia"),
      signIn(novak.page, server.origin, "mentee.novak"),
    ]);
    await openAllDay(mentor.page, 1);
    const panel = mentor.page.getByTestId("queue-panel");
    await panel.getByTestId("queue-empty").waitFor();

    for (const p of [garcia.page, novak.page]) {
      await p.goto(`${server.origin}/#/office-hours`);
      await p.getByLabel("Mentor").selectOption({ label: "Dr. Erik Lindqvist" });
      const q = p.getByTestId("mentee-queue");
      await q.getByRole("button", { name: "Join the line" }).click();
      await shownOrFailed(q.getByRole("button", { name: "Leave the line" }), q);
    }
    await expect.poll(() => garcia.page.getByTestId("queue-status").textContent()).toContain("You are next in line");
    await expect.poll(() => novak.page.getByTestId("queue-status").textContent()).toContain("You are number 2 in line");

    // The mentor's line, live, in order.
    await expect.poll(() => panel.getByTestId("queue-entry").allTextContents()).toEqual([
      expect.stringContaining("Lucia Garcia"),
      expect.stringContaining("Tomas Novak"),
    ]);
    await screenshot(mentor.page, "33-queue");

    await panel.getByRole("button", { name: "Call next" }).click();
    await shownOrFailed(panel.getByTestId("queue-called"), panel);
    expect(await panel.getByTestId("queue-called").textContent()).toContain("Lucia Garcia");
    // The called mentee is told at once; the other moves up.
    await expect.poll(() => garcia.page.getByTestId("queue-status").textContent()).toContain("called you");
    await expect.poll(() => novak.page.getByTestId("queue-status").textContent()).toContain("You are next in line");
    await expect.poll(() => panel.getByTestId("queue-entry").count()).toBe(1);

    await panel.getByRole("button", { name: "Skip Tomas Novak" }).click();
    await expect.poll(() => novak.page.getByTestId("queue-status").textContent()).toContain("skipped you");
    await panel.getByTestId("queue-empty").waitFor();

    expect([...mentor.errors, ...garcia.errors, ...novak.errors]).toEqual([]);
    await Promise.all([mentor.context.close(), garcia.context.close(), novak.context.close()]);
  });
});
