import { MarioError } from "./mario-error.ts";

/** Instructions nested deeper than the limit (arrays and objects, 64 levels). */
export class TooDeepError extends MarioError {
  override readonly name = "TooDeepError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("TOO_DEEP", message, options);
  }
}
