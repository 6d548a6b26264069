/**
 * `mario-pipelines/storage/redis`: the Redis storage backend (ioredis). Jobs, leases and metrics
 * survive every process and are shared by every server pointed at the same Redis.
 *
 * ```ts
 * import { Pipeline } from "mario-pipelines";
 * import { RedisStorageBackend } from "mario-pipelines/storage/redis";
 * class Example extends Pipeline {
 *   static override steps = [GenerateFile, RemoveFile];
 *   override initialize() { this.backend = new RedisStorageBackend(this.name, { redisUri: "redis://127.0.0.1:6379" }); }
 * }
 * ```
 */
export { RedisStorageBackend, type RedisStorageOptions } from "../storage/redis/redis-storage-backend.ts";
