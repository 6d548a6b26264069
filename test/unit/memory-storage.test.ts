import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { storageContract } from "../support/storage-contract.ts";

storageContract("memory", {
  create: async (options) => new MemoryStorageBackend(options),
  createWithClock: async (options) => {
    let now = Date.now();
    return { storage: new MemoryStorageBackend({ ...options, now: () => now }), advance: (ms) => (now += ms) };
  },
});

test("memory enqueueJobs is all or nothing: a request whose instructions cannot be copied writes no job of its batch", async () => {
  const storage = new MemoryStorageBackend();
  await storage.initialize([{ name: "p", steps: ["a"] }]);
  const request = (instructions: Record<string, unknown>) => ({ pipeline: "p", route: ["a"], instructions });
  await assert.rejects(storage.enqueueJobs([request({ n: 1 }), request({ f: () => 1 }), request({ n: 3 })]), { name: "DataCloneError" });
  const stats = await storage.getStats("p");
  assert.equal(stats.accepted, 0);
  assert.deepEqual(await storage.listJobs({ pipeline: "p" }), []);
});

test("memory: a delayed job comes due exactly at its time by the storage's clock (injected), not a millisecond before", async () => {
  let clock = 1_000_000;
  const storage = new MemoryStorageBackend({ now: () => clock });
  await storage.initialize([{ name: "p", steps: ["a"] }]);
  const outcome = await storage.enqueueJob({ pipeline: "p", route: ["a"], instructions: {}, delayMs: 2000 });
  assert.equal(outcome.status, "created");
  if (outcome.status !== "created") return;
  assert.equal(outcome.job.status, "delayed");
  assert.equal(outcome.job.runAt, 1_002_000);
  const absolute = await storage.enqueueJob({ pipeline: "p", route: ["a"], instructions: {}, runAt: 1_003_000 });
  assert.equal(absolute.status === "created" && absolute.job.runAt, 1_003_000);
  clock = 1_001_999;
  assert.deepEqual(await storage.leaseNext("p", "a", 10, 1000), []);
  clock = 1_002_000;
  const [lease, more] = await storage.leaseNext("p", "a", 10, 1000);
  assert.equal(lease?.job.id, outcome.job.id);
  assert.equal(more, undefined, "the one due later still waits");
  assert.equal(lease.job.startedAt! - lease.job.createdAt, 2000);
  assert.equal((await storage.getStats("p")).delayed, 1);
  clock = 1_003_000;
  assert.equal((await storage.leaseNext("p", "a", 10, 1000)).length, 1);
  assert.equal((await storage.getStats("p")).delayed, 0);
});
