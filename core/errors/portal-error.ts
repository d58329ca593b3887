import type { ErrorCode } from "./error-codes.js";

/** An error with a stable code (see docs/errors.md) and optional structured details. */
export class PortalError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PortalError";
    this.code = code;
    this.details = details;
  }

  /** A plain object for the link and for logs. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Human-readable message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
