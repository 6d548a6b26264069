import { MarioError } from "./mario-error.ts";

/** The storage backend cannot be reached right now; nothing was written. */
export class StorageUnavailableError extends MarioError {
  override readonly name = "StorageUnavailableError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("STORAGE_UNAVAILABLE", message, options);
  }
}
