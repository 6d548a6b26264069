import { MarioError } from "./mario-error.ts";

/** The pipeline's buffer is full: try again later. */
export class BusyError extends MarioError {
  override readonly name = "BusyError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("BUSY", message, options);
  }
}
