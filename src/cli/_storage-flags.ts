/**
 * Storage flags shared by the commands that own storage (`mario pipeline`, `mario up`): how many
 * unfinished jobs a pipeline may hold before enqueue answers busy, and how many finished jobs are
 * kept, for how long.
 */
import type { Logger } from "../log/logger.ts";
import { MemoryStorageBackend } from "../storage/memory/memory-storage-backend.ts";
import { DEFAULT_COMMAND_TIMEOUT_MS } from "../storage/redis/defaults.ts";
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FINISHED, DEFAULT_MAX_QUEUED, type StorageBackend, type StorageOptions } from "../storage/storage-backend.ts";
import { wholeNumberFlag } from "./_flags.ts";

export const storageFlags = {
  "max-queued": { type: "string", description: `unfinished jobs a pipeline holds before enqueue answers busy (default ${DEFAULT_MAX_QUEUED})` },
  "keep-finished": { type: "string", description: `finished jobs kept per pipeline (default ${DEFAULT_MAX_FINISHED})` },
  "keep-finished-ms": { type: "string", description: `finished jobs are forgotten after this many ms (default ${DEFAULT_MAX_AGE_MS}, 7 days)` },
} as const;

type StorageArgs = { "max-queued"?: string | undefined; "keep-finished"?: string | undefined; "keep-finished-ms"?: string | undefined };

function storageOptionsFrom(args: StorageArgs): StorageOptions {
  return {
    maxQueued: wholeNumberFlag(args["max-queued"], "--max-queued", 1),
    retention: {
      maxFinished: wholeNumberFlag(args["keep-finished"], "--keep-finished", 1),
      maxAgeMs: wholeNumberFlag(args["keep-finished-ms"], "--keep-finished-ms", 1),
    },
  };
}

/** Redis flags of the commands that open Redis storage (`mario pipeline`, `mario up`, `mario gateway`). */
export const redisFlags = {
  "allow-redis-eviction": {
    type: "boolean",
    description: "run on a Redis whose maxmemory-policy evicts keys (refused by default: evicted jobs vanish)",
  },
  "redis-timeout-ms": {
    type: "string",
    description: `a Redis command without an answer after this many ms fails as STORAGE_UNAVAILABLE (default ${DEFAULT_COMMAND_TIMEOUT_MS}; 0: no limit)`,
  },
} as const;

type RedisArgs = { "allow-redis-eviction"?: boolean | undefined; "redis-timeout-ms"?: string | undefined };

export function redisOptionsFrom(args: RedisArgs, logger: Logger): { allowEviction: boolean; commandTimeoutMs: number | undefined; logger: Logger } {
  return {
    allowEviction: args["allow-redis-eviction"] === true,
    commandTimeoutMs: wholeNumberFlag(args["redis-timeout-ms"], "--redis-timeout-ms"),
    logger,
  };
}

/**
 * The storage of a command that owns it: Redis at `redisUri` (keys under `namespace`) with the
 * flags' options, else `fallback` (a class-DSL pipeline's own backend keeps its own) or memory.
 */
export async function storageFrom(args: StorageArgs & RedisArgs, logger: Logger, redisUri: string | undefined, namespace: string, fallback?: StorageBackend): Promise<StorageBackend> {
  const options = { ...storageOptionsFrom(args), ...redisOptionsFrom(args, logger) };
  if (redisUri === undefined) return fallback ?? new MemoryStorageBackend(options);
  const { RedisStorageBackend } = await import("../storage/redis/redis-storage-backend.ts");
  return new RedisStorageBackend(namespace, { redisUri, ...options });
}
