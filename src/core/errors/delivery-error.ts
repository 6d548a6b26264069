import { MarioError } from "./mario-error.ts";

/**
 * Some deliveries did not reach their worker (a send timed out): those listed in `undelivered`
 * go back to the queue; the others were delivered and run.
 */
export class DeliveryError extends MarioError {
  override readonly name = "DeliveryError";
  readonly undelivered: readonly { jobId: string; token: string }[];

  constructor(message: string, undelivered: readonly { jobId: string; token: string }[], options?: { cause?: unknown }) {
    super("DELIVERY_FAILED", message, options);
    this.undelivered = undelivered;
  }
}
