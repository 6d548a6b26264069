/**
 * Memory storage per queued small job: enqueues `count` jobs of `{"i":1}` into a
 * MemoryStorageBackend with no workers, then reads the heap after a full GC and divides. Twice:
 * without an idempotency key, and with one as PipelineClient and the gateway send (a 21-character
 * key per job). Needs `--expose-gc`.
 *
 *   node --expose-gc --import tsx bench/queued-job-heap.ts 100000
 *   → prints "queued-job-heap {"plain":<bytes>,"keyed":<bytes>,"count":100000}"
 */
import { randomBytes } from "node:crypto";
import { MemoryStorageBackend } from "../src/storage/memory/memory-storage-backend.ts";

const count = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

async function bytesPerJob(keyed: boolean): Promise<{ bytes: number; storage: MemoryStorageBackend }> {
  const storage = new MemoryStorageBackend({ maxQueued: count + 1 });
  await storage.connect();
  await storage.initialize([{ name: "queued", steps: ["a"] }]);
  gc!();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i += 1000) {
    const requests = Array.from({ length: Math.min(1000, count - i) }, () => ({
      pipeline: "queued",
      route: ["a"],
      instructions: { i: 1 },
      ...(keyed ? { idempotencyKey: randomBytes(16).toString("base64url").slice(0, 21) } : {}),
    }));
    const outcomes = await storage.enqueueJobs(requests);
    if (outcomes.some((o) => o.status !== "created")) throw new Error("an enqueue was not created");
  }
  gc!();
  return { bytes: (process.memoryUsage().heapUsed - before) / count, storage };
}

const plain = await bytesPerJob(false);
const keyed = await bytesPerJob(true);
process.stdout.write(`queued-job-heap ${JSON.stringify({ plain: Math.round(plain.bytes), keyed: Math.round(keyed.bytes), count })}\n`);
await plain.storage.close();
await keyed.storage.close();
