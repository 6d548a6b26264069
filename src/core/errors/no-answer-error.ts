import { MarioError } from "./mario-error.ts";

/** A request to a pipeline server got no answer in time (nothing listening, or unreachable). */
export class NoAnswerError extends MarioError {
  override readonly name = "NoAnswerError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("NO_ANSWER", message, options);
  }
}
