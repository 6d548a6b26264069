/**
 * Dispatcher.enqueue is enqueueMany of one without its arrays (the HTTP route's way in): the same
 * checks, the same typed refusals, the same storage-failure error, the same event. Memory storage
 * answers a created job with a record that shares nothing with what it stores.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Dispatcher } from "../../src/engine/dispatcher.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import type { EnqueueOutcome, EnqueueRequest } from "../../src/storage/storage-backend.ts";

class BrokenStorage extends MemoryStorageBackend {
  override async enqueueJobs(_requests: readonly EnqueueRequest[]): Promise<EnqueueOutcome[]> {
    throw new Error("socket closed (test)");
  }
}

const pipelines = [{ name: "p", steps: ["a", "b"] }];

/** A dispatcher that is never started (no timers, nothing dispatched): its front door only. */
async function dispatcherOn(storage: MemoryStorageBackend): Promise<Dispatcher> {
  await storage.initialize(pipelines);
  return new Dispatcher({ storage, pipelines });
}

describe("Dispatcher.enqueue", () => {
  it("refuses as enqueueMany does: unknown pipeline, not an object, bad key, bad delay, bad priority", async () => {
    const dispatcher = await dispatcherOn(new MemoryStorageBackend());
    const cases: [string, unknown, Record<string, unknown>, string][] = [
      ["ghost", {}, {}, "UNKNOWN_PIPELINE"],
      ["p", [1], {}, "INVALID_INSTRUCTIONS"],
      ["p", {}, { idempotencyKey: "has space" }, "INVALID_REQUEST"],
      ["p", {}, { delayMs: -1 }, "INVALID_DELAY"],
      ["p", {}, { priority: 12 }, "INVALID_PRIORITY"],
    ];
    for (const [pipeline, instructions, options, code] of cases) {
      const [many] = await dispatcher.enqueueMany([{ ...options, pipeline, instructions }]);
      assert.equal(many?.status, "refused");
      const expected = many?.status === "refused" ? many.error : undefined;
      await assert.rejects(dispatcher.enqueue(pipeline, instructions, options), (error: Error & { code?: string }) => {
        assert.equal(error.code, code, error.message);
        assert.equal(error.message, expected?.message);
        assert.equal(error.constructor, expected?.constructor);
        return true;
      });
    }
    assert.equal((await dispatcher.stats())[0]?.accepted, 0);
  });

  it("a storage failure is STORAGE_UNAVAILABLE 'storage failed: …', as for enqueueMany", async () => {
    const dispatcher = await dispatcherOn(new BrokenStorage());
    const [many] = await dispatcher.enqueueMany([{ pipeline: "p", instructions: {} }]);
    assert.equal(many?.status === "refused" && many.error.message, "storage failed: Error: socket closed (test)");
    await assert.rejects(dispatcher.enqueue("p", {}), { code: "STORAGE_UNAVAILABLE", message: "storage failed: Error: socket closed (test)" });
  });

  it("answers created, then duplicate for the same key; job:accepted is heard once, with the record", async () => {
    const dispatcher = await dispatcherOn(new MemoryStorageBackend());
    const heard: string[] = [];
    dispatcher.events.on("job:accepted", (job) => heard.push(`${job.id} ${job.status} ${job.step}`));
    const first = await dispatcher.enqueue("p", { n: 1 }, { idempotencyKey: "k-1", priority: 3 });
    assert.equal(first.status, "created");
    const again = await dispatcher.enqueue("p", { n: 2 }, { idempotencyKey: "k-1" });
    assert.equal(again.status, "duplicate");
    assert.equal(again.job.id, first.job.id);
    assert.deepEqual(again.job.instructions, { n: 1 });
    assert.equal(first.job.priority, 3);
    assert.deepEqual(heard, [`${first.job.id} queued a`]);
  });
});

describe("memory storage: a created job's answer", () => {
  it("shares nothing with the stored record, and the stored copy is not the caller's object", async () => {
    const storage = new MemoryStorageBackend();
    await storage.initialize(pipelines);
    const instructions = { list: [1, 2], nested: { x: "y" } };
    const outcome = await storage.enqueueJob({ pipeline: "p", route: ["a", "b"], instructions });
    assert.equal(outcome.status, "created");
    if (outcome.status !== "created") return;
    const job = outcome.job;
    assert.deepEqual(job.instructions, instructions);
    assert.deepEqual(job.input, instructions);
    assert.deepEqual({ route: job.route, steps: job.steps, status: job.status, step: job.step, stepIndex: job.stepIndex, attempts: job.attempts }, { route: ["a", "b"], steps: [], status: "queued", step: "a", stepIndex: 0, attempts: 0 });
    // Changing the answer, or the caller's object, changes nothing stored.
    job.route.push("c");
    job.steps.push({ jobType: "a", output: {}, attempts: 1, startedAt: 0, finishedAt: 0 });
    job.status = "dead";
    instructions.list.push(3);
    instructions.nested.x = "changed";
    (job.input as { extra?: boolean }).extra = true;
    const stored = await storage.getJob(job.id);
    assert.deepEqual(stored?.route, ["a", "b"]);
    assert.deepEqual(stored?.steps, []);
    assert.equal(stored?.status, "queued");
    assert.deepEqual(stored?.instructions, { list: [1, 2], nested: { x: "y" } });
    assert.deepEqual(stored?.input, { list: [1, 2], nested: { x: "y" } });
    const [lease] = await storage.leaseNext("p", "a", 1, 1000);
    assert.deepEqual(lease?.job.input, { list: [1, 2], nested: { x: "y" } });
  });
});
