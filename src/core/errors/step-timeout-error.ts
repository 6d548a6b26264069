import { MarioError } from "./mario-error.ts";

/** A step attempt ran past its timeout. */
export class StepTimeoutError extends MarioError {
  override readonly name = "StepTimeoutError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("TIMEOUT", message, options);
  }
}
