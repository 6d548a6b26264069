import { MarioError } from "./mario-error.ts";

/** A job's lease expired or its worker was lost before the attempt was acknowledged. */
export class LeaseLostError extends MarioError {
  override readonly name = "LeaseLostError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("LEASE_LOST", message, options);
  }
}
