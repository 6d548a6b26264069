/**
 * BullMQ worker for the benchmark, in its own process: a no-op processor.
 * argv: redisUrl queue concurrency [paused]. With "paused", it waits for SIGUSR2 before it runs.
 */
import { Worker } from "bullmq";

const [redisUrl = "", queueName = "bench", concurrency = "50", mode = ""] = process.argv.slice(2);
const url = new URL(redisUrl);
const worker = new Worker(queueName, async () => ({ ok: true }), {
  connection: { host: url.hostname, port: Number(url.port) },
  concurrency: Number(concurrency),
  autorun: mode !== "paused",
});
process.on("SIGUSR2", () => {
  worker.run().catch((error: unknown) => process.stderr.write(`worker failed: ${String(error)}\n`));
});
await worker.waitUntilReady();
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
