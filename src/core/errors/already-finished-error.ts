import { MarioError } from "./mario-error.ts";

/** A cancel asked of a job that is already finished (succeeded, dead or cancelled): nothing changed. */
export class AlreadyFinishedError extends MarioError {
  override readonly name = "AlreadyFinishedError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("ALREADY_FINISHED", message, options);
  }
}
