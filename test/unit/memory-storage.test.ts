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

test("memory DueSet: earliest first, bounded by limit, a deleted member never comes due (what a cancel needs)", async () => {
  const { DueSet } = await import("../../src/storage/memory/due-set.ts");
  const due = new DueSet();
  for (let i = 0; i < 200; i++) due.add(`j${i}`, 1000 + ((i * 37) % 200));
  for (let i = 0; i < 200; i += 2) assert.equal(due.delete(`j${i}`), true);
  assert.equal(due.size, 100);
  assert.equal(due.has("j0"), false);
  const first = due.takeDue(1100, 10);
  assert.equal(first.length, 10);
  const all = [...first, ...due.takeDue(1199)];
  assert.ok(all.every((id) => Number(id.slice(1)) % 2 === 1), "no deleted member");
  const times = all.map((id) => 1000 + ((Number(id.slice(1)) * 37) % 200));
  assert.deepEqual(times, [...times].sort((a, b) => a - b), "earliest first");
  assert.equal(all.length, 100);
  assert.equal(due.size, 0);
});

test("memory StepQueue: length over every level, remove from any level, plain FIFO at priority 0", async () => {
  const { StepQueue } = await import("../../src/storage/memory/step-queue.ts");
  const queue = new StepQueue();
  const at = (): number => 0;
  queue.push("a");
  queue.push("b", 3);
  queue.push("c", 3);
  queue.unshift("d");
  assert.equal(queue.length, 4);
  assert.equal(queue.remove("b"), true);
  assert.equal(queue.remove("nope"), false);
  assert.equal(queue.length, 3);
  assert.deepEqual([queue.shift(at), queue.shift(at), queue.shift(at), queue.shift(at)], ["c", "d", "a", undefined]);
});
