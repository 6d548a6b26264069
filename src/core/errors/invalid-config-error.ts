import { MarioError } from "./mario-error.ts";

/** A pipeline, step or configuration file that cannot be used as written. */
export class InvalidConfigError extends MarioError {
  override readonly name: string = "InvalidConfigError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_CONFIG", message, options);
  }
}
