/**
 * Baseline: a bare Hono server (@hono/node-server, as the gateway uses) whose POST route does the
 * same storage enqueue as the gateway (one `enqueueJob` on MemoryStorageBackend or
 * RedisStorageBackend) and answers 202 `{id, pipeline, status}`; and a `?wait` route that calls the
 * no-op function file in process and answers its output. Nothing else: no auth, no body limit,
 * no validation beyond `c.req.json()`.
 *
 *   node --import tsx bench/baselines/hono-enqueue.ts '{"redisUrl":"redis://127.0.0.1:6379"}'
 *   → prints "hono baseline ready http://127.0.0.1:<port>/"
 *
 * Routes: POST /pipelines/noop/jobs (enqueue), POST /run/noop (the function in process).
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { RedisStorageBackend } from "../../src/storage/redis/redis-storage-backend.ts";
import type { StorageBackend } from "../../src/storage/storage-backend.ts";
import noop from "../functions/noop.ts";

const options = JSON.parse(process.argv[2] ?? "{}") as { redisUrl?: string };
const pipeline = { name: "noop", steps: ["noop"] };
const storage: StorageBackend =
  options.redisUrl === undefined ? new MemoryStorageBackend({ maxQueued: 10_000_000 }) : new RedisStorageBackend(`hono-${process.pid}`, { redisUri: options.redisUrl, maxQueued: 10_000_000 });
await storage.connect();
await storage.initialize([pipeline]);

const app = new Hono();
app.post("/pipelines/noop/jobs", async (c) => {
  const instructions = await c.req.json<Record<string, unknown>>();
  const outcome = await storage.enqueueJob({ pipeline: pipeline.name, route: pipeline.steps, instructions });
  if (outcome.status === "busy") return c.json({ error: "busy" }, 503);
  return c.json({ id: outcome.job.id, pipeline: pipeline.name, status: outcome.job.status }, 202);
});
app.post("/run/noop", async (c) => c.json(noop(await c.req.json<Record<string, unknown>>())));

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  process.stdout.write(`hono baseline ready http://127.0.0.1:${info.port}/\n`);
});
process.on("SIGTERM", () => {
  server.close(() => void storage.close().then(() => process.exit(0)));
});
