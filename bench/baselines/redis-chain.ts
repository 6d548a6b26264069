/**
 * Baseline: the minimal Redis lease chain. The producer (this process) RPUSHes the same small
 * no-op jobs in batches of 1000 (a few batches in flight), a worker process leases them with one
 * batched Lua call and acknowledges them with another (redis-chain-worker.ts); the clock stops when
 * the done counter reaches the count (polled every 10 ms, bounded).
 */
import { Redis } from "ioredis";
import { spawnReady, stopChild } from "../_children.ts";
import { CpuMeter, cpuMs, ownCpuMs, peakRssMb, redisCpuMs, type RunFigures } from "../_stats.ts";

export async function benchRedisChain(options: { redisUrl: string; jobs: number; concurrency: number }): Promise<RunFigures> {
  const prefix = `chain-${Date.now().toString(36)}`;
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const worker = await spawnReady("bench/baselines/redis-chain-worker.ts", [options.redisUrl, prefix, String(options.concurrency)], { readyPattern: /chain worker ready/ });
  try {
    const meter = new CpuMeter([["producer", ownCpuMs], ["worker", () => cpuMs(worker.pid)], ["redis-server", () => redisCpuMs(options.redisUrl)]]);
    await meter.start();
    const started = performance.now();
    const batches: Promise<number>[] = [];
    for (let i = 0; i < options.jobs; i += 1000) {
      const count = Math.min(1000, options.jobs - i);
      batches.push(redis.rpush(`${prefix}:queue`, ...Array.from({ length: count }, (_, k) => JSON.stringify({ id: i + k, i: i + k }))));
      if (batches.length >= 4) await batches.shift();
    }
    await Promise.all(batches);
    const deadline = Date.now() + 300_000;
    while (Number((await redis.get(`${prefix}:done`)) ?? 0) < options.jobs) {
      if (Date.now() > deadline) throw new Error("the Redis lease chain did not finish in 5 minutes");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      name: "baseline: minimal Redis lease chain (1 step)",
      jobs: options.jobs,
      seconds,
      jobsPerSecond: options.jobs / seconds,
      loadP50Ms: Number.NaN,
      loadP99Ms: Number.NaN,
      idleP50Ms: Number.NaN,
      idleP99Ms: Number.NaN,
      peakRssMb: { worker: await peakRssMb(worker.pid) },
      cpuUsPerJob: await meter.stop(options.jobs),
    };
  } finally {
    await stopChild(worker);
    await redis.del(`${prefix}:queue`, `${prefix}:leased`, `${prefix}:done`).catch(() => 0);
    redis.disconnect();
  }
}
