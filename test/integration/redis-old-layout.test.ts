/**
 * A Redis holding jobs in the old layout (every job one JSON object in the `jobs` HASH, its
 * caller data as JSON text inside it, as Mario stored them before issue #16) keeps working:
 * such jobs are read, listed and paged as they are, a queued one runs to the end (the first
 * script that changes it moves its data to the new layout), and old jobs are forgotten whole
 * (retention, delete).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { RedisStorageBackend } from "../../src/storage/redis/redis-storage-backend.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const P = "old-pipe";
const NOW = 1_700_000_000_000;

/** A record as the old enqueue-6.lua / settle-8.lua wrote it: caller data as JSON text. */
function oldRecord(id: string, fields: Record<string, unknown>): string {
  return JSON.stringify({
    id, pipeline: P, route: ["a", "b"], stepIndex: 0, step: "a", status: "queued", attempts: 0,
    instructions: JSON.stringify({ old: id, list: [], n15: 123456789012345 }), input: JSON.stringify({ old: id, list: [], n15: 123456789012345 }),
    steps: "[]", createdAt: NOW, updatedAt: NOW, ...fields,
  });
}

describe("redis storage: jobs stored in the old layout", () => {
  let redis: RedisServer;
  let admin: Redis;
  let storage: RedisStorageBackend;
  let base = "";

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    const prefix = `t${randomBytes(6).toString("hex")}`;
    base = `${prefix}:spec:{${P}}`;
    // Two old jobs: one queued at its first step, one finished with steps, history and a result.
    const step = { jobType: "a", output: { mid: [] }, attempts: 1, startedAt: NOW, finishedAt: NOW + 1 };
    const attempt = { step: "a", stepIndex: 0, attempt: 1, outcome: "succeeded", startedAt: NOW, finishedAt: NOW + 1, logs: [{ t: NOW, level: "info", msg: "old ✓" }] };
    await admin.hset(`${base}:jobs`, "old-queued", oldRecord("old-queued", {}));
    await admin.hset(`${base}:jobs`, "old-done", oldRecord("old-done", {
      status: "succeeded", stepIndex: 1, step: "b", attempts: 1, steps: JSON.stringify([step, { ...step, jobType: "b" }]),
      history: JSON.stringify([attempt, { ...attempt, step: "b", stepIndex: 1 }]), result: JSON.stringify({ done: [] }), progress: JSON.stringify({ fraction: 1 }),
      startedAt: NOW, finishedAt: NOW + 2, idempotencyKey: "old-key",
    }));
    await admin.hset(`${base}:idem`, "old-key", "old-done");
    await admin.rpush(`${base}:queue:a`, "old-queued");
    await admin.zadd(`${base}:index`, 1, "old-done", 2, "old-queued");
    await admin.zadd(`${base}:finished`, NOW + 2, "old-done");
    await admin.hset(`${base}:counters`, { accepted: 2, unfinished: 1, succeeded: 1, seq: 2 });
    storage = new RedisStorageBackend("spec", { redisUri: redis.url, keyPrefix: prefix });
    await storage.connect();
    await storage.initialize([{ name: P, steps: ["a", "b"] }]);
  });
  after(async () => {
    await storage.close();
    admin.disconnect();
    await redis.destroy();
  });

  it("reads, lists and pages old jobs as they are", async () => {
    const done = await storage.getJob("old-done");
    assert.equal(done?.status, "succeeded");
    assert.deepEqual(done?.instructions, { old: "old-done", list: [], n15: 123456789012345 });
    assert.deepEqual(done?.result, { done: [] });
    assert.deepEqual(done?.steps.map((s) => [s.jobType, s.output]), [["a", { mid: [] }], ["b", { mid: [] }]]);
    assert.deepEqual(done?.history?.map((a) => a.logs?.[0]?.msg), ["old ✓", "old ✓"]);
    const listed = await storage.listJobs({ pipeline: P });
    assert.deepEqual(listed.map((j) => j.id), ["old-queued", "old-done"]);
    assert.deepEqual(listed[1], done);
    assert.deepEqual((await storage.findJobs({ pipeline: P, status: "succeeded" })).jobs, [done]);
    const duplicate = await storage.enqueueJob({ pipeline: P, route: ["a", "b"], instructions: {}, idempotencyKey: "old-key" });
    assert.ok(duplicate.status === "duplicate");
    assert.deepEqual(duplicate.job, done);
  });

  it("runs an old queued job to the end, in the new layout from its first lease on", async () => {
    const [lease] = await storage.leaseNext(P, "a", 1, 60_000);
    assert.equal(lease?.job.id, "old-queued");
    assert.deepEqual(lease.job.input, { old: "old-queued", list: [], n15: 123456789012345 });
    const moved = JSON.parse((await admin.hget(`${base}:jobs`, "old-queued"))!) as Record<string, unknown>;
    assert.equal(moved.instructions, undefined, "the record no longer holds caller data");
    assert.equal(await admin.hget(`${base}:jobs:old-queued`, "i"), JSON.stringify({ old: "old-queued", list: [], n15: 123456789012345 }));
    const step = { jobType: "a", output: { next: [] }, attempts: 1, startedAt: 1, finishedAt: 2 };
    assert.deepEqual(await storage.settle([{ kind: "advance", pipeline: P, jobId: "old-queued", token: lease.token, step, nextIndex: 1, input: { next: [] } }]), ["ok"]);
    const [second] = await storage.leaseNext(P, "b", 1, 60_000);
    assert.deepEqual(second?.job.input, { next: [] });
    const last = { jobType: "b", output: 7, attempts: 1, startedAt: 3, finishedAt: 4 };
    assert.deepEqual(await storage.settle([{ kind: "succeed", pipeline: P, jobId: "old-queued", token: second.token, step: last, result: 7 }]), ["ok"]);
    const job = await storage.getJob("old-queued");
    assert.equal(job?.status, "succeeded");
    assert.deepEqual(job?.instructions, { old: "old-queued", list: [], n15: 123456789012345 });
    assert.deepEqual(job?.steps, [step, last]);
    assert.equal(job?.result, 7);
  });

  it("forgets old jobs whole: by retention, and by delete", async () => {
    // Finished in 2023, past the retention age: the settlement above applied retention to it.
    assert.equal(await storage.getJob("old-done"), undefined);
    assert.equal(await admin.hexists(`${base}:jobs`, "old-done"), 0);
    assert.equal(await admin.hexists(`${base}:idem`, "old-key"), 0);
    assert.equal(await storage.deleteJob("old-queued"), "deleted");
    assert.equal(await admin.exists(`${base}:jobs:old-queued`), 0, "its caller data HASH is gone too");
  });
});
