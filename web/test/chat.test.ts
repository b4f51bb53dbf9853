import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, WebSocketRoute } from "playwright-core";
import { countMessages, pairThroughUi, sendMessage } from "./flows.js";
import { PHONE, contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("chat between a mentee and a mentor", () => {
  it("request from the directory, accept, and chat live both ways", async () => {
    server = await startServer("live-chat");
    const a = await newContext(browser);
    const b = await newContext(browser);

    await a.page.goto(`${server.origin}/`);
    await a.page.getByRole("button", { name: "Sign in" }).waitFor();
    await screenshot(a.page, "01-sign-in");
    expect(await contrastFailures(a.page)).toEqual([]);
    // A wrong password shows the server's sentence.
    await a.page.getByLabel("Username").fill("mentee.chen");
    await a.page.getByLabel("Password").fill("not-the-password");
    await a.page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => a.page.getByTestId("signin-error").textContent()).toBe("Wrong username or password.");

    await signIn(a.page, server.origin, "mentee.chen");
    await signIn(b.page, server.origin, "mentor.raman");

    const hash = await pairThroughUi(a.page, b.page, "Dr. Priya Raman", {
      purpose: "Clinical skills",
      onDirectory: async () => {
        await screenshot(a.page, "03-directory");
        expect(await contrastFailures(a.page)).toEqual([]);
      },
    });

    await sendMessage(a.page, "Hello Dr. Raman, thank you for accepting!");
    await b.page.getByText("Hello Dr. Raman, thank you for accepting!").waitFor();
    await sendMessage(b.page, "Welcome, Wei. What would you like to work on first?");
    await a.page.getByText("Welcome, Wei. What would you like to work on first?").waitFor();
    // The mentor types: the mentee sees the indicator.
    await b.page.getByTestId("composer").pressSequentially("Also, ", { delay: 20 });
    await expect.poll(() => a.page.getByTestId("typing").textContent(), { timeout: 3000 }).toContain("is typing");
    await b.page.getByTestId("composer").fill("");
    await sendMessage(a.page, "Presenting patients on rounds, please.\nI get flustered.");

    // A check-in from the mentee.
    await a.page.getByRole("button", { name: "Check in" }).click();
    await a.page.getByLabel("Need help").check();
    await a.page.getByLabel("Note (optional)").fill("Night shifts this week");
    await a.page.getByRole("button", { name: "Send check-in" }).click();
    await b.page.getByText("Check-in: Need help").waitFor();

    // Edit and delete own messages; the other side sees both.
    const own = a.page.getByTestId("message").filter({ hasText: "thank you for accepting" });
    await own.getByRole("button", { name: "Edit message" }).click();
    await a.page.getByLabel("Edit message").fill("Hello Dr. Raman, thanks so much for accepting!");
    await a.page.getByLabel("Edit message").press("Enter");
    await b.page.getByText("Hello Dr. Raman, thanks so much for accepting!").waitFor();
    await b.page.getByTestId("message").filter({ hasText: "thanks so much" }).getByText("edited").waitFor();
    const reply = b.page.getByTestId("message").filter({ hasText: "Welcome, Wei" });
    await reply.getByRole("button", { name: "Delete message" }).click();
    await b.page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await a.page.getByText("Message deleted").waitFor();
    expect(await countMessages(a.page, "Welcome, Wei. What would you like to work on first?")).toBe(0);

    await screenshot(a.page, "04-conversation");
    expect(await contrastFailures(a.page)).toEqual([]);
    expect(await contrastFailures(b.page)).toEqual([]);
    await a.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Mentorships" }).click();
    await a.page.getByTestId("mentorship-list").waitFor();
    await screenshot(a.page, "02-mentorship-list");
    expect(await contrastFailures(a.page)).toEqual([]);

    // A message while the mentee looks at the list: the unread count goes up live.
    await sendMessage(b.page, "Are you free on Thursday?");
    const row = a.page.getByTestId("conversation-row").filter({ hasText: "Dr. Priya Raman" });
    await expect.poll(() => row.getByTestId("unread").textContent()).toBe("1 unread");
    await screenshot(a.page, "02-mentorship-list-unread");
    await row.click();
    await a.page.getByText("Are you free on Thursday?").waitFor();
    await a.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Mentorships" }).click();
    await expect.poll(() => row.getByTestId("unread").count()).toBe(0);
    // The server has the read marker too: a reload shows nothing unread.
    await new Promise((r) => setTimeout(r, 500));
    await a.page.reload();
    await row.waitFor();
    expect(await row.getByTestId("unread").count()).toBe(0);
    await screenshot(b.page, "02b-mentor-list");

    // The same conversation on a phone-sized screen (a second device of the mentee).
    const phone = await newContext(browser, PHONE);
    await signIn(phone.page, server.origin, "mentee.chen");
    await phone.page.goto(`${server.origin}/${hash}`);
    await phone.page.getByText("Presenting patients on rounds").waitFor();
    await screenshot(phone.page, "05-phone-conversation");
    expect(await contrastFailures(phone.page)).toEqual([]);
    const scroll = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    expect(scroll).toBeLessThanOrEqual(360);

    expect([...a.errors, ...b.errors, ...phone.errors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close(), phone.context.close()]);
  });

  it("a server crash mid-conversation: reconnecting, pending, then each message exactly once", async () => {
    server = await startServer("crash");
    const a = await newContext(browser);
    const b = await newContext(browser);
    await signIn(a.page, server.origin, "mentee.garcia");
    await signIn(b.page, server.origin, "mentor.lindqvist");
    await pairThroughUi(a.page, b.page, "Dr. Erik Lindqvist");

    await sendMessage(a.page, "before the crash (A)");
    await b.page.getByText("before the crash (A)").waitFor();
    await sendMessage(b.page, "before the crash (B)");
    await a.page.getByText("before the crash (B)").waitFor();

    await server.kill();
    for (const p of [a.page, b.page]) {
      await expect.poll(() => p.getByTestId("connection-banner").textContent(), { timeout: 15_000 }).toContain("Reconnecting…");
    }
    const fromA = ["offline one (A)", "offline two (A)", "offline three (A)"];
    const fromB = ["offline one (B)", "offline two (B)"];
    for (const t of fromA) await sendMessage(a.page, t);
    for (const t of fromB) await sendMessage(b.page, t);
    await expect.poll(() => a.page.getByTestId("pending-message").count()).toBe(fromA.length);
    await expect.poll(() => b.page.getByTestId("pending-message").count()).toBe(fromB.length);
    await expect.poll(() => a.page.getByTestId("pending-message").first().textContent()).toContain("Pending");
    await screenshot(a.page, "06-reconnecting-pending");

    await server.start();
    for (const p of [a.page, b.page]) {
      await expect.poll(() => p.getByTestId("connection-banner").count(), { timeout: 20_000 }).toBe(0);
      await expect.poll(() => p.getByTestId("pending-message").count(), { timeout: 20_000 }).toBe(0);
    }
    for (const t of fromA) await expect.poll(() => countMessages(b.page, t)).toBe(1);
    for (const t of fromB) await expect.poll(() => countMessages(a.page, t)).toBe(1);
    // And on the sender's own page, once each too.
    for (const t of fromA) expect(await countMessages(a.page, t)).toBe(1);
    for (const t of fromB) expect(await countMessages(b.page, t)).toBe(1);
    // Nothing arrives twice a little later either (late duplicates).
    await new Promise((r) => setTimeout(r, 500));
    expect(await b.page.getByTestId("message").count()).toBe(2 + fromA.length + fromB.length);
    expect(await a.page.getByTestId("message").count()).toBe(2 + fromA.length + fromB.length);

    await Promise.all([a.context.close(), b.context.close()]);
  });

  it("messages written while the link is down survive a reload and arrive once", async () => {
    server = await startServer("reload");
    const a = await newContext(browser);
    const b = await newContext(browser);
    // The mentee's WebSocket goes through a switch the test can open.
    let blocked = false;
    let current: WebSocketRoute | undefined;
    await a.context.routeWebSocket(/\/v1\/ws$/, (ws) => {
      if (blocked) {
        void ws.close({ code: 4000, reason: "blocked by the test" });
        return;
      }
      current = ws;
      ws.connectToServer();
    });
    await signIn(a.page, server.origin, "mentee.novak");
    await signIn(b.page, server.origin, "mentor.raman");
    const hash = await pairThroughUi(a.page, b.page, "Dr. Priya Raman");

    blocked = true;
    await current?.close({ code: 4000, reason: "dropped by the test" });
    await expect.poll(() => a.page.getByTestId("connection-banner").textContent()).toContain("Reconnecting…");
    const typed = ["written offline 1", "written offline 2"];
    for (const t of typed) await sendMessage(a.page, t);
    await expect.poll(() => a.page.getByTestId("pending-message").count()).toBe(2);

    await a.page.reload();
    await a.page.getByTestId("conversation").waitFor();
    expect(new URL(a.page.url()).hash).toBe(hash);
    await expect.poll(() => a.page.getByTestId("pending-message").count()).toBe(2);
    expect(await a.page.getByTestId("pending-message").allTextContents()).toEqual([
      expect.stringContaining(typed[0]!),
      expect.stringContaining(typed[1]!),
    ]);

    blocked = false;
    await expect.poll(() => a.page.getByTestId("pending-message").count(), { timeout: 20_000 }).toBe(0);
    for (const t of typed) {
      await expect.poll(() => countMessages(b.page, t)).toBe(1);
      expect(await countMessages(a.page, t)).toBe(1);
    }
    await Promise.all([a.context.close(), b.context.close()]);
  });
});
