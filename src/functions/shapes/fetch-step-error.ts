import { MarioError } from "../../core/errors/mario-error.ts";

/** A fetch-shaped step answered a non-2xx status: the attempt fails with the body as the message. */
export class FetchStepError extends MarioError {
  override readonly name = "FetchStepError";
  readonly status: number;

  constructor(status: number, body: string) {
    super("STEP_HTTP_ERROR", `step answered HTTP ${status}: ${body.slice(0, 2000)}`);
    this.status = status;
  }
}
