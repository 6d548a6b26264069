/**
 * The worker of the minimal Redis lease chain (see redis-chain.ts): leases up to `concurrency`
 * jobs with one Lua call (lease-2.lua), "runs" them (no-op) and acknowledges them with one Lua call
 * (ack-2.lua), in a loop; an empty lease waits 1 ms. Nothing else.
 *
 *   node --import tsx bench/baselines/redis-chain-worker.ts <redis url> <key prefix> <concurrency>
 */
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";

const [url = "", prefix = "chain", concurrency = "64"] = process.argv.slice(2);
const script = (name: string): string => readFileSync(new URL(name, import.meta.url), "utf8");
const redis = new Redis(url, { maxRetriesPerRequest: 1 });
redis.defineCommand("chainLease", { numberOfKeys: 2, lua: script("lease-2.lua") });
redis.defineCommand("chainAck", { numberOfKeys: 2, lua: script("ack-2.lua") });
const lease = (count: number): Promise<string[]> =>
  (redis as unknown as { chainLease(...args: (string | number)[]): Promise<string[]> }).chainLease(`${prefix}:queue`, `${prefix}:leased`, count, Date.now() + 30_000);
const ack = (jobs: string[]): Promise<number> => (redis as unknown as { chainAck(...args: string[]): Promise<number> }).chainAck(`${prefix}:leased`, `${prefix}:done`, ...jobs);

let running = true;
process.on("SIGTERM", () => {
  running = false;
});
await redis.ping();
process.stdout.write("chain worker ready\n");
while (running) {
  const jobs = await lease(Number(concurrency));
  if (jobs.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    continue;
  }
  await ack(jobs);
}
redis.disconnect();
process.exit(0);
