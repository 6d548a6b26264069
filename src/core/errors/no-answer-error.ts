import { MarioError } from "./mario-error.ts";

/**
 * A request to a pipeline server got no answer in time (nothing listening, unreachable, a cut
 * link, a server stalled). NO_ANSWER does not mean "not taken": the request may have reached the
 * server, which may store it later. An enqueue always carries an idempotency key (the client
 * makes one when the caller gives none), given here as `idempotencyKey`: send the request again
 * with it, and the server answers the job it took, if it took one, instead of making a second.
 */
export class NoAnswerError extends MarioError {
  override readonly name = "NoAnswerError";
  /** The enqueue's idempotency key: resend with it (never doubles the job). Undefined for other requests. */
  readonly idempotencyKey: string | undefined;

  constructor(message: string, options?: { cause?: unknown; idempotencyKey?: string | undefined }) {
    super("NO_ANSWER", message, options);
    this.idempotencyKey = options?.idempotencyKey;
  }
}
