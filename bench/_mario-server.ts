/**
 * The benchmark's pipeline server: a PipelineServer in its own process (forked with IPC), so the
 * bench can learn the exact moment the last job of a run finished. Storage: memory, or Redis when
 * `redisUrl` is given.
 *
 * argv: JSON `{ pipeline, steps, redisUrl?, maxQueued? }`. IPC out: `{ type: "ready", sub, pull }`, then for
 * each `{ type: "track", count }` received, `{ type: "tracking" }` at once and
 * `{ type: "done", finished: [jobId, epochMs][], serverBusy }` (BUSY answers since `track`) once
 * `count` more jobs have finished. For the dispatch-only figure: `pause` (→ `paused`), `preload`
 * `count` jobs straight into storage (→ `preloaded`), `resume` (→ `resumed`).
 */
import { MemoryStorageBackend } from "../src/storage/memory/memory-storage-backend.ts";
import { RedisStorageBackend } from "../src/storage/redis/redis-storage-backend.ts";
import type { StorageBackend } from "../src/storage/storage-backend.ts";
import { PipelineServer } from "../src/transport/pipeline-server.ts";

interface Options {
  pipeline: string;
  steps: string[];
  redisUrl?: string;
  /** Unfinished jobs the pipeline holds before enqueue answers BUSY (storage's default otherwise). */
  maxQueued?: number;
}

const options = JSON.parse(process.argv[2] ?? "{}") as Options;
const limit = options.maxQueued === undefined ? {} : { maxQueued: options.maxQueued };
const storage: StorageBackend =
  options.redisUrl === undefined ? new MemoryStorageBackend(limit) : new RedisStorageBackend(options.pipeline, { redisUri: options.redisUrl, ...limit });
const server = new PipelineServer({
  pipelines: [{ name: options.pipeline, steps: options.steps }],
  storage,
  subBind: "tcp://127.0.0.1:0",
  jobPullBind: "tcp://127.0.0.1:0",
});

let target = Number.POSITIVE_INFINITY;
let finished: [string, number][] = [];
let busyBefore = 0;
server.dispatcher.events.on("job:finished", (event) => {
  finished.push([event.jobId, Date.now()]);
  if (finished.length >= target) {
    process.send?.({ type: "done", finished, serverBusy: server.intakeCounts.busy - busyBefore });
    finished = [];
    target = Number.POSITIVE_INFINITY;
  }
});

process.on("message", (message: { type: string; count?: number }) => {
  if (message.type === "track") {
    finished = [];
    busyBefore = server.intakeCounts.busy;
    target = message.count ?? 0;
    process.send?.({ type: "tracking" });
  } else if (message.type === "pause") {
    void server.dispatcher.pause().then(() => process.send?.({ type: "paused" }));
  } else if (message.type === "preload") {
    void preload(message.count ?? 0).then(() => process.send?.({ type: "preloaded" }));
  } else if (message.type === "resume") {
    void server.dispatcher.start().then(() => process.send?.({ type: "resumed" }));
  }
});

/** Puts `count` jobs straight into storage (no client): for the dispatch-only figure. */
async function preload(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const requests = Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ pipeline: options.pipeline, route: options.steps, instructions: { i: i + k } }));
    await storage.enqueueJobs(requests);
  }
}
process.on("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});

await server.start();
process.send?.({ type: "ready", sub: server.subAddress, pull: server.jobPullAddress });
