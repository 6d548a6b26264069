/**
 * The one mapping from thrown errors to HTTP answers `{error: {code, message}}`, used by the
 * gateway's `app.onError`. Every code has its status in one map; anything not a MarioError is INTERNAL (its message stays in the log).
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_CODES, type ErrorCode } from "../core/errors/error-codes.ts";
import { asMarioError } from "../core/errors/error-from-code.ts";
import type { Logger } from "../log/logger.ts";

/** The HTTP status of every code of the table (a new code must be given one here). */
const STATUS_BY_CODE: Readonly<Record<ErrorCode, ContentfulStatusCode>> = {
  UNKNOWN_PIPELINE: 404,
  UNKNOWN_JOB_TYPE: 404,
  INVALID_INSTRUCTIONS: 400,
  TOO_DEEP: 400,
  INVALID_REQUEST: 400,
  INVALID_DELAY: 400,
  INVALID_PRIORITY: 400,
  JOB_NOT_FOUND: 404,
  ALREADY_FINISHED: 409,
  WAIT_TIMEOUT: 504,
  USAGE: 400,
  INVALID_CONFIG: 500,
  INVALID_JSON: 400,
  INVALID_UTF8: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_DEAD: 409,
  NOT_FINISHED: 409,
  NOT_READY: 503,
  BUSY: 503,
  STORAGE_UNAVAILABLE: 503,
  STORAGE_FULL: 507,
  /** The store was emptied or replaced under this process: it stopped dispatching. */
  STORAGE_LOST: 503,
  SHUTDOWN: 503,
  /** A pipeline server did not answer (down, restarting): try again later. */
  NO_ANSWER: 503,
  NO_WORKER: 503,
  TIMEOUT: 504,
  INVALID_OUTPUT: 500,
  LEASE_LOST: 500,
  ATTEMPT_LOST: 500,
  STALLED: 500,
  DELIVERY_FAILED: 502,
  HANDLER_CRASHED: 500,
  STEP_HTTP_ERROR: 502,
  NON_RETRYABLE: 500,
  CANCELLED: 409,
  PROTOCOL: 502,
  INTERNAL: 500,
};

export interface ErrorResponseOptions {
  /** Seconds a client should wait before retrying a 503. */
  retryAfterSeconds: number;
  logger: Logger;
}

export function errorResponse(error: unknown, c: Context, options: ErrorResponseOptions): Response {
  const { status, code, message } = classify(error);
  if (status === 503 || status === 507) c.header("Retry-After", String(options.retryAfterSeconds));
  if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="mario"');
  // NO_ANSWER to an enqueue: the key to send it again with, so a resend never doubles the job.
  const key = (error as { idempotencyKey?: unknown } | null)?.idempotencyKey;
  if (code === ERROR_CODES.NO_ANSWER && typeof key === "string") c.header("Idempotency-Key", key);
  if (status >= 500 && status !== 503 && status !== 507) {
    options.logger.error("request failed", { method: c.req.method, path: c.req.path, code, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
  return c.json({ error: { code, message } }, status);
}

function classify(error: unknown): { status: ContentfulStatusCode; code: ErrorCode; message: string } {
  if (error instanceof HTTPException) {
    // hono's own (a body read that failed): said with a code of the table.
    const code = error.status === 413 ? ERROR_CODES.PAYLOAD_TOO_LARGE : error.status < 500 ? ERROR_CODES.INVALID_REQUEST : ERROR_CODES.INTERNAL;
    return { status: STATUS_BY_CODE[code], code, message: error.message || `HTTP ${error.status}` };
  }
  const marioError = asMarioError(error);
  const message = marioError === error ? marioError.message : "internal error (see the gateway's log)";
  return { status: STATUS_BY_CODE[marioError.code], code: marioError.code, message };
}
