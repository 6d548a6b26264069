/**
 * The Redis backend against a real redis-server: the shared storage contract, then what only
 * Redis has (hash-tagged keys, unreachable server, restart, data fidelity through Lua).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { StorageUnavailableError } from "../../src/core/errors/storage-unavailable-error.ts";
import { RedisStorageBackend, type RedisStorageOptions } from "../../src/storage/redis/redis-storage-backend.ts";
import { eventually } from "../support/eventually.ts";
import { freePort, type RedisServer, startRedis } from "../support/redis-server.ts";
import { storageContract } from "../support/storage-contract.ts";

const prefix = (): string => `t${randomBytes(6).toString("hex")}`;
const P = "tagged-pipe";

// One server for the contract; the suite's `teardown` destroys it.
const shared = startRedis();
shared.catch(() => {});
storageContract("redis", {
  create: async (options) => new RedisStorageBackend("contract", { ...options, redisUri: (await shared).url, keyPrefix: prefix() }),
  teardown: async () => (await shared).destroy(),
});

describe("redis storage", () => {
  let redis: RedisServer;
  let admin: Redis;
  const opened: RedisStorageBackend[] = [];
  const open = async (options: RedisStorageOptions = {}): Promise<RedisStorageBackend> => {
    const storage = new RedisStorageBackend("spec", { redisUri: redis.url, keyPrefix: prefix(), ...options });
    opened.push(storage);
    await storage.connect();
    await storage.initialize([{ name: P, steps: ["a", "b"] }]);
    return storage;
  };
  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    admin.on("error", () => {});
    await admin.connect();
  });
  after(async () => {
    for (const storage of opened) await storage.close();
    admin.disconnect();
    await redis.destroy();
  });

  it("keeps every key of a pipeline under its {pipeline} hash tag", async () => {
    const keyPrefix = prefix();
    const storage = await open({ keyPrefix });
    const created = await storage.enqueueJobs([
      { pipeline: P, route: ["a", "b"], instructions: { n: 1 }, idempotencyKey: "k" },
      { pipeline: P, route: ["a", "b"], instructions: { n: 2 } },
    ]);
    const leases = await storage.leaseNext(P, "a", 2, 10_000, "w1");
    const now = Date.now();
    const step = { jobType: "a", output: {}, attempts: 1, startedAt: now, finishedAt: now + 3 };
    await storage.settle([
      { kind: "advance", pipeline: P, jobId: leases[0]!.job.id, token: leases[0]!.token, step, nextIndex: 1, input: {} },
      { kind: "retry", pipeline: P, jobId: leases[1]!.job.id, token: leases[1]!.token, error: { name: "E", message: "x" }, delayMs: 60_000 },
    ]);
    await storage.leaseNext(P, "b", 1, 10_000);
    await storage.registerWorker({ workerId: "w1", jobType: "a", address: "tcp://x:1", capacity: 1, inFlight: 0, host: "h", pid: 1, lastSeen: now });
    assert.equal(created.length, 2);

    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await admin.scan(cursor, "MATCH", `${keyPrefix}:*`, "COUNT", 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    const registry = new Set([`${keyPrefix}:spec:pipelines`, `${keyPrefix}:spec:{workers}`, `${keyPrefix}:spec:{workers}:seen`]);
    const tagged = keys.filter((k) => !registry.has(k));
    assert.ok(tagged.length >= 8, `expected the pipeline's keys, got ${keys.join(", ")}`);
    for (const key of tagged) assert.ok(key.startsWith(`${keyPrefix}:spec:{${P}}:`), `key without the hash tag: ${key}`);
  });

  it("connect() to a port where nothing listens rejects with StorageUnavailableError within seconds", async () => {
    const port = await freePort();
    const storage = new RedisStorageBackend("spec", { redisUri: `redis://127.0.0.1:${port}`, keyPrefix: prefix() });
    opened.push(storage);
    const started = Date.now();
    await assert.rejects(storage.connect(), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    });
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    await assert.rejects(storage.enqueueJob({ pipeline: P, route: ["a"], instructions: {} }), { code: "UNKNOWN_PIPELINE" });
    await assert.rejects(storage.ping(), StorageUnavailableError);
  });

  it("keeps caller data exactly (empty arrays, floats, unicode, nulls) through the Lua scripts", async () => {
    const storage = await open();
    const instructions = { list: [], nested: { empty: {}, arr: [[], [1, 2.5]] }, pi: 3.141592653589793, big: 2 ** 52 + 1, s: "héllo \"/\\ ✓ 😀", n: null };
    const outcome = await storage.enqueueJob({ pipeline: P, route: ["a", "b"], instructions });
    assert.equal(outcome.status, "created");
    const [lease] = await storage.leaseNext(P, "a", 1, 10_000);
    assert.deepEqual(lease?.job.input, instructions, "a lease carries the input (the instructions at the first step)");
    const now = Date.now();
    const step = { jobType: "a", output: { out: [], f: 0.1 + 0.2 }, attempts: 1, startedAt: now, finishedAt: now };
    await storage.settle([{ kind: "advance", pipeline: P, jobId: lease.job.id, token: lease.token, step, nextIndex: 1, input: { out: [] } }]);
    const [next] = await storage.leaseNext(P, "b", 1, 10_000);
    await storage.settle([{ kind: "succeed", pipeline: P, jobId: next!.job.id, token: next!.token, step: { ...step, jobType: "b" }, result: [] }]);
    const job = await storage.getJob(lease.job.id);
    assert.deepEqual(job?.instructions, instructions);
    assert.deepEqual(job?.steps[0]?.output, { out: [], f: 0.1 + 0.2 });
    assert.deepEqual(job?.result, []);
  });

  it("another backend on the same namespace finds, redrives and lists a job by id alone", async () => {
    const keyPrefix = prefix();
    const one = await open({ keyPrefix });
    const two = new RedisStorageBackend("spec", { redisUri: redis.url, keyPrefix });
    opened.push(two);
    await two.connect();
    await two.initialize([{ name: "elsewhere", steps: ["x"] }]);
    const outcome = await one.enqueueJob({ pipeline: P, route: ["a", "b"], instructions: { from: "one" } });
    assert.equal(outcome.status, "created");
    const [lease] = await one.leaseNext(P, "a", 1, 10_000);
    assert.equal((await two.getJob(lease!.job.id))?.status, "running");
    // A settlement names its pipeline (the engine knows it): the one that leased it settles it.
    assert.deepEqual(await one.settle([{ kind: "dead", pipeline: P, jobId: lease!.job.id, token: lease!.token, error: { name: "E", message: "no" } }]), ["ok"]);
    assert.equal(await two.redrive(lease!.job.id), true);
    assert.deepEqual((await two.listJobs()).map((j) => j.id), [lease!.job.id]);
  });

  it("rejects with StorageUnavailableError while Redis is down, and the same instance works after a restart", async () => {
    const own = await startRedis();
    try {
      const storage = new RedisStorageBackend("spec", { redisUri: own.url, keyPrefix: prefix() });
      opened.push(storage);
      await storage.connect();
      await storage.initialize([{ name: P, steps: ["a"] }]);
      const before = await storage.enqueueJob({ pipeline: P, route: ["a"], instructions: { kept: true } });
      assert.equal(before.status, "created");

      await own.stop();
      const started = Date.now();
      await assert.rejects(storage.enqueueJob({ pipeline: P, route: ["a"], instructions: {} }), StorageUnavailableError);
      await assert.rejects(storage.leaseNext(P, "a", 1, 1000), StorageUnavailableError);
      assert.ok(Date.now() - started < 1000, `rejections took ${Date.now() - started} ms`);

      await own.restart();
      await eventually(
        async () => {
          try {
            return (await storage.enqueueJob({ pipeline: P, route: ["a"], instructions: {} })).status === "created";
          } catch (error) {
            if (error instanceof StorageUnavailableError) return false;
            throw error;
          }
        },
        { timeoutMs: 5000, message: "the backend never reconnected" },
      );
      if (before.status !== "created") return;
      assert.deepEqual((await storage.getJob(before.job.id))?.instructions, { kept: true }, "append-only file kept the job");
      assert.equal((await storage.getStats(P)).accepted, 2);
    } finally {
      await own.destroy();
    }
  });

  it("enqueues, leases and settles large batches (several script calls per batch) on a client it was given", async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    try {
      const storage = await open({ client });
      const outcomes = await storage.enqueueJobs(Array.from({ length: 1200 }, (_, i) => ({ pipeline: P, route: ["a"], instructions: { i } })));
      assert.equal(outcomes.filter((o) => o.status === "created").length, 1200);
      const leases = await storage.leaseNext(P, "a", 1200, 60_000);
      assert.deepEqual(leases.map((l) => l.job.input.i), Array.from({ length: 1200 }, (_, i) => i));
      const now = Date.now();
      const results = await storage.settle(
        leases.map((l) => ({ kind: "succeed", pipeline: P, jobId: l.job.id, token: l.token, step: { jobType: "a", output: 1, attempts: 1, startedAt: now, finishedAt: now }, result: 1 })),
      );
      assert.equal(results.filter((r) => r === "ok").length, 1200);
      const stats = await storage.getStats(P);
      assert.equal(stats.succeeded, 1200);
      assert.equal(stats.steps.find((s) => s.jobType === "a")?.latency.count, 1200);
      await storage.close();
      assert.equal(client.status, "ready", "a client it was given stays open");
    } finally {
      await client.quit();
    }
  });

  it("computes lease expiry from the Redis clock", async () => {
    const storage = await open();
    await storage.enqueueJob({ pipeline: P, route: ["a"], instructions: {} });
    const [seconds, micros] = await admin.time();
    const serverNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const [lease] = await storage.leaseNext(P, "a", 1, 60_000);
    assert.ok(lease !== undefined);
    assert.ok(lease.expiresAt >= serverNow + 60_000 && lease.expiresAt < serverNow + 61_000, `${lease.expiresAt - serverNow}`);
  });
});
