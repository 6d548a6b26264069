import { MarioError } from "./mario-error.ts";

/**
 * The store this process started on is gone: Redis was emptied (FLUSHALL, a restart without
 * persistence) or replaced, so its store epoch key is missing or different. Dispatching stops
 * and writes are refused until the process is restarted (`/ready` answers 503 with this reason).
 */
export class StorageLostError extends MarioError {
  override readonly name = "StorageLostError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("STORAGE_LOST", message, options);
  }
}
