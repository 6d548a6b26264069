import { MarioError } from "./mario-error.ts";

/** A request field that breaks its rule: an idempotency key, a job id, a query parameter. */
export class InvalidRequestError extends MarioError {
  override readonly name = "InvalidRequestError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_REQUEST", message, options);
  }
}
