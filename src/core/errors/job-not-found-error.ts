import { MarioError } from "./mario-error.ts";

/** No job with that id is stored (never was, or it aged out of retention). */
export class JobNotFoundError extends MarioError {
  override readonly name = "JobNotFoundError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("JOB_NOT_FOUND", message, options);
  }
}
