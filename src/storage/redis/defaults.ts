/** Redis defaults the command line names in its help, kept apart from the driver (no ioredis import). */

/** A Redis command without an answer after this many ms fails as STORAGE_UNAVAILABLE. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
