import { MarioError } from "../../core/errors/mario-error.ts";

/** HTTP statuses of a 4xx a retry can cure: 408 (timeout), 429 (too many requests). */
const RETRYABLE_CLIENT_STATUSES: readonly number[] = [408, 429];

/**
 * A fetch-shaped step answered a non-2xx status: the attempt fails with the body as the message.
 * A 4xx is the request's fault (the same request would fail the same way): not retryable, but
 * 408 and 429, which are retried like a 5xx.
 */
export class FetchStepError extends MarioError {
  override readonly name = "FetchStepError";
  readonly status: number;

  constructor(status: number, body: string) {
    super("STEP_HTTP_ERROR", `step answered HTTP ${status}: ${body.slice(0, 2000)}`, { retryable: status >= 500 || status < 400 || RETRYABLE_CLIENT_STATUSES.includes(status) });
    this.status = status;
  }
}
