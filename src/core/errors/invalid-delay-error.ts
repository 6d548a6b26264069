import { MarioError } from "./mario-error.ts";

/** A start delay or time that cannot be used: malformed, negative, in the past, past the maximum, or both a delay and a time. */
export class InvalidDelayError extends MarioError {
  override readonly name = "InvalidDelayError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_DELAY", message, options);
  }
}
