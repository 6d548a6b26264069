/** BullMQ worker for the benchmark, in its own process: a no-op processor. argv: redisUrl queue concurrency */
import { Worker } from "bullmq";

const [redisUrl = "", queueName = "bench", concurrency = "50"] = process.argv.slice(2);
const url = new URL(redisUrl);
const worker = new Worker(queueName, async () => ({ ok: true }), {
  connection: { host: url.hostname, port: Number(url.port) },
  concurrency: Number(concurrency),
});
await worker.waitUntilReady();
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
