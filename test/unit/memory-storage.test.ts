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
