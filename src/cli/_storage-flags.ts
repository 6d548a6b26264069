/**
 * Storage flags shared by the commands that own storage (`mario pipeline`, `mario up`): how many
 * unfinished jobs a pipeline may hold before enqueue answers busy, and how many finished jobs are
 * kept, for how long.
 */
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FINISHED, DEFAULT_MAX_QUEUED, type StorageOptions } from "../storage/storage-backend.ts";
import { wholeNumberFlag } from "./_flags.ts";

export const storageFlags = {
  "max-queued": { type: "string", description: `unfinished jobs a pipeline holds before enqueue answers busy (default ${DEFAULT_MAX_QUEUED})` },
  "keep-finished": { type: "string", description: `finished jobs kept per pipeline (default ${DEFAULT_MAX_FINISHED})` },
  "keep-finished-ms": { type: "string", description: `finished jobs are forgotten after this many ms (default ${DEFAULT_MAX_AGE_MS}, 7 days)` },
} as const;

export function storageOptionsFrom(args: { "max-queued"?: string | undefined; "keep-finished"?: string | undefined; "keep-finished-ms"?: string | undefined }): StorageOptions {
  return {
    maxQueued: wholeNumberFlag(args["max-queued"], "--max-queued", 1),
    retention: {
      maxFinished: wholeNumberFlag(args["keep-finished"], "--keep-finished", 1),
      maxAgeMs: wholeNumberFlag(args["keep-finished-ms"], "--keep-finished-ms", 1),
    },
  };
}
