import { MarioError } from "./mario-error.ts";

/** An inbound message that is not Mario's protocol: wrong version, bad JSON, wrong shape or too large. */
export class ProtocolError extends MarioError {
  override readonly name = "ProtocolError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("PROTOCOL", message, options);
  }
}
