import { MarioError } from "../core/errors/mario-error.ts";

/** An error a pipeline server answered with; `code` is the server's (UNKNOWN_PIPELINE, BUSY, …). */
export class RemoteError extends MarioError {
  override readonly name = "RemoteError";

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
