/**
 * Redis that would lose jobs says so: real redis-server processes with settings of their own
 * under real `mario up --redis` processes.
 * - `maxmemory-policy allkeys-lru` is refused at start (one line naming the setting), and runs
 *   with `--allow-redis-eviction`.
 * - A full `noeviction` Redis answers enqueues `507 STORAGE_FULL` (never 500), nothing half-written.
 * - A stalled Redis (SIGSTOP) answers `503 STORAGE_UNAVAILABLE` once the command timeout passes.
 * - FLUSHALL, or a restart without persistence, under a running server turns `/ready` to 503
 *   with the reason (store epoch gone), a metric and a log line; enqueues are refused.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { eventually } from "../support/eventually.ts";
import { MarioProcesses, runMario, type MarioProcess } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";
import { stopProcess } from "../support/stop-process.ts";

const JSON_HEADERS = { "content-type": "application/json" };

function makeFunctions(): string {
  const dir = mkdtempSync(join(tmpdir(), "mario-redis-safety-"));
  mkdirSync(join(dir, "functions"));
  writeFileSync(join(dir, "functions", "keep.mjs"), "export default async function (i) { return { size: String(i.blob ?? '').length }; }\n");
  return join(dir, "functions");
}

async function urlOf(proc: MarioProcess): Promise<string> {
  const line = await proc.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//);
  return /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}pipelines/keep/jobs`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
}

describe("Redis safety checks (e2e)", () => {
  const procs = new MarioProcesses();
  const servers: RedisServer[] = [];
  let functions = "";
  before(() => {
    functions = makeFunctions();
  });
  after(async () => {
    await procs.stopAll();
    for (const redis of servers) {
      if (redis.pid > 0) process.kill(redis.pid, "SIGCONT");
      await redis.destroy();
    }
    rmSync(join(functions, ".."), { recursive: true, force: true });
  });
  const redisWith = async (args: string[]): Promise<RedisServer> => {
    const redis = await startRedis({ args });
    servers.push(redis);
    return redis;
  };

  it("an evicting maxmemory-policy is refused in one line, and runs with --allow-redis-eviction", async () => {
    const redis = await redisWith(["--maxmemory-policy", "allkeys-lru"]);
    const refused = await runMario(["up", functions, "--port=0", `--redis=${redis.url}`]);
    assert.equal(refused.code, 2, refused.stderr);
    const lines = refused.stderr.trim().split("\n");
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(lines[0]!, /maxmemory-policy allkeys-lru/);
    assert.match(lines[0]!, /--allow-redis-eviction/);

    const up = procs.start(["up", functions, "--port=0", `--redis=${redis.url}`, "--allow-redis-eviction"]);
    const url = await urlOf(up);
    assert.match(up.stderr, /allkeys-lru.*allowed by --allow-redis-eviction/);
    const res = await post(url, {});
    assert.equal(res.status, 202);
    assert.deepEqual(await up.stop(), { code: 0, signal: null });
  });

  it("a full noeviction Redis answers 507 STORAGE_FULL, never 500, and writes nothing half", async () => {
    const redis = await redisWith(["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"]);
    const up = procs.start(["up", functions, "--port=0", `--redis=${redis.url}`, "--namespace=full"]);
    const url = await urlOf(up);
    const blob = "x".repeat(64 * 1024);
    let accepted = 0;
    let full: Response | undefined;
    const others: number[] = [];
    for (let i = 0; i < 200 && full === undefined; i++) {
      const res = await post(url, { blob, i });
      if (res.status === 202) accepted++;
      else if (res.status === 507) full = res;
      else others.push(res.status);
      if (full === undefined) await res.arrayBuffer();
    }
    assert.ok(full !== undefined, `no 507 after ${accepted} accepted enqueues`);
    assert.deepEqual(others, [], "nothing but 202 before the first 507");
    const body = (await full.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "STORAGE_FULL");
    assert.match(body.error.message, /out of memory/);
    assert.equal(full.headers.get("retry-after"), "1");
    // Nothing half-written: as many jobs stored as were accepted, every one counted.
    const raw = new Redis(redis.url);
    try {
      const jobs = await raw.hlen("mario:full:{keep}:jobs");
      const counted = Number(await raw.hget("mario:full:{keep}:counters", "accepted"));
      assert.equal(jobs, accepted);
      assert.equal(counted, accepted);
    } finally {
      raw.disconnect();
    }
    assert.deepEqual(await up.stop(), { code: 0, signal: null });
  });

  it("a stalled Redis (SIGSTOP) is a fast 503 STORAGE_UNAVAILABLE, and serving resumes after", async () => {
    const redis = await redisWith([]);
    const up = procs.start(["up", functions, "--port=0", `--redis=${redis.url}`, "--redis-timeout-ms=300"]);
    const url = await urlOf(up);
    assert.equal((await post(url, {})).status, 202);
    const pid = redis.pid;
    await stopProcess(pid);
    let res: Response;
    try {
      res = await post(url, { during: "stall" });
    } finally {
      process.kill(pid, "SIGCONT");
    }
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "STORAGE_UNAVAILABLE");
    assert.equal(res.headers.get("retry-after"), "1");
    await eventually(async () => (await post(url, { after: "stall" })).status === 202, { timeoutMs: 5000, message: "no enqueue after Redis woke" });
    assert.deepEqual(await up.stop(), { code: 0, signal: null });
  });

  it("FLUSHALL under a running server: /ready 503 with the reason, a metric, a log line, enqueues refused", async () => {
    const redis = await redisWith([]);
    const up = procs.start(["up", functions, "--port=0", `--redis=${redis.url}`]);
    const url = await urlOf(up);
    assert.equal((await fetch(`${url}ready`)).status, 200);
    assert.equal((await post(url, {})).status, 202);
    const raw = new Redis(redis.url);
    try {
      await raw.flushall();
    } finally {
      raw.disconnect();
    }
    const ready = await fetch(`${url}ready`);
    assert.equal(ready.status, 503);
    const reason = ((await ready.json()) as { error: { message: string } }).error.message;
    assert.match(reason, /emptied or replaced: the store epoch of pipeline "keep" is gone/);
    const metrics = await (await fetch(`${url}metrics`)).text();
    assert.match(metrics, /^mario_storage_lost 1$/m);
    assert.match(metrics, /^mario_ready 0$/m);
    const refused = await post(url, {});
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "STORAGE_LOST");
    await up.waitForLine(/storage lost: dispatching stopped/);
    assert.deepEqual(await up.stop(), { code: 0, signal: null });
  });

  it("Redis restarted without persistence: a warning at start, then /ready 503 with the reason", async () => {
    const redis = await redisWith(["--appendonly", "no"]);
    const up = procs.start(["up", functions, "--port=0", `--redis=${redis.url}`]);
    const url = await urlOf(up);
    assert.match(up.stderr, /runs without persistence/);
    assert.equal((await post(url, {})).status, 202);
    await redis.restart();
    let reason = "";
    await eventually(
      async () => {
        const res = await fetch(`${url}ready`);
        reason = res.status === 503 ? ((await res.json()) as { error: { message: string } }).error.message : "";
        return /store epoch/.test(reason);
      },
      { timeoutMs: 10_000, message: "/ready did not report the emptied Redis" },
    );
    assert.match(reason, /emptied or replaced/);
    await up.waitForLine(/storage lost/);
    assert.deepEqual(await up.stop(), { code: 0, signal: null });
  });
});
