import { MarioError } from "./mario-error.ts";

/** The job was not final within the time asked to wait for it. */
export class WaitTimeoutError extends MarioError {
  override readonly name = "WaitTimeoutError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("WAIT_TIMEOUT", message, options);
  }
}
