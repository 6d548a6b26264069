/**
 * A step whose return value JSON cannot encode (a BigInt, a circular object) fails its attempt
 * with INVALID_OUTPUT (not retried: it would fail again) and the `mario step` worker keeps
 * serving. It once crashed the worker: the results encoder threw outside any promise.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { StepWorker } from "../../src/transport/step-worker.ts";
import { eventually } from "../support/eventually.ts";

for (const [label, output] of [
  ["a BigInt", () => ({ n: 1n })],
  ["a circular object", () => { const o: Record<string, unknown> = {}; o.self = o; return o; }],
] as const) {
  test(`a step returning ${label} fails its attempt instead of crashing the worker`, async (t) => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    // Without this listener a regression would kill the test process instead of failing the test.
    process.on("uncaughtException", onUncaught);
    t.after(() => process.off("uncaughtException", onUncaught));

    const storage = new MemoryStorageBackend();
    const server = new PipelineServer({
      pipelines: [{ name: "p", steps: ["bad"] }],
      storage,
      subBind: "tcp://127.0.0.1:0",
      jobPullBind: "tcp://127.0.0.1:0",
    });
    await server.start();
    t.after(() => server.stop());
    const worker = new StepWorker({
      executor: new InProcessExecutor({ jobType: "bad", handler: output, config: { retries: 3, backoff: { delayMs: 1 } } }),
      subConnect: server.subAddress,
      pullBind: "tcp://127.0.0.1:0",
      heartbeatMs: 100,
    });
    await worker.start();
    t.after(() => worker.stop({ graceMs: 0 }));

    const outcome = await server.dispatcher.enqueue("p", {});
    assert.equal(outcome.status, "created");
    const id = outcome.status === "created" ? outcome.job.id : "";
    await eventually(async () => uncaught.length > 0 || (await storage.getJob(id))?.status === "dead", {
      timeoutMs: 5000,
      message: "job neither dead nor crashed the worker",
    }).catch(() => {});
    assert.deepEqual(uncaught.map(String), [], "the worker threw an uncaught exception");
    const record = await storage.getJob(id);
    assert.equal(record?.status, "dead");
    assert.equal(record.error?.code, "INVALID_OUTPUT");
    assert.equal(record.attempts, 1, "not retried: the same output would fail again");
  });
}
