/**
 * What a batch of small jobs costs Redis in commands: the commands the backend sends (not those
 * its scripts run), read with MONITOR on a redis-server of the test's own. Small caller data goes
 * through the scripts (one command per enqueue batch, per lease batch; settle and retention in
 * one round trip); big data stays out of Lua, with plain HSET / HMGET beside the script, and every
 * job still reads back as it was sent.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { RedisStorageBackend } from "../../src/storage/redis/redis-storage-backend.ts";
import type { Lease, Settlement } from "../../src/storage/storage-backend.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const P = "cmd-pipe";

/** Top-level commands (name, upper case) others sent while `work` ran: not the scripts' own, not the marker's. */
async function commandsOf(redis: RedisServer, work: () => Promise<void>): Promise<string[]> {
  const watcher = new Redis(redis.url);
  const marker = new Redis(redis.url);
  const monitor = await watcher.monitor();
  try {
    const seen: { args: string[]; source: string }[] = [];
    const token = `end-${randomBytes(6).toString("hex")}`;
    const ended = new Promise<void>((resolve) => {
      monitor.on("monitor", (_time: string, args: string[], source: string) => {
        if (args[0]?.toLowerCase() === "echo" && args[1] === token) resolve();
        else seen.push({ args, source });
      });
    });
    // MONITOR starts once its first reply is read: a first marker proves it is on.
    const started = `start-${token}`;
    const on = new Promise<void>((resolve) => monitor.on("monitor", (_t: string, args: string[]) => args[1] === started && resolve()));
    await marker.echo(started);
    await bounded(on, "MONITOR did not start");
    seen.length = 0;
    await work();
    await marker.echo(token);
    await bounded(ended, "MONITOR did not see the end marker");
    const markerPort = String(marker.stream.localPort);
    return seen.filter(({ source }) => source !== "lua" && !source.endsWith(`:${markerPort}`)).map(({ args }) => args[0]!.toUpperCase());
  } finally {
    monitor.disconnect();
    watcher.disconnect();
    marker.disconnect();
  }
}

async function bounded(promise: Promise<void>, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), 30_000)))]);
  } finally {
    clearTimeout(timer);
  }
}

function succeed(lease: Lease): Settlement {
  const now = Date.now();
  const step = { jobType: "a", output: lease.job.input, attempts: lease.attempt, startedAt: now, finishedAt: now, workerId: "w" };
  return {
    kind: "succeed", pipeline: P, jobId: lease.job.id, token: lease.token, step, result: lease.job.input,
    attempt: { step: "a", stepIndex: 0, attempt: lease.attempt, outcome: "succeeded", workerId: "w", startedAt: now, finishedAt: now },
  };
}

const count = (list: readonly string[], name: string): number => list.filter((c) => c === name).length;
const scripts = (list: readonly string[]): number => count(list, "EVALSHA") + count(list, "EVAL");

describe("redis storage: retention and idempotency keys", () => {
  it("a job dropped by retention takes its idempotency key with it, whatever characters the key holds", async () => {
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    const prefix = `t${randomBytes(6).toString("hex")}`;
    const storage = new RedisStorageBackend("spec", { redisUri: redis.url, keyPrefix: prefix, retention: { maxFinished: 1 }, commandTimeoutMs: 30_000 });
    try {
      await storage.connect();
      await storage.initialize([{ name: P, steps: ["a"] }]);
      const keys = ["plain-key", 'q"uote', "sl/ash", "back\\slash ✓ \u0001", "last"];
      for (const key of keys) {
        await storage.enqueueJob({ pipeline: P, route: ["a"], instructions: { key }, idempotencyKey: key });
        const [lease] = await storage.leaseNext(P, "a", 1, 60_000);
        assert.deepEqual(await storage.settle([succeed(lease!)]), ["ok"]);
      }
      assert.deepEqual(await admin.hkeys(`${prefix}:spec:{${P}}:idem`), ["last"]);
    } finally {
      await storage.close();
      admin.disconnect();
      await redis.destroy();
    }
  });
});

describe("redis storage: commands per batch of jobs", () => {
  let redis: RedisServer;
  let storage: RedisStorageBackend;
  let admin: Redis;
  const prefix = `t${randomBytes(6).toString("hex")}`;

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    // A loaded machine may keep Redis silent past the default 1 s: this test counts commands, not that.
    storage = new RedisStorageBackend("spec", { redisUri: redis.url, keyPrefix: prefix, commandTimeoutMs: 30_000 });
    await storage.connect();
    await storage.initialize([{ name: P, steps: ["a"] }]);
    // Every script loaded once (the first call of each may be NOSCRIPT, then EVAL).
    await storage.enqueueJob({ pipeline: P, route: ["a"], instructions: { warm: 1 } });
    await storage.settle((await storage.leaseNext(P, "a", 1, 60_000)).map(succeed));
  });
  after(async () => {
    await storage.close();
    admin.disconnect();
    await redis.destroy();
  });

  it("small jobs: one command per enqueue batch and per lease batch, settle and retention in one round trip", async () => {
    const sent = Array.from({ length: 20 }, (_, i) => ({ i, text: "ü ✓ \"q\"", list: [], n15: 123456789012345 }));
    const enqueued = await commandsOf(redis, async () => {
      await storage.enqueueJobs(sent.map((instructions, i) => ({ pipeline: P, route: ["a"], instructions, idempotencyKey: `small-${i}` })));
    });
    assert.deepEqual(enqueued, ["EVALSHA"], enqueued.join(" "));
    let leases: Lease[] = [];
    const leased = await commandsOf(redis, async () => {
      leases = await storage.leaseNext(P, "a", 20, 60_000);
    });
    assert.deepEqual(leased, ["EVALSHA"], leased.join(" "));
    assert.deepEqual(leases.map((l) => l.job.input), sent);
    const settled = await commandsOf(redis, async () => {
      assert.deepEqual(await storage.settle(leases.map(succeed)), leases.map(() => "ok"));
    });
    assert.deepEqual(settled, ["EVALSHA", "EVALSHA"], settled.join(" "));
    const jobs = await storage.getJobs(leases.map((l) => l.job.id), P);
    assert.deepEqual(jobs.map((j) => [j?.status, j?.instructions, j?.result, j?.steps[0]?.output]), sent.map((s) => ["succeeded", s, s, s]));
  });

  it("big jobs: instructions written and inputs read with plain commands beside the script, small ones in it", async () => {
    const big = (i: number) => ({ i, pad: "x".repeat(3000) });
    const sent = [big(0), { i: 1 }, big(2)];
    const enqueued = await commandsOf(redis, async () => {
      await storage.enqueueJobs(sent.map((instructions) => ({ pipeline: P, route: ["a"], instructions })));
    });
    assert.equal(count(enqueued, "HSET"), 2, enqueued.join(" "));
    assert.equal(scripts(enqueued), 1, enqueued.join(" "));
    assert.equal(count(enqueued, "MULTI"), 1, enqueued.join(" "));
    let leases: Lease[] = [];
    const leased = await commandsOf(redis, async () => {
      leases = await storage.leaseNext(P, "a", 3, 60_000);
    });
    assert.equal(scripts(leased), 1, leased.join(" "));
    assert.equal(count(leased, "HMGET"), 2, leased.join(" "));
    assert.deepEqual(leases.map((l) => l.job.input), sent);
    assert.deepEqual(await storage.settle(leases.map(succeed)), ["ok", "ok", "ok"]);
    const jobs = await storage.getJobs(leases.map((l) => l.job.id), P);
    assert.deepEqual(jobs.map((j) => [j?.instructions, j?.result]), sent.map((s) => [s, s]));
  });

  it("a busy or duplicate small job writes no caller data", async () => {
    const first = await storage.enqueueJob({ pipeline: P, route: ["a"], instructions: { first: true }, idempotencyKey: "dup" });
    assert.equal(first.status, "created");
    const again = await storage.enqueueJob({ pipeline: P, route: ["a"], instructions: { second: true }, idempotencyKey: "dup", id: "dup-second" });
    assert.ok(again.status === "duplicate");
    assert.deepEqual(again.job.instructions, { first: true });
    assert.equal(await storage.getJob("dup-second"), undefined);
    assert.equal(await admin.exists(`${prefix}:spec:{${P}}:jobs:dup-second`), 0);
    assert.equal(await admin.exists(`${prefix}:spec:{${P}}:jobs:${first.job.id}`), 1);
  });
});
