import { MarioError } from "./mario-error.ts";

/**
 * An attempt its worker lost through no fault of its own: the worker thread it shared with other
 * attempts was terminated for one of them (a hard timeout, an ignored cancel) or crashed because
 * of one. A worker reports it as the attempt's outcome; the dispatcher hands the job back to its
 * queue as a stall (counted in `stalls`, bounded by the step's `maxStalls`), never as an attempt.
 */
export class AttemptLostError extends MarioError {
  override readonly name = "AttemptLostError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("ATTEMPT_LOST", message, options);
  }
}
