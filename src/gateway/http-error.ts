/**
 * An error the gateway answers with a given HTTP status and a string `code` (bad request body,
 * unsupported content type, missing token…). Errors raised by the engine keep their own classes;
 * `_error-response.ts` maps both to `{error: {code, message}}` in one place.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { MarioError } from "../core/errors/mario-error.ts";

export class HttpError extends MarioError {
  override readonly name = "HttpError";
  readonly status: ContentfulStatusCode;

  constructor(status: ContentfulStatusCode, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}
