import { ErrorCode, type Error as ErrorProto } from "./gen/preceptor/v1/errors_pb.js";

/**
 * A failed request. `code` is the server's (ErrorCode.NOT_FOUND, ...), or
 * CANCELLED / UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED for failures
 * the client decided itself; `message` is the server's sentence for a person.
 */
export class PreceptorError extends Error {
  readonly code: ErrorCode;
  /** The request field at fault, when the server named one. */
  readonly field: string;
  /** When to retry (RESOURCE_EXHAUSTED, UNAVAILABLE); 0 when not said. */
  readonly retryAfterMs: number;

  constructor(code: ErrorCode, message: string, field = "", retryAfterMs = 0) {
    super(message);
    this.name = "PreceptorError";
    this.code = code;
    this.field = field;
    this.retryAfterMs = retryAfterMs;
  }

  /** The code's name, e.g. "NOT_FOUND" (for logs). */
  get codeName(): string {
    return ErrorCode[this.code] ?? String(this.code);
  }

  /** From the server's Error. An unset code is still a failure: UNKNOWN. */
  static fromProto(e: ErrorProto): PreceptorError {
    const code = e.code === ErrorCode.UNSPECIFIED ? ErrorCode.UNKNOWN : e.code;
    return new PreceptorError(code, e.message, e.field, Number(e.retryAfterMs));
  }
}
