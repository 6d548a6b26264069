/**
 * Step limits with real processes (issue #17, "What it must show"). On one real redis-server: two
 * `mario pipeline` servers, `mario host` workers announcing to both, and `mario gateway --redis`
 * in front. A step with `rateLimit: { max: 10, perMs: 1000 }` over 3 workers starts at most 10
 * attempts in any 1 s window, counted from the job records' start times (storage's clock), sliding
 * over every window; a step with `maxPerKey: 1` over 4 workers never runs two jobs of one key at
 * once (overlaps of [startedAt, finishedAt] per key, from the records), and every job succeeds
 * at its first attempt. `/metrics` shows jobs waiting, by reason, while they wait. The per-key case
 * also runs on memory storage under `mario up`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

const LIMITED = `export const config = { concurrency: 4, rateLimit: { max: 10, perMs: 1000 } };
export default async function limited({ n }) { await new Promise((r) => setTimeout(r, 5)); return { n }; }
`;
const PER_CUSTOMER = `export const config = { concurrency: 4, concurrencyKey: "customer.id", maxPerKey: 1 };
export default async function perCustomer({ n }) { await new Promise((r) => setTimeout(r, 40)); return { n }; }
`;

function project(): string {
  const root = mkdtempSync(join(tmpdir(), "mario-limits-"));
  mkdirSync(join(root, "functions"));
  writeFileSync(join(root, "functions", "limited.mjs"), LIMITED);
  writeFileSync(join(root, "functions", "per-customer.mjs"), PER_CUSTOMER);
  return root;
}

/** Most start times within any window [s, s + windowMs), over every start s. */
function mostStartsInWindow(starts: readonly number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

/** Pairs of jobs of one key whose [startedAt, finishedAt] overlap. */
function overlaps(jobs: readonly JobRecord[], keyOf: (job: JobRecord) => string): number {
  const byKey = new Map<string, JobRecord[]>();
  for (const job of jobs) byKey.set(keyOf(job), [...(byKey.get(keyOf(job)) ?? []), job]);
  let count = 0;
  for (const list of byKey.values()) {
    const sorted = [...list].sort((a, b) => a.startedAt! - b.startedAt!);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length && sorted[j]!.startedAt! < sorted[i]!.finishedAt!; j++) count++;
    }
  }
  return count;
}

async function post(url: string, pipeline: string, body: unknown): Promise<JobRecord> {
  const res = await fetch(`${url}pipelines/${pipeline}/jobs?wait=60000`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
  const job = (await res.json()) as JobRecord;
  assert.equal(res.status, 200, JSON.stringify(job));
  return job;
}

/** Reads /metrics until `mario_step_waiting` of `step` shows jobs waiting for `reason` (bounded). */
async function seeWaiting(url: string, step: string, reason: string): Promise<number> {
  let seen = 0;
  const sample = new RegExp(`^mario_step_waiting\\{pipeline="${step}",step="${step}",reason="${reason}"\\} (\\d+)$`, "m");
  await eventually(async () => {
    const text = await (await fetch(`${url}metrics`)).text();
    seen = Number(sample.exec(text)?.[1] ?? 0);
    return seen > 0;
  }, { timeoutMs: 15_000, intervalMs: 50, message: `/metrics never showed ${step} jobs waiting (${reason})` });
  return seen;
}

async function finishedJobs(url: string, pipeline: string, bodies: unknown[]): Promise<JobRecord[]> {
  const jobs = await Promise.all(bodies.map((body) => post(url, pipeline, body)));
  for (const job of jobs) {
    assert.equal(job.status, "succeeded", JSON.stringify(job));
    assert.equal(job.attempts, 1, "waiting cost no attempt");
    assert.equal(job.history?.length, 1, "one attempt, never failed");
  }
  return jobs;
}

describe("step limits over 2 pipeline servers and several workers on one Redis", () => {
  const procs = new MarioProcesses();
  let redis: RedisServer | undefined;
  let root = "";
  let url = "";
  let subs: string[] = [];

  before(async () => {
    root = project();
    redis = await startRedis();
    const ports = await freePorts(4);
    subs = [`tcp://127.0.0.1:${ports[0]}`, `tcp://127.0.0.1:${ports[1]}`];
    const pulls = [`tcp://127.0.0.1:${ports[2]}`, `tcp://127.0.0.1:${ports[3]}`];
    const servers = [0, 1].map((i) => procs.start(["pipeline", join(root, "functions"), `--sub-bind=${subs[i]}`, `--job-pull-bind=${pulls[i]}`, `--redis=${redis!.url}`]));
    await Promise.all(servers.map((s) => s.waitForLine(/pipeline server registered/, 60_000)));
    const hosts = [0, 1, 2].map(() => procs.start(["host", join(root, "functions"), ...subs.map((s) => `--sub-connect=${s}`), "--heartbeat-ms=200"]));
    await Promise.all(hosts.map((h) => h.waitForLine(/mario host: serving 2 function\(s\)/, 60_000)));
    const gateway = procs.start(["gateway", `--redis=${redis.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 60_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
    await eventually(async () => (await fetch(`${url}ready`)).status === 200, { timeoutMs: 20_000, message: "the gateway never got ready" });
  });
  after(async () => {
    await procs.stopAll();
    await redis?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it("rateLimit { max: 10, perMs: 1000 } over 3 workers and 2 servers: at most 10 starts in any 1 s window", async () => {
    const running = finishedJobs(url, "limited", Array.from({ length: 40 }, (_, n) => ({ n })));
    const waiting = await seeWaiting(url, "limited", "rate-limited");
    const jobs = await running;
    const starts = jobs.map((job) => job.startedAt!);
    const most = mostStartsInWindow(starts, 1000);
    const span = Math.max(...starts) - Math.min(...starts);
    console.log(`rate limit: 40 jobs, at most ${most} starts in any 1 s window, first to last start ${span} ms; ${waiting} seen waiting on /metrics`);
    assert.ok(most <= 10, `${most} attempts started within 1 s`);
    assert.ok(most >= 2, "jobs did run at once (the window is not one at a time)");
  });

  it("maxPerKey 1 over 4 workers: never two jobs of one key at once, every job succeeds", async () => {
    const fourth = procs.start(["host", join(root, "functions"), ...subs.map((s) => `--sub-connect=${s}`), "--heartbeat-ms=200"]);
    await fourth.waitForLine(/mario host: serving 2 function\(s\)/, 60_000);
    const bodies = Array.from({ length: 30 }, (_, n) => ({ n, customer: { id: `c${n % 3}` } }));
    const running = finishedJobs(url, "per-customer", bodies);
    const waiting = await seeWaiting(url, "per-customer", "key-busy");
    const jobs = await running;
    const found = overlaps(jobs, (job) => job.concurrencyKey ?? "none");
    const workers = new Set(jobs.map((job) => job.history?.[0]?.workerId));
    console.log(`per-key: 30 jobs of 3 keys on ${workers.size} workers, ${found} overlaps; ${waiting} seen waiting (key-busy) on /metrics`);
    assert.deepEqual([...new Set(jobs.map((job) => job.concurrencyKey))].sort(), ["c0", "c1", "c2"], "each job kept its key");
    assert.equal(found, 0, "no two jobs of one key ran at once");
  });
});

describe("per-key concurrency on memory storage (mario up)", () => {
  const procs = new MarioProcesses();
  let root = "";
  let url = "";

  before(async () => {
    root = project();
    const up = procs.start(["up", join(root, "functions"), "--port=0"]);
    const line = await up.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//, 60_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(async () => {
    await procs.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  it("maxPerKey 1: never two jobs of one key at once, every job succeeds", async () => {
    const bodies = Array.from({ length: 20 }, (_, n) => ({ n, customer: { id: `c${n % 2}` } }));
    const running = finishedJobs(url, "per-customer", bodies);
    await seeWaiting(url, "per-customer", "key-busy");
    const jobs = await running;
    const found = overlaps(jobs, (job) => job.concurrencyKey ?? "none");
    console.log(`per-key on memory: 20 jobs of 2 keys, ${found} overlaps`);
    assert.equal(found, 0);
  });
});
