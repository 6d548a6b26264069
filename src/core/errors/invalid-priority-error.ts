import { MarioError } from "./mario-error.ts";

/** A priority that is not a whole number from 0 to 9. */
export class InvalidPriorityError extends MarioError {
  override readonly name = "InvalidPriorityError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_PRIORITY", message, options);
  }
}
