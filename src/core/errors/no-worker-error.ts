import { MarioError } from "./mario-error.ts";

/** A leased job found no worker with room: it goes back to its queue, the attempt not counted. */
export class NoWorkerError extends MarioError {
  override readonly name = "NoWorkerError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("NO_WORKER", message, options);
  }
}
