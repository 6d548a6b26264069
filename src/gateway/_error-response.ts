/**
 * The one mapping from thrown errors to HTTP answers `{error: {code, message}}`, used by the
 * gateway's `app.onError`. Branches on `instanceof` and `code`, never on message text.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { MarioError } from "../core/errors/mario-error.ts";
import type { Logger } from "../log/logger.ts";
import { HttpError } from "./http-error.ts";

/** HTTP status of each engine error code; codes not listed answer 500. */
const STATUS_BY_CODE: Readonly<Record<string, ContentfulStatusCode>> = {
  UNKNOWN_PIPELINE: 404,
  UNKNOWN_JOB_TYPE: 404,
  JOB_NOT_FOUND: 404,
  INVALID_INSTRUCTIONS: 400,
  BUSY: 503,
  STORAGE_UNAVAILABLE: 503,
  SHUTDOWN: 503,
  /** A pipeline server did not answer (down, restarting): try again later. */
  NO_ANSWER: 503,
  TIMEOUT: 504,
  PROTOCOL: 502,
};

export interface ErrorResponseOptions {
  /** Seconds a client should wait before retrying a 503. */
  retryAfterSeconds: number;
  logger: Logger;
}

export function errorResponse(error: unknown, c: Context, options: ErrorResponseOptions): Response {
  const { status, code, message } = classify(error);
  if (status === 503) c.header("Retry-After", String(options.retryAfterSeconds));
  if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="mario"');
  if (status >= 500 && status !== 503) {
    options.logger.error("request failed", { method: c.req.method, path: c.req.path, code, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
  return c.json({ error: { code, message } }, status);
}

function classify(error: unknown): { status: ContentfulStatusCode; code: string; message: string } {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof MarioError) return { status: STATUS_BY_CODE[error.code] ?? 500, code: error.code, message: error.message };
  if (error instanceof HTTPException) {
    const status = error.status;
    return { status, code: status === 413 ? "PAYLOAD_TOO_LARGE" : `HTTP_${status}`, message: error.message || `HTTP ${status}` };
  }
  return { status: 500, code: "INTERNAL", message: "internal error (see the gateway's log)" };
}
