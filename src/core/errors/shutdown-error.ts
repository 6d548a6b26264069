import { MarioError } from "./mario-error.ts";

/** The process is shutting down and takes no more work. */
export class ShutdownError extends MarioError {
  override readonly name = "ShutdownError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("SHUTDOWN", message, options);
  }
}
