/**
 * An error only the gateway raises (a body that is not JSON, an unsupported content type, a
 * missing token…), with a code of the table. Its HTTP status comes from the one status map in
 * `_error-response.ts`, like every other code's.
 */
import type { ErrorCode } from "../core/errors/error-codes.ts";
import { MarioError } from "../core/errors/mario-error.ts";

export class HttpError extends MarioError {
  override readonly name = "HttpError";

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
