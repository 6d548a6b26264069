/**
 * `npm run bench`: the paths users run (in-process steps, function files under `mario host` and
 * `mario up`, the HTTP gateway, `?wait`, payload sizes, the queue limit, memory per queued job)
 * against baselines in the same run (bench/baselines/: bare Hono + the same enqueue, a bare
 * zeromq.js round trip, a minimal ZeroMQ chain, a minimal Redis lease chain; BullMQ), then issue
 * #16's targets table: each figure, its basis, target, met or not.
 *
 *   npm run bench
 *   BENCH_JOBS=2000 BENCH_ONLY=memory-1,zmq-chain npm run bench     # a few rows, small
 *   BENCH_JOBS=50000 BENCH_REPEAT=3 npm run bench                   # larger, interleaved rounds
 *   BENCH_CPU_PROF=/tmp/prof npm run bench                          # --cpu-prof in every child
 *
 * Row keys (BENCH_ONLY, comma-separated; all by default): memory-1 memory-3 redis-1 redis-3
 * bullmq zmq-round-trip zmq-chain redis-chain host-4 host-64 http-memory http-redis hono-memory
 * hono-redis wait-up wait-hono payload-memory-100b payload-memory-10k payload-memory-100k
 * payload-redis-100b payload-redis-10k payload-redis-100k limit-memory queued-heap drain-memory
 * drain-redis drain-bullmq. "drain-*" are NOT end to end (jobs stored first, clock from "go").
 *
 * Settings (env): BENCH_JOBS jobs per run (default 20 000; payload rows run a share of it),
 * BENCH_IDLE_JOBS jobs measured one at a time (default 200), BENCH_CONCURRENCY jobs at once per
 * worker (default 64), BENCH_WINDOW enqueue requests the producer keeps outstanding (default 1000),
 * BENCH_CONNECTIONS HTTP connections of the POST rows (default 50), BENCH_REPEAT rounds, interleaved
 * (default 1; the targets use the median run of each row), REDIS_SERVER the redis-server binary.
 *
 * A row that fails prints its error and the bench goes on; every wait is bounded. Figures go to
 * bench/results/<timestamp>.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { startRedis } from "../test/support/redis-server.ts";
import { printResults, printTargets } from "./_print.ts";
import { rows } from "./_rows.ts";
import { targetLines } from "./_targets.ts";
import type { RunFigures } from "./_stats.ts";

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return Math.trunc(value);
};
const settings = {
  jobs: env("BENCH_JOBS", 20_000),
  idleJobs: env("BENCH_IDLE_JOBS", 200),
  concurrency: env("BENCH_CONCURRENCY", 64),
  window: env("BENCH_WINDOW", 1000),
  connections: env("BENCH_CONNECTIONS", 50),
};
const repeat = env("BENCH_REPEAT", 1);
const onlyList = process.env.BENCH_ONLY?.split(",").map((s) => s.trim()).filter((s) => s !== "");

const redis = await startRedis();
const results: RunFigures[] = [];
const failures: { key: string; name: string; round: number; error: string }[] = [];
const benchStarted = performance.now();
try {
  const all = rows({ ...settings, redisUrl: redis.url });
  const unknown = onlyList?.filter((key) => !all.some((row) => row.key === key)) ?? [];
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown row ${unknown.join(", ")}; rows: ${all.map((row) => row.key).join(" ")}`);
  const chosen = onlyList === undefined ? all : all.filter((row) => onlyList.includes(row.key));
  for (let round = 1; round <= repeat; round++) {
    for (const { key, name, run } of chosen) {
      process.stderr.write(`bench: ${key} (round ${round}/${repeat})…\n`);
      try {
        const figures = await run();
        results.push({ ...figures, key });
        process.stderr.write(`bench: ${key}: ${Number.isNaN(figures.jobsPerSecond) ? "done" : `${Math.round(figures.jobsPerSecond)} jobs/s, ${figures.cpuUsPerJob.total} µs CPU/job`}\n`);
      } catch (error) {
        const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
        failures.push({ key, name, round, error: message });
        process.stderr.write(`bench: ${key} FAILED: ${message}\n`);
      }
    }
  }
} finally {
  await redis.destroy();
}

/** The run of that name with the median jobs/s (the only one unless BENCH_REPEAT > 1), or why none. */
const find = (name: string): RunFigures | string => {
  const same = results.filter((r) => r.name === name).sort((a, b) => a.jobsPerSecond - b.jobsPerSecond);
  const median = same[Math.floor((same.length - 1) / 2)];
  if (median !== undefined) return median;
  const failed = failures.find((f) => f.name === name);
  return failed === undefined ? `"${name}" not run (BENCH_ONLY)` : `${failed.key} failed: ${failed.error}`;
};
const lines = targetLines(find);

console.log(`\n${settings.jobs} jobs per run, ${repeat} round(s), concurrency ${settings.concurrency} per worker, ${settings.connections} HTTP connections, ${cpus().length} CPUs, node ${process.version}, ${Math.round((performance.now() - benchStarted) / 1000)} s\n`);
printResults(results, failures);
printTargets(lines, repeat);

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
      settings: { ...settings, repeat },
      results,
      failures,
      targets: lines,
      producerPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ) + "\n",
);
console.log(`figures written to ${file}`);
