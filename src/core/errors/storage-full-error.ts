import { MarioError } from "./mario-error.ts";

/**
 * Storage refused a write for lack of memory (Redis `maxmemory` reached under `noeviction`).
 * Nothing was written: send again once memory is freed (HTTP 507 with `Retry-After`).
 */
export class StorageFullError extends MarioError {
  override readonly name = "StorageFullError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("STORAGE_FULL", message, options);
  }
}
