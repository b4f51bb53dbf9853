// The web app's upload (src/upload.ts) against a small in-memory stand-in for
// the server's HTTP protocol (docs/protocol.md "Documents"), so the cases a
// real server seldom shows on loopback are exercised: a connection cut in the
// middle of a piece after part of it was made durable, an offset the server
// does not have (409), a refused type (415), a full quota. The browser tests
// (assignments.test.ts) run the same code against the real server.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Upload, UploadError, attachmentName } from "../src/upload.js";

interface FakeServer {
  bytes: number[];
  total: number;
  calls: string[];
  /** Before a PATCH is applied: may keep only part of the piece and drop the connection. */
  onPatch?: (offset: number, piece: Uint8Array) => "ok" | { keep: number } | Response;
}

function fakeServer(server: FakeServer): void {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    const method = init.method ?? "GET";
    const headers = init.headers as Record<string, string>;
    server.calls.push(`${method} ${url}${headers["Upload-Offset"] !== undefined ? ` @${headers["Upload-Offset"]}` : ""}`);
    if (method === "POST") {
      server.total = Number(headers["Upload-Length"]);
      expect(decodeURIComponent(headers["Upload-Name"]!)).toBe("Lebenslauf – Chen.pdf");
      expect(headers.Authorization).toMatch(/^Bearer /);
      return json(201, { upload_id: "77", offset: 0, expires_ms: 1 }, { Location: "/v1/uploads/77" });
    }
    expect(url).toBe("/v1/uploads/77");
    if (method === "HEAD") {
      return new Response(null, { status: 200, headers: { "Upload-Offset": String(server.bytes.length), "Upload-Length": String(server.total) } });
    }
    if (method === "PATCH") {
      const offset = Number(headers["Upload-Offset"]);
      if (offset !== server.bytes.length) {
        return json(409, { code: "ALREADY_EXISTS", message: "Not the server's offset." }, { "Upload-Offset": String(server.bytes.length) });
      }
      const piece = new Uint8Array(await (init.body as Blob).arrayBuffer());
      const what = server.onPatch?.(offset, piece) ?? "ok";
      if (what instanceof Response) return what;
      if (what !== "ok") {
        server.bytes.push(...piece.slice(0, what.keep));
        throw new TypeError("Failed to fetch"); // the connection dropped mid-body
      }
      server.bytes.push(...piece);
      if (server.bytes.length < server.total) return new Response(null, { status: 204, headers: { "Upload-Offset": String(server.bytes.length) } });
      return json(201, {
        document: { id: "9001", name: "Lebenslauf – Chen.pdf", size: server.total, content_type: "application/pdf", sha256: "ab".repeat(32), created_ms: 5 },
      });
    }
    if (method === "DELETE") return new Response(null, { status: 204 });
    throw new Error(`unexpected ${method}`);
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function file(n: number): Blob {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return new Blob([b]);
}

describe("upload", () => {
  it("sends the file in pieces and returns the document; progress only grows and ends at the size", async () => {
    const server: FakeServer = { bytes: [], total: 0, calls: [] };
    fakeServer(server);
    const f = file(2500);
    const seen: number[] = [];
    const doc = await new Upload(3n, f, "Lebenslauf – Chen.pdf", (sent) => seen.push(sent), 1000).run();
    expect(doc).toMatchObject({ id: 9001n, size: 2500n, contentType: "application/pdf" });
    expect(Buffer.from(server.bytes)).toEqual(Buffer.from(await f.arrayBuffer()));
    expect(server.calls).toEqual([
      "POST /v1/mentorships/3/uploads",
      "PATCH /v1/uploads/77 @0",
      "PATCH /v1/uploads/77 @1000",
      "PATCH /v1/uploads/77 @2000",
    ]);
    expect(seen).toEqual([0, 1000, 2000, 2500]);
  });

  it("after a connection cut in the middle of a piece, asks HEAD and continues from the server's offset", async () => {
    let cuts = 0;
    const server: FakeServer = {
      bytes: [],
      total: 0,
      calls: [],
      onPatch: (offset) => (offset === 1000 && cuts++ === 0 ? { keep: 400 } : "ok"),
    };
    fakeServer(server);
    const f = file(2500);
    const seen: number[] = [];
    const doc = await new Upload(3n, f, "Lebenslauf – Chen.pdf", (sent) => seen.push(sent), 1000).run();
    expect(doc.id).toBe(9001n);
    expect(Buffer.from(server.bytes)).toEqual(Buffer.from(await f.arrayBuffer()));
    expect(server.calls).toEqual([
      "POST /v1/mentorships/3/uploads",
      "PATCH /v1/uploads/77 @0",
      "PATCH /v1/uploads/77 @1000", // cut after 400 bytes were made durable
      "HEAD /v1/uploads/77",
      "PATCH /v1/uploads/77 @1400",
      "PATCH /v1/uploads/77 @2400",
    ]);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it("a 409 continues from the offset the server gives", async () => {
    let first = true;
    const server: FakeServer = {
      bytes: [],
      total: 0,
      calls: [],
      onPatch: (_offset, piece) => {
        if (!first) return "ok";
        first = false;
        // The server already has 600 bytes the page never heard of (an answer lost earlier).
        server.bytes.push(...piece.slice(0, 600));
        return new Response(null, { status: 409, headers: { "Upload-Offset": "600" } });
      },
    };
    fakeServer(server);
    const f = file(2500);
    const doc = await new Upload(3n, f, "Lebenslauf – Chen.pdf", () => {}, 1000).run();
    expect(doc.id).toBe(9001n);
    expect(Buffer.from(server.bytes)).toEqual(Buffer.from(await f.arrayBuffer()));
    expect(server.calls.slice(1)).toEqual(["PATCH /v1/uploads/77 @0", "PATCH /v1/uploads/77 @600", "PATCH /v1/uploads/77 @1600"]);
  });

  it("gives up after a few failures with a resumable error, and run() again resumes from HEAD's offset", async () => {
    const server: FakeServer = { bytes: [], total: 0, calls: [] };
    fakeServer(server);
    server.onPatch = (offset) => (offset === 1000 ? new Response(null, { status: 503 }) : "ok");
    const up = new Upload(3n, file(1500), "Lebenslauf – Chen.pdf", () => {}, 1000);
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const failed = up.run().catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const err = (await failed) as UploadError;
    vi.useRealTimers();
    expect(err).toBeInstanceOf(UploadError);
    expect(err.resumable).toBe(true);
    expect(err.message).toMatch(/^The connection dropped and the upload stopped at 66%/);
    expect(server.calls.filter((c) => c === "PATCH /v1/uploads/77 @1000")).toHaveLength(6); // the first try and 5 more
    server.onPatch = undefined;
    server.calls.length = 0;
    const doc = await up.run();
    expect(doc.id).toBe(9001n);
    expect(server.calls).toEqual(["HEAD /v1/uploads/77", "PATCH /v1/uploads/77 @1000"]);
    expect(server.bytes.length).toBe(1500);
  });

  it("a refused type, a file too large and a full quota are said in words, with the server's sentence", async () => {
    const refuse = async (status: number, message: string) => {
      const server: FakeServer = { bytes: [], total: 0, calls: [], onPatch: () => new Response(JSON.stringify({ code: "X", message }), { status }) };
      fakeServer(server);
      return new Upload(3n, file(10), "Lebenslauf – Chen.pdf").run().then(
        (): UploadError => {
          throw new Error("not refused");
        },
        (e: unknown) => e as UploadError,
      );
    };
    const type = await refuse(415, "The content is an image (image/png); accepted: PDF, DOCX, ODT, plain text, Markdown.");
    expect(type.kind).toBe("type");
    expect(type.resumable).toBe(false);
    expect(type.message).toBe(
      "This file is not one the server accepts (PDF, Word .docx, OpenDocument .odt, plain text or Markdown, judged by its content, not its name). " +
        "The content is an image (image/png); accepted: PDF, DOCX, ODT, plain text, Markdown.",
    );
    const big = await refuse(413, "The upload is 30000000 bytes; at most 26214400 are accepted.");
    expect(big.kind).toBe("too-large");
    expect(big.message).toBe("This file is too large to upload. The upload is 30000000 bytes; at most 26214400 are accepted.");
    const quota = await refuse(413, "This would pass your quota of 256 MiB for documents.");
    expect(quota.kind).toBe("quota");
    expect(quota.message).toMatch(/^Your space for documents is full\. This would pass your quota/);
  });

  it("reads the name of a Content-Disposition header", () => {
    expect(attachmentName('attachment; filename="portfolio-12-wei-chen.zip"')).toBe("portfolio-12-wei-chen.zip");
    expect(attachmentName("attachment; filename=\"p.zip\"; filename*=UTF-8''portf%C3%B6lio.zip")).toBe("portfölio.zip");
    expect(attachmentName("attachment; filename=plain.zip")).toBe("plain.zip");
    expect(attachmentName(null)).toBe("");
  });
});
