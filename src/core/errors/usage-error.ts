import { MarioError } from "./mario-error.ts";

/** A command line that cannot be run as written: one line for the user, exit code 2. */
export class UsageError extends MarioError {
  override readonly name = "UsageError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("USAGE", message, options);
  }
}
