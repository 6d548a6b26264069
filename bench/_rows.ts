/**
 * Every row the benchmark can run, by key (BENCH_ONLY picks some), in the order they run.
 * Each row returns one RunFigures; its `name` is what the targets table looks up.
 */
import { benchBullmq } from "./bullmq.ts";
import { benchHttp } from "./http.ts";
import { benchMario } from "./mario.ts";
import { benchQueuedJobHeap } from "./queued-job-heap-row.ts";
import { benchRedisChain } from "./baselines/redis-chain.ts";
import { benchZmqChain } from "./baselines/zmq-chain.ts";
import { benchZmqRoundTrip } from "./baselines/zmq-round-trip.ts";
import type { RunFigures } from "./_stats.ts";

export interface BenchSettings {
  jobs: number;
  idleJobs: number;
  concurrency: number;
  window: number;
  /** HTTP connections of the loaded POST rows. */
  connections: number;
  redisUrl: string;
}

/** A row: its BENCH_ONLY key, the name its figures carry, and how to run it. */
export interface Row {
  key: string;
  name: string;
  run: () => Promise<RunFigures>;
}

/** Row names the targets table reads. */
export const NAMES = {
  memory1: "mario 1-step (memory)",
  redis1: "mario 1-step (redis)",
  bullmq: "bullmq 1-step (redis)",
  zmqRoundTrip: "baseline: zeromq.js round trip (100 in flight)",
  zmqChain: "baseline: minimal ZeroMQ chain (1 step)",
  redisChain: "baseline: minimal Redis lease chain (1 step)",
  host4: "mario host functions/, concurrency 4 (memory)",
  host64: "mario host functions/, concurrency 64 (memory)",
  upMemory: "mario up: POST, 50 connections (memory)",
  upRedis: "mario up: POST, 50 connections (redis)",
  honoMemory: "baseline: bare Hono + enqueue, 50 connections (memory)",
  honoRedis: "baseline: bare Hono + enqueue, 50 connections (redis)",
  waitUp: "mario up: POST ?wait, 1 in flight (memory)",
  waitHono: "baseline: bare Hono calling the function, 1 in flight",
  limit: "mario 1-step at the queue limit (memory, maxQueued 100)",
  heap: "memory storage: heap per queued job",
  payload: (storage: "memory" | "redis", label: string): string => `mario 1-step, ${label} payload (${storage})`,
} as const;

export const PAYLOADS: [label: string, key: string, bytes: number, share: number][] = [
  ["100 B", "100b", 100, 4],
  ["10 KB", "10k", 10_000, 8],
  ["100 KB", "100k", 100_000, 40],
];

export function rows(s: BenchSettings): Row[] {
  const common = { jobs: s.jobs, idleJobs: s.idleJobs, concurrency: s.concurrency, window: s.window };
  const redisUrl = s.redisUrl;
  // The slow paths run a share of the jobs, so that the default run stays within minutes.
  const http = { jobs: Math.max(500, Math.floor(s.jobs / 2)), idleJobs: s.idleJobs, connections: s.connections };
  const hostJobs = Math.max(500, Math.floor(s.jobs / 4));
  const list: Row[] = [
    { key: "memory-1", name: NAMES.memory1, run: () => benchMario({ ...common, name: NAMES.memory1, steps: 1 }) },
    { key: "memory-3", name: "mario 3-step (memory)", run: () => benchMario({ ...common, name: "mario 3-step (memory)", steps: 3 }) },
    { key: "redis-1", name: NAMES.redis1, run: () => benchMario({ ...common, name: NAMES.redis1, steps: 1, redisUrl }) },
    { key: "redis-3", name: "mario 3-step (redis)", run: () => benchMario({ ...common, name: "mario 3-step (redis)", steps: 3, redisUrl }) },
    { key: "bullmq", name: NAMES.bullmq, run: () => benchBullmq({ redisUrl, jobs: s.jobs, idleJobs: s.idleJobs, concurrency: s.concurrency }) },
    { key: "zmq-round-trip", name: NAMES.zmqRoundTrip, run: () => benchZmqRoundTrip({ jobs: s.jobs, idleJobs: s.idleJobs, inFlight: 100 }) },
    { key: "zmq-chain", name: NAMES.zmqChain, run: () => benchZmqChain({ jobs: s.jobs, window: s.window }) },
    { key: "redis-chain", name: NAMES.redisChain, run: () => benchRedisChain({ redisUrl, jobs: s.jobs, concurrency: s.concurrency }) },
    { key: "host-4", name: NAMES.host4, run: () => benchMario({ ...common, jobs: hostJobs, name: NAMES.host4, steps: 1, workers: "host", concurrency: 4 }) },
    { key: "host-64", name: NAMES.host64, run: () => benchMario({ ...common, jobs: hostJobs, name: NAMES.host64, steps: 1, workers: "host", concurrency: 64 }) },
    { key: "http-memory", name: NAMES.upMemory, run: () => benchHttp({ ...http, name: NAMES.upMemory, target: "up" }) },
    { key: "http-redis", name: NAMES.upRedis, run: () => benchHttp({ ...http, name: NAMES.upRedis, target: "up", redisUrl }) },
    { key: "hono-memory", name: NAMES.honoMemory, run: () => benchHttp({ ...http, name: NAMES.honoMemory, target: "hono" }) },
    { key: "hono-redis", name: NAMES.honoRedis, run: () => benchHttp({ ...http, name: NAMES.honoRedis, target: "hono", redisUrl }) },
    { key: "wait-up", name: NAMES.waitUp, run: () => benchHttp({ ...http, name: NAMES.waitUp, target: "up", wait: true }) },
    { key: "wait-hono", name: NAMES.waitHono, run: () => benchHttp({ ...http, name: NAMES.waitHono, target: "hono", wait: true }) },
  ];
  for (const storage of ["memory", "redis"] as const) {
    for (const [label, key, bytes, share] of PAYLOADS) {
      const jobs = Math.max(200, Math.floor(s.jobs / share));
      const name = NAMES.payload(storage, label);
      list.push({
        key: `payload-${storage}-${key}`,
        name,
        run: () =>
          benchMario({
            ...common,
            jobs,
            name,
            steps: 1,
            payloadBytes: bytes,
            timeoutMs: 90_000,
            ...(storage === "redis" ? { redisUrl } : {}),
          }),
      });
    }
  }
  list.push(
    { key: "limit-memory", name: NAMES.limit, run: () => benchMario({ ...common, name: NAMES.limit, steps: 1, maxQueued: 100 }) },
    { key: "queued-heap", name: NAMES.heap, run: () => benchQueuedJobHeap(100_000) },
    // Not end to end: jobs already in storage / in the queue, clock from "go" to the last completion.
    { key: "drain-memory", name: "dispatch only: mario 1-step (memory)", run: () => benchMario({ ...common, name: "dispatch only: mario 1-step (memory)", steps: 1, dispatchOnly: true }) },
    { key: "drain-redis", name: "dispatch only: mario 1-step (redis)", run: () => benchMario({ ...common, name: "dispatch only: mario 1-step (redis)", steps: 1, redisUrl, dispatchOnly: true }) },
    { key: "drain-bullmq", name: "dispatch only: bullmq 1-step (redis)", run: () => benchBullmq({ redisUrl, jobs: s.jobs, idleJobs: s.idleJobs, concurrency: s.concurrency, drainOnly: true }) },
  );
  return list;
}
