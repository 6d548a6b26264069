/**
 * `npm run bench`: Mario end to end (1-step and 3-step no-op pipelines, memory and Redis storage)
 * against BullMQ doing the same 1-step work on the same redis-server, in one run.
 *
 *   npm run bench
 *   BENCH_JOBS=50000 BENCH_CONCURRENCY=128 npm run bench
 *   BENCH_ONLY=redis-1,bullmq npm run bench        # a subset: memory-1 memory-3 redis-1 redis-3 bullmq
 *                                                    drain-memory drain-redis drain-bullmq
 *
 * "drain-*" (on by default) add figures that are NOT end to end: the jobs are already stored (Mario:
 * put into storage while dispatching is paused; BullMQ: added before the worker runs), the clock
 * runs from "go" to the last completion. They show the engine without the producer and intake.
 *   BENCH_CPU_PROF=/tmp/prof npm run bench          # --cpu-prof in every child process
 *
 * Settings (env): BENCH_JOBS jobs per run (default 20 000), BENCH_IDLE_JOBS jobs measured one at a
 * time (default 200), BENCH_CONCURRENCY jobs at once per worker, Mario and BullMQ alike (default
 * 64), BENCH_WINDOW enqueue requests the Mario producer keeps outstanding (default 1000),
 * BENCH_REPEAT runs of each kind, interleaved (default 1; ratios use the median of each kind),
 * REDIS_SERVER the redis-server binary (default /usr/bin/redis-server; started here on a free
 * port with appendonly on, as in production).
 *
 * Prints a table and writes the figures to bench/results/<timestamp>.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { startRedis } from "../test/support/redis-server.ts";
import { benchBullmq } from "./bullmq.ts";
import { benchMario } from "./mario.ts";
import { round, type RunFigures } from "./_stats.ts";

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return Math.trunc(value);
};
const jobs = env("BENCH_JOBS", 20_000);
const idleJobs = env("BENCH_IDLE_JOBS", 200);
const concurrency = env("BENCH_CONCURRENCY", 64);
const window = env("BENCH_WINDOW", 1000);
const repeat = env("BENCH_REPEAT", 1);
const only = new Set((process.env.BENCH_ONLY ?? "memory-1,memory-3,redis-1,redis-3,bullmq,drain-memory,drain-redis,drain-bullmq").split(",").map((s) => s.trim()));

const redis = await startRedis();
const results: RunFigures[] = [];
try {
  const common = { jobs, idleJobs, concurrency, window };
  const runs: [string, () => Promise<RunFigures>][] = [
    ["memory-1", () => benchMario({ ...common, name: "mario 1-step (memory)", steps: 1 })],
    ["memory-3", () => benchMario({ ...common, name: "mario 3-step (memory)", steps: 3 })],
    ["redis-1", () => benchMario({ ...common, name: "mario 1-step (redis)", steps: 1, redisUrl: redis.url })],
    ["redis-3", () => benchMario({ ...common, name: "mario 3-step (redis)", steps: 3, redisUrl: redis.url })],
    ["bullmq", () => benchBullmq({ redisUrl: redis.url, jobs, idleJobs, concurrency })],
    // Not end to end: jobs already in storage / in the queue, clock from "go" to the last completion.
    ["drain-memory", () => benchMario({ ...common, name: "dispatch only: mario 1-step (memory)", steps: 1, dispatchOnly: true })],
    ["drain-redis", () => benchMario({ ...common, name: "dispatch only: mario 1-step (redis)", steps: 1, redisUrl: redis.url, dispatchOnly: true })],
    ["drain-bullmq", () => benchBullmq({ redisUrl: redis.url, jobs, idleJobs, concurrency, drainOnly: true })],
  ];
  for (let round = 1; round <= repeat; round++) {
    for (const [key, run] of runs) {
      if (!only.has(key)) continue;
      process.stderr.write(`bench: ${key} (${jobs} jobs, round ${round}/${repeat})…\n`);
      const figures = await run();
      results.push(figures);
      process.stderr.write(`bench: ${key}: ${Math.round(figures.jobsPerSecond)} jobs/s\n`);
    }
  }
} finally {
  await redis.destroy();
}

/** The run of that name with the median jobs/s (the only one unless BENCH_REPEAT > 1). */
const find = (name: string): RunFigures | undefined => {
  const same = results.filter((r) => r.name === name).sort((a, b) => a.jobsPerSecond - b.jobsPerSecond);
  return same[Math.floor((same.length - 1) / 2)];
};
const bull = find("bullmq 1-step (redis)");
const redis1 = find("mario 1-step (redis)");
const memory1 = find("mario 1-step (memory)");
const ratios = {
  marioRedis1OverBullmq: redis1 && bull ? round(redis1.jobsPerSecond / bull.jobsPerSecond, 2) : null,
  marioMemory1OverBullmq: memory1 && bull ? round(memory1.jobsPerSecond / bull.jobsPerSecond, 2) : null,
};
const targets = {
  "redis 1-step >= 3x BullMQ": ratios.marioRedis1OverBullmq === null ? null : ratios.marioRedis1OverBullmq >= 3,
  "memory 1-step >= 80k jobs/s": memory1 === undefined ? null : memory1.jobsPerSecond >= 80_000,
};

const header = ["run", "jobs/s", "load p50 ms", "load p99 ms", "1-in-flight p50 ms", "1-in-flight p99 ms", "CPU µs/job", "peak RSS MiB"];
const rows = results.map((r) => [
  r.name,
  String(Math.round(r.jobsPerSecond)),
  String(round(r.loadP50Ms)),
  String(round(r.loadP99Ms)),
  Number.isNaN(r.idleP50Ms) ? "-" : String(round(r.idleP50Ms, 2)),
  Number.isNaN(r.idleP99Ms) ? "-" : String(round(r.idleP99Ms, 2)),
  String(r.cpuUsPerJob.total),
  Object.entries(r.peakRssMb).map(([k, v]) => `${k} ${v}`).join(", "),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
console.log(`\n${jobs} jobs per run, ${repeat} round(s), concurrency ${concurrency} per worker, ${cpus().length} CPUs, node ${process.version}\n`);
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log("");
if (repeat > 1) console.log("ratios and targets below use the median run of each kind");
if (ratios.marioRedis1OverBullmq !== null) console.log(`Mario 1-step (redis) / BullMQ: ${ratios.marioRedis1OverBullmq}×   (target ≥ 3×)`);
if (ratios.marioMemory1OverBullmq !== null) console.log(`Mario 1-step (memory) / BullMQ: ${ratios.marioMemory1OverBullmq}×`);
if (memory1 !== undefined) console.log(`Mario 1-step (memory): ${Math.round(memory1.jobsPerSecond)} jobs/s   (target ≥ 80 000)`);
console.log("\nCPU µs per job, by process (load phase):");
for (const r of results) console.log(`  ${r.name}: ${Object.entries(r.cpuUsPerJob).map(([k, v]) => `${k} ${v}`).join(", ")}`);
console.log(`producer (this process) peak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const file = `bench/results/${stamp}.json`;
await mkdir("bench/results", { recursive: true });
await writeFile(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      settings: { jobs, idleJobs, concurrency, window, repeat },
      results,
      ratios,
      targets,
      producerPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ) + "\n",
);
console.log(`figures written to ${file}`);
