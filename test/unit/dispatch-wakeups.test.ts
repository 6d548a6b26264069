/**
 * The dispatcher's wake-ups: how often it asks storage for work. A lease that comes back short
 * emptied its queue, so the pass ends there; a settlement that leaves nothing to lease (a job that
 * succeeded or is dead at a step without limits) asks for nothing. And the wake-ups that are
 * needed still come: a next step, a retry, a job held back for its key. The storage poll is set
 * to a minute here, so only the engine's own wake-ups can move a job in these tests.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Instructions } from "../../src/core/job.ts";
import { resolveStepLimits } from "../../src/core/step-limits.ts";
import { defineStep } from "../../src/dsl/define.ts";
import { Dispatcher } from "../../src/engine/dispatcher.ts";
import { LocalWorker } from "../../src/engine/local-worker.ts";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import type { StepDefinition } from "../../src/engine/step-definition.ts";
import type { PipelineDefinition } from "../../src/core/pipeline-definition.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import type { Lease, LeaseLimits } from "../../src/storage/storage-backend.ts";

/** Memory storage that counts `leaseNext` calls, and how many of them came back empty. */
class CountingStorage extends MemoryStorageBackend {
  leaseCalls = 0;
  emptyLeases = 0;

  override async leaseNext(pipeline: string, jobType: string, count: number, leaseMs: number, workerId?: string, limits?: LeaseLimits): Promise<Lease[]> {
    this.leaseCalls++;
    const leases = await super.leaseNext(pipeline, jobType, count, leaseMs, workerId, limits);
    if (leases.length === 0) this.emptyLeases++;
    return leases;
  }
}

/** A dispatcher with one in-process worker per step, polling storage only once a minute. */
async function start(t: { after: (fn: () => Promise<void>) => void }, pipelines: PipelineDefinition[], steps: StepDefinition[]) {
  const storage = new CountingStorage();
  const dispatcher = new Dispatcher({ storage, pipelines, pollIntervalMs: 60_000, reclaimIntervalMs: 60_000 });
  const workers: LocalWorker[] = [];
  await dispatcher.start();
  t.after(async () => {
    await dispatcher.pause();
    for (const worker of workers) await dispatcher.removeWorker(worker.workerId, "shutdown", "stopped");
    await Promise.all(workers.map((w) => w.stop()));
    await dispatcher.close();
  });
  for (const step of steps) {
    const executor = new InProcessExecutor(step);
    const worker = new LocalWorker({ executor, dispatcher, logger: silentLogger });
    workers.push(worker);
    const limits = resolveStepLimits(step.config as Record<string, unknown> | undefined, step.jobType);
    dispatcher.addWorker(worker, limits === undefined ? executor.policy : { ...executor.policy, limits });
  }
  const enqueue = async (pipeline: string, instructions: Instructions): Promise<string> => {
    const outcome = await dispatcher.enqueue(pipeline, instructions);
    assert.ok(outcome.status === "created", `enqueued: ${outcome.status}`);
    return outcome.job.id;
  };
  const final = async (id: string) => {
    const record = await dispatcher.waitForFinal(id, { timeoutMs: 10_000 });
    assert.ok(record !== undefined, "the job ended within 10 s");
    return record;
  };
  const run = async (pipeline: string, instructions: Instructions) => final(await enqueue(pipeline, instructions));
  return { storage, dispatcher, run, enqueue, final };
}

const echo = (name: string, config = {}) => defineStep(name, (input: Instructions) => ({ ...input, [name]: true }), { concurrency: 4, ...config });

describe("dispatcher wake-ups", () => {
  it("one job of one step costs two lease calls: the one that leases it, and one when its worker is free again", async (t) => {
    const a = echo("a");
    const { storage, run } = await start(t, [{ name: "p", steps: ["a"] }], [a]);
    const before = storage.leaseCalls;
    const emptyBefore = storage.emptyLeases;
    const done = await run("p", { n: 1 });
    assert.equal(done.status, "succeeded");
    // It was four: a second round after the short lease, and two more after the result (a kick
    // before the settle and one after it, besides the one when the result was reported).
    assert.equal(storage.leaseCalls - before, 2, `lease calls for one job: ${storage.leaseCalls - before}`);
    assert.equal(storage.emptyLeases - emptyBefore, 1);
  });

  it("a next step is leased at once after its settlement, without the storage poll", async (t) => {
    const { storage, run } = await start(t, [{ name: "p", steps: ["a", "b", "c"] }], [echo("a"), echo("b"), echo("c")]);
    const done = await run("p", { n: 1 });
    assert.equal(done.status, "succeeded");
    assert.deepEqual(done.result, { n: 1, a: true, b: true, c: true });
    assert.ok(storage.leaseCalls >= 3);
  });

  it("a retry with no backoff runs again without the storage poll", async (t) => {
    let calls = 0;
    const flaky = defineStep(
      "flaky",
      () => {
        calls++;
        if (calls === 1) throw new Error("first attempt fails");
        return { ok: true };
      },
      { retries: 1, backoff: { delayMs: 0, jitter: 0 } },
    );
    const { run } = await start(t, [{ name: "flaky", steps: ["flaky"] }], [flaky]);
    const done = await run("flaky", {});
    assert.equal(done.status, "succeeded");
    assert.equal(done.attempts, 2);
  });

  it("a job held back for its key goes once the job holding the key is settled, without the storage poll", async (t) => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const order: number[] = [];
    const keyed = defineStep(
      "keyed",
      async (input: Instructions) => {
        order.push(Number(input.n));
        if (input.n === 1) await gate;
        return { n: input.n };
      },
      { concurrency: 4, concurrencyKey: "tenant" },
    );
    const { dispatcher, enqueue, final } = await start(t, [{ name: "keyed", steps: ["keyed"] }], [keyed]);
    const first = await enqueue("keyed", { n: 1, tenant: "t1" });
    const second = await enqueue("keyed", { n: 2, tenant: "t1" });
    // The first runs (and holds the key); the second waits for it.
    for (let turn = 0; turn < 10_000 && order.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [1]);
    assert.equal((await dispatcher.get(second))?.status, "queued");
    release();
    const [a, b] = await Promise.all([final(first), final(second)]);
    assert.equal(a.status, "succeeded");
    assert.equal(b.status, "succeeded");
    assert.deepEqual(order, [1, 2]);
  });
});
