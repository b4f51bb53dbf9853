// Shared by the goals and assignments tests: small PDFs, the server's own
// words for a refused upload, and opening a conversation.
import type { Page } from "playwright-core";
import { openNav } from "./flows.js";

/**
 * A small PDF (a page, a catalog, a trailer): the server decides the type from
 * the first bytes (%PDF-). `padTo` pads it with PDF comment lines to that many
 * bytes (several upload pieces), `label` makes versions differ.
 */
export function pdfBytes(label: string, padTo = 0): Buffer {
  const head =
    "%PDF-1.4\n" +
    "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
    "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
    "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n" +
    `% ${label}\n`;
  const tail = "trailer << /Root 1 0 R >>\n%%EOF\n";
  const body = Buffer.from(head, "latin1");
  const end = Buffer.from(tail, "latin1");
  const fill = Math.max(0, padTo - body.length - end.length);
  const line = "% padding of the test's larger version..........................................\n";
  const pad = Buffer.alloc(fill, line);
  return Buffer.concat([body, pad, end]);
}

/** Bytes that are surely not a document the server takes: a PNG image's signature and some data. */
export function pngBytes(): Buffer {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  const data = Buffer.alloc(400);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 0xff;
  return Buffer.concat([sig, data]);
}

/** The token of the session signed in on the page (the SDK keeps it in localStorage). */
export async function pageToken(page: Page): Promise<string> {
  return (await page.evaluate(() => localStorage.getItem("preceptor.token"))) ?? "";
}

/**
 * Uploads `bytes` over the HTTP protocol from Node, as `token`'s user, and
 * returns the server's answer to the upload's bytes: its status and sentence.
 * (What the page must show when it uploads the same file.)
 */
export async function uploadAnswer(
  origin: string,
  token: string,
  mentorshipId: bigint,
  name: string,
  bytes: Buffer,
): Promise<{ status: number; message: string }> {
  const auth = { Authorization: `Bearer ${token}` };
  const start = await fetch(`${origin}/v1/mentorships/${mentorshipId}/uploads`, {
    method: "POST",
    headers: { ...auth, "Upload-Length": String(bytes.length), "Upload-Name": encodeURIComponent(name) },
  });
  if (start.status !== 201) return { status: start.status, message: await messageOf(start) };
  const { upload_id } = (await start.json()) as { upload_id: string };
  const patch = await fetch(`${origin}/v1/uploads/${upload_id}`, {
    method: "PATCH",
    headers: { ...auth, "Upload-Offset": "0" },
    body: new Uint8Array(bytes),
  });
  const message = patch.ok ? "" : await messageOf(patch);
  if (patch.ok) await fetch(`${origin}/v1/uploads/${upload_id}`, { method: "DELETE", headers: auth });
  return { status: patch.status, message };
}

async function messageOf(r: Response): Promise<string> {
  const text = await r.text();
  try {
    return String((JSON.parse(text) as { message?: string }).message ?? text);
  } catch {
    return text;
  }
}

export async function openConversationWith(page: Page, name: string): Promise<void> {
  await openNav(page, "Mentorships");
  await page.getByTestId("conversation-row").filter({ hasText: name }).click();
  await page.getByTestId("conversation").waitFor();
}

/** Console errors other than the browser's own line for an HTTP error answer (a refused upload is one on purpose). */
export function realErrors(errors: string[]): string[] {
  return errors.filter((e) => !/Failed to load resource|net::ERR_FAILED/.test(e));
}
