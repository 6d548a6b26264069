import { MarioError } from "./mario-error.ts";

/** A middle step returned something that cannot be the next step's instructions (or not JSON). Not retried. */
export class InvalidOutputError extends MarioError {
  override readonly name = "InvalidOutputError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_OUTPUT", message, { ...options, retryable: false });
  }
}
