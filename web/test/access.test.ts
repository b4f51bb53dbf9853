import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { pairThroughUi, sendMessage } from "./flows.js";
import { launchBrowser, newContext, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("access");
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("who may open a conversation", () => {
  it("a stranger who opens the pair's conversation URL sees 'not found', never the messages", async () => {
    const a = await newContext(browser);
    const b = await newContext(browser);
    await signIn(a.page, server.origin, "mentee.chen");
    await signIn(b.page, server.origin, "mentor.raman");
    const hash = await pairThroughUi(a.page, b.page, "Dr. Priya Raman");
    const secret = "Private: my exam results were disappointing";
    await sendMessage(a.page, secret);
    await b.page.getByText(secret).waitFor();

    const stranger = await newContext(browser);
    await signIn(stranger.page, server.origin, "mentee.novak");
    await stranger.page.goto(`${server.origin}/${hash}`);
    const notFound = stranger.page.getByTestId("conversation-not-found");
    await notFound.waitFor();
    expect(await notFound.textContent()).toContain("Conversation not found");
    expect(await stranger.page.getByTestId("message").count()).toBe(0);
    expect(await stranger.page.content()).not.toContain("exam results");
    // Nor does the stranger's list name the pair.
    expect(await stranger.page.getByTestId("conversation-row").count()).toBe(0);

    // A made-up id answers the same way (an id reveals nothing).
    await stranger.page.goto(`${server.origin}/#/c/999999`);
    await stranger.page.getByTestId("conversation-not-found").waitFor();

    await Promise.all([a.context.close(), b.context.close(), stranger.context.close()]);
  });

  it("a saved session opens the main screen at once; offline shows; sign out returns to sign-in", async () => {
    const a = await newContext(browser);
    await signIn(a.page, server.origin, "mentee.garcia");
    await a.page.goto(`${server.origin}/`);
    // The first paint after a reload is the main screen, never the sign-in form.
    await a.page.reload();
    await a.page.getByRole("button", { name: "Sign out" }).waitFor();
    expect(await a.page.getByLabel("Password").count()).toBe(0);
    await expect.poll(() => a.page.getByTestId("connection-pill").textContent()).toBe("Online");

    // The browser loses the network: "Offline", and back.
    await a.context.setOffline(true);
    await expect.poll(() => a.page.getByTestId("connection-banner").textContent()).toContain("Offline");
    await a.context.setOffline(false);
    await expect.poll(() => a.page.getByTestId("connection-banner").count()).toBe(0);
    // (Chromium may log a reconnect attempt that raced the offline event.)
    expect(a.errors.filter((e) => !/WebSocket connection to .* failed/.test(e))).toEqual([]);

    await a.page.getByRole("button", { name: "Sign out" }).click();
    await a.page.getByLabel("Password").waitFor();
    expect(await a.page.evaluate(() => localStorage.getItem("preceptor.token"))).toBeNull();
    await a.page.reload();
    await a.page.getByLabel("Password").waitFor();
    await a.context.close();
  });
});
