import { MarioError } from "./mario-error.ts";

/**
 * A job handed back more often than its step's `maxStalls` allows because its worker was lost or
 * stopped with it in flight (a job that takes its worker down every time): it goes dead.
 */
export class StalledError extends MarioError {
  override readonly name = "StalledError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("STALLED", message, options);
  }
}
