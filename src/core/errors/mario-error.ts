/**
 * The base of every error Mario raises on purpose. Callers branch on `code` (one of the table in
 * ./error-codes.ts) or `instanceof`, never on the message text.
 */
import type { JobError } from "../job.ts";
import type { ErrorCode } from "./error-codes.ts";

export class MarioError extends Error {
  override readonly name: string = "MarioError";
  readonly code: ErrorCode;
  /** False when trying the same again cannot help (stored with a job's error). */
  readonly retryable: boolean | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options);
    this.code = code;
    this.retryable = options?.retryable;
  }

  /** The error as a job record stores it: name, code and message (no stack: the message says it). */
  toJobError(): JobError {
    return { name: this.name, code: this.code, message: this.message, ...(this.retryable === undefined ? {} : { retryable: this.retryable }) };
  }
}
