/**
 * Stalls are not failures, and they have a limit: a job whose worker is lost with it in flight is
 * handed back as a stall (its attempt not counted), runs again at attempt 1, and goes dead with
 * STALLED only once it was handed back more often than its step's `maxStalls`. A worker that hands
 * a job back gracefully (`handBack`) counts neither. Both counts reach the job record (GET
 * /jobs/:id), /pipelines, /metrics and the dashboard's views. Real Dispatcher and memory storage;
 * the workers are in-process targets that keep what they are sent and never answer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveStepPolicy } from "../../src/core/step-config.ts";
import type { Delivery, DispatchTarget } from "../../src/engine/delivery.ts";
import { Dispatcher } from "../../src/engine/dispatcher.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { toJobSummary, toPipelineView } from "../../src/gateway/dashboard/_views.ts";
import { createGatewayApp } from "../../src/gateway/gateway-app.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";

/** A worker that takes one job and never answers; `delivered` resolves with what it was sent. */
function silentWorker(workerId: string): DispatchTarget & { delivered: Promise<Delivery> } {
  let resolve!: (d: Delivery) => void;
  const delivered = new Promise<Delivery>((r) => (resolve = r));
  return {
    workerId,
    jobType: "a",
    capacity: 1,
    delivered,
    send: async (deliveries) => resolve(deliveries[0]!),
  };
}

describe("stall limit (dispatcher + memory storage)", () => {
  it("a job handed back by lost workers runs again at attempt 1, and goes dead with STALLED past maxStalls", async (t) => {
    const maxStalls = 2;
    const dispatcher = new Dispatcher({ storage: new MemoryStorageBackend(), pipelines: [{ name: "p", steps: ["a"] }] });
    await dispatcher.start();
    t.after(() => dispatcher.close());
    const outcome = await dispatcher.enqueue("p", { n: 1 });
    assert.equal(outcome.status, "created");
    const id = outcome.job.id;

    // A graceful hand-back first (as a bye does: drain, hand back, leave): neither an attempt nor a stall.
    const polite = silentWorker("w-polite");
    dispatcher.addWorker(polite, resolveStepPolicy({ maxStalls }));
    assert.equal((await polite.delivered).jobId, id);
    dispatcher.drain(polite.workerId);
    await dispatcher.handBack(polite.workerId, [id]);
    await dispatcher.removeWorker(polite.workerId, "shutdown", "shut down");
    assert.deepEqual(pick(await dispatcher.get(id)), { status: "queued", attempts: 0, stalls: undefined });

    for (let stall = 1; stall <= maxStalls + 1; stall++) {
      const worker = silentWorker(`w-${stall}`);
      dispatcher.addWorker(worker, resolveStepPolicy({ maxStalls }));
      const delivery = await worker.delivered;
      assert.equal(delivery.jobId, id);
      assert.equal(delivery.attempt, 1, `run ${stall} is still attempt 1`);
      await dispatcher.removeWorker(worker.workerId, "lost", "gone");
      assert.deepEqual(pick(await dispatcher.get(id)), { status: "queued", attempts: 0, stalls: stall });
    }

    // One stall past the limit: the next lease kills it instead of delivering it.
    const last = silentWorker("w-last");
    const final = dispatcher.waitForFinal(id, { timeoutMs: 10_000 });
    dispatcher.addWorker(last, resolveStepPolicy({ maxStalls }));
    const record = await final;
    assert.equal(record?.status, "dead");
    assert.equal(record?.stalls, maxStalls + 1);
    assert.equal(record?.error?.name, "StalledError");
    assert.equal(record?.error?.code, "STALLED");
    assert.match(record?.error?.message ?? "", /handed back 3 times by lost or stopped workers \(maxStalls 2\); last: worker w-3 gone/);
    const stats = (await dispatcher.stats())[0]!.steps.find((s) => s.jobType === "a");
    assert.equal(stats?.stalled, maxStalls + 1, "the step counts every stall");
    assert.equal(stats?.dead, 1);

    // What users see: the record over HTTP, /pipelines, /metrics, the dashboard's views.
    const app = createGatewayApp(new DispatcherCluster(dispatcher));
    const overHttp = (await (await app.request(`/jobs/${id}`)).json()) as { status: string; attempts: number; stalls?: number };
    assert.deepEqual([overHttp.status, overHttp.stalls], ["dead", maxStalls + 1]);
    assert.equal(typeof overHttp.attempts, "number");
    const pipelines = JSON.stringify(await (await app.request("/pipelines")).json());
    assert.match(pipelines, new RegExp(`"stalled":${maxStalls + 1}`), "/pipelines shows the step's stalls");
    const metrics = await (await app.request("/metrics")).text();
    assert.match(metrics, new RegExp(`^mario_step_stalls_total\\{pipeline="p",step="a"\\} ${maxStalls + 1}$`, "m"));
    assert.equal(toJobSummary(record).stalls, maxStalls + 1, "the dashboard's job lists show the stalls");
    assert.equal(toPipelineView((await dispatcher.stats())[0]!).steps[0]!.stalled, maxStalls + 1, "and its step cards");
  });
});

function pick(record: { status: string; attempts: number; stalls?: number | undefined } | undefined): object {
  return { status: record?.status, attempts: record?.attempts, stalls: record?.stalls };
}
