import { MarioError } from "./mario-error.ts";

/** Instructions that are not a JSON object, or not valid JSON. */
export class InvalidInstructionsError extends MarioError {
  override readonly name = "InvalidInstructionsError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_INSTRUCTIONS", message, options);
  }
}
