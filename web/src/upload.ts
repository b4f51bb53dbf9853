// Documents over HTTP (docs/protocol.md "Documents"): a resumable upload in
// pieces with fetch, and a download with the session's token. Both send
// `Authorization: Bearer <token>`, the token the SDK keeps in localStorage.

/** A document as the upload's last answer describes it (ids and sizes as bigint, like the SDK's). */
export interface UploadedDocument {
  id: bigint;
  name: string;
  size: bigint;
  contentType: string;
  sha256: string;
  createdMs: bigint;
}

/** Bytes per PATCH: a few MiB, so a dropped connection repeats little and progress moves. */
export const PIECE_BYTES = 4 * 1024 * 1024;
/** Attempts after a network failure or a 5xx before giving up (the user may resume later). */
const MAX_RETRIES = 5;
const RETRY_BASE_MS = 500;

export type UploadFailure = "too-large" | "type" | "quota" | "busy" | "network" | "refused";

/** A refusal or failure, with the words to show (the server's sentence where it gave one). */
export class UploadError extends Error {
  constructor(
    readonly kind: UploadFailure,
    message: string,
    readonly status = 0,
    /** The upload can be resumed (a network failure): Upload.run() again continues it. */
    readonly resumable = false,
  ) {
    super(message);
    this.name = "UploadError";
  }
}

export function sessionToken(): string {
  try {
    return localStorage.getItem("preceptor.token") ?? "";
  } catch {
    return ""; // Storage blocked: the server answers 401 and says so.
  }
}

function auth(): Record<string, string> {
  return { Authorization: `Bearer ${sessionToken()}` };
}

/** The sentence of an error body ({"code":…,"message":…}), or "". */
async function serverSentence(r: Response): Promise<string> {
  try {
    const text = await r.text();
    try {
      const j = JSON.parse(text) as { message?: unknown };
      if (typeof j.message === "string") return j.message;
    } catch {
      // Not JSON: the text itself, if short.
    }
    return text.length <= 300 ? text.trim() : "";
  } catch {
    return "";
  }
}

/** Clear words for a refused upload: what happened, then the server's own sentence. */
async function refusal(r: Response): Promise<UploadError> {
  const said = await serverSentence(r);
  const tail = said ? ` ${said}` : "";
  if (r.status === 415) {
    return new UploadError(
      "type",
      `This file is not one the server accepts (PDF, Word .docx, OpenDocument .odt, plain text or Markdown, judged by its content, not its name).${tail}`,
      r.status,
    );
  }
  const quota = /quota|space|storage/i.test(said) || r.status === 507;
  if (quota) return new UploadError("quota", `Your space for documents is full.${tail}`, r.status);
  if (r.status === 413) return new UploadError("too-large", `This file is too large to upload.${tail}`, r.status);
  if (r.status === 429) return new UploadError("busy", `Too many uploads at once; try again shortly.${tail}`, r.status);
  if (r.status === 401) return new UploadError("refused", `Your session has ended; sign in again.${tail}`, r.status);
  if (r.status === 404) return new UploadError("refused", `The server has no such upload or mentorship.${tail}`, r.status);
  return new UploadError("refused", said || `The server refused the upload (HTTP ${r.status}).`, r.status);
}

function parseDocument(j: unknown): UploadedDocument {
  const d = (j as { document?: Record<string, unknown> }).document ?? {};
  const big = (v: unknown) => BigInt(typeof v === "string" || typeof v === "number" ? v : 0);
  return {
    id: big(d.id),
    name: String(d.name ?? ""),
    size: big(d.size),
    contentType: String(d.content_type ?? ""),
    sha256: String(d.sha256 ?? ""),
    createdMs: big(d.created_ms),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One file's upload to a mentorship. run() starts it (POST), sends the bytes
 * in pieces (PATCH with the server's offset) and returns the document once the
 * last byte is durable. After a dropped connection it asks HEAD for the
 * server's offset and continues from there, a few times with backoff; when
 * that fails too it throws a `resumable` UploadError and run() may be called
 * again later to continue. `onProgress` gets the bytes the server has made
 * durable.
 */
export class Upload {
  uploadId = "";
  offset = 0;
  done: UploadedDocument | undefined;
  private cancelled = false;

  constructor(
    readonly mentorshipId: bigint,
    readonly file: Blob,
    readonly name: string,
    private readonly onProgress: (sent: number, total: number) => void = () => {},
    private readonly pieceBytes = PIECE_BYTES,
  ) {}

  get total(): number {
    return this.file.size;
  }

  async run(): Promise<UploadedDocument> {
    if (this.done) return this.done;
    this.cancelled = false;
    if (this.file.size === 0) throw new UploadError("refused", "The file is empty.");
    let failures = 0;
    let failedAt = -1; // the offset at the last failure: progress since starts the count again
    let resumed = this.uploadId !== ""; // run() again after a failure: ask the server where it is first
    for (;;) {
      if (this.cancelled) throw new UploadError("refused", "Upload cancelled.");
      try {
        if (!this.uploadId) await this.start();
        else if (failures > 0 || resumed) await this.askOffset();
        resumed = false;
        const doc = await this.sendRest();
        this.done = doc;
        return doc;
      } catch (err) {
        if (err instanceof UploadError && !err.resumable) throw err;
        failures = this.offset > failedAt && failedAt >= 0 ? 1 : failures + 1;
        failedAt = this.offset;
        if (failures > MAX_RETRIES) {
          throw new UploadError(
            "network",
            `The connection dropped and the upload stopped at ${percent(this.offset, this.total)}. Resume it when you are back online; what the server has is kept for a day.`,
            0,
            true,
          );
        }
        await sleep(RETRY_BASE_MS * 2 ** (failures - 1));
      }
    }
  }

  /** Stops after the piece in flight; `abandon` also tells the server to drop what it has. */
  cancel(): void {
    this.cancelled = true;
  }

  async abandon(): Promise<void> {
    this.cancel();
    if (!this.uploadId || this.done) return;
    try {
      await fetch(`/v1/uploads/${encodeURIComponent(this.uploadId)}`, { method: "DELETE", headers: auth() });
    } catch {
      // Offline: the server abandons it after a day by itself.
    }
  }

  private async start(): Promise<void> {
    const r = await this.request(`/v1/mentorships/${this.mentorshipId}/uploads`, {
      method: "POST",
      headers: {
        ...auth(),
        "Upload-Length": String(this.file.size),
        "Upload-Name": encodeURIComponent(this.name),
      },
    });
    if (r.status !== 201 && r.status !== 200) throw await this.failure(r);
    const j = (await r.json()) as { upload_id?: unknown; offset?: unknown };
    this.uploadId = String(j.upload_id ?? "");
    if (!this.uploadId) {
      const loc = r.headers.get("Location") ?? "";
      this.uploadId = loc.replace(/^.*\/uploads\//, "");
    }
    if (!this.uploadId) throw new UploadError("refused", "The server did not start the upload.");
    this.offset = Number(j.offset ?? 0) || 0;
    this.onProgress(this.offset, this.total);
  }

  private async askOffset(): Promise<void> {
    const r = await this.request(`/v1/uploads/${encodeURIComponent(this.uploadId)}`, { method: "HEAD", headers: auth() });
    if (r.status !== 200) throw await this.failure(r);
    this.setOffset(r);
  }

  private async sendRest(): Promise<UploadedDocument> {
    for (;;) {
      if (this.cancelled) throw new UploadError("refused", "Upload cancelled.");
      const end = Math.min(this.offset + this.pieceBytes, this.total);
      const r = await this.request(`/v1/uploads/${encodeURIComponent(this.uploadId)}`, {
        method: "PATCH",
        headers: {
          ...auth(),
          "Upload-Offset": String(this.offset),
        },
        body: this.file.slice(this.offset, end),
      });
      if (r.status === 201 || r.status === 200) {
        this.offset = this.total;
        this.onProgress(this.total, this.total);
        return parseDocument(await r.json());
      }
      if (r.status === 204) {
        this.setOffset(r);
        if (this.offset >= this.total) {
          // Every byte is in, yet no document came: ask again (the server finishes it).
          throw new UploadError("network", "The server has every byte but did not answer with the document.", 0, true);
        }
        continue;
      }
      if (r.status === 409) {
        // Not the server's offset: continue from the one it has.
        this.setOffset(r);
        continue;
      }
      throw await this.failure(r);
    }
  }

  private setOffset(r: Response): void {
    const v = Number(r.headers.get("Upload-Offset"));
    if (Number.isFinite(v) && v >= 0) this.offset = Math.min(v, this.total);
    this.onProgress(this.offset, this.total);
  }

  /** fetch, with a network failure as a resumable UploadError. */
  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, cache: "no-store" });
    } catch (err) {
      throw new UploadError("network", `The connection dropped (${String(err)}).`, 0, true);
    }
  }

  /** A 5xx (or 408) is worth retrying; anything else is the server's refusal. */
  private async failure(r: Response): Promise<UploadError> {
    if (r.status >= 500 || r.status === 408) {
      const said = await serverSentence(r);
      return new UploadError("network", said || `The server answered ${r.status}.`, r.status, true);
    }
    return refusal(r);
  }
}

function percent(n: number, total: number): string {
  return total > 0 ? `${Math.floor((n * 100) / total)}%` : "0%";
}

/** Downloads a document (GET /v1/documents/<id> with the token) and saves it under its name. */
export async function downloadDocument(id: bigint, name: string): Promise<void> {
  const r = await get(`/v1/documents/${id}`, "This document is not available to you, or no longer exists.");
  save(await r.blob(), name || `document-${id}`);
}

/**
 * Downloads the mentorship's portfolio (GET /v1/mentorships/<id>/portfolio.zip
 * with the token: the approved versions, reviews, goals and reassessments as
 * one .zip) under the name the server gives.
 */
export async function downloadPortfolio(mentorshipId: bigint): Promise<void> {
  const r = await get(
    `/v1/mentorships/${mentorshipId}/portfolio.zip`,
    "This mentorship's portfolio is not available to you.",
    "Several portfolios are being made right now; try again in a minute.",
  );
  save(await r.blob(), attachmentName(r.headers.get("Content-Disposition")) || `portfolio-${mentorshipId}.zip`);
}

async function get(url: string, notFound: string, busy?: string): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(url, { headers: auth(), cache: "no-store" });
  } catch {
    throw new Error("The download failed: the connection dropped.");
  }
  if (r.status === 404) throw new Error(notFound);
  if (r.status === 429 && busy) throw new Error(busy);
  if (!r.ok) {
    const said = await serverSentence(r);
    throw new Error(said || `The download failed (HTTP ${r.status}).`);
  }
  return r;
}

/** The file name of `Content-Disposition: attachment; filename="…"; filename*=UTF-8''…` (the UTF-8 one first). */
export function attachmentName(header: string | null): string {
  if (!header) return "";
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1]!.trim());
    } catch {
      // A broken encoding: the plain name below.
    }
  }
  const plain = /filename\s*=\s*"((?:[^"\\]|\\.)*)"|filename\s*=\s*([^;]+)/i.exec(header);
  return plain ? (plain[1] ?? plain[2] ?? "").replace(/\\(.)/g, "$1").trim() : "";
}

function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
