import { MarioError } from "./mario-error.ts";

/**
 * The job was cancelled (`POST /jobs/:id/cancel`, `client.cancel`, `Dispatcher.cancel`): what a
 * running attempt's `ctx.signal` aborts with, and the error a cancelled job keeps. Never retried.
 *
 * ```ts
 * export default async function (input, ctx) {
 *   ctx.signal.addEventListener("abort", () => console.log(ctx.signal.reason.code)); // "CANCELLED" (or "TIMEOUT", "SHUTDOWN")
 * }
 * ```
 */
export class CancelledError extends MarioError {
  override readonly name = "CancelledError";

  constructor(message = "the job was cancelled", options?: { cause?: unknown }) {
    super("CANCELLED", message, { ...options, retryable: false });
  }
}
