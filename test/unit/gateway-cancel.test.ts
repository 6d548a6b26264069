/**
 * Cancel through the gateway over the real engine in process (LocalRunner + DispatcherCluster,
 * memory storage): a queued job is cancelled at once (200); a running one is stopped (202): its
 * `ctx.signal` aborts with a CancelledError and it ends cancelled, its attempt kept with outcome
 * `cancelled`; a handler that ignores the signal has its result discarded; a finished job is 409,
 * an unknown one 404, a missing token 401; a cancelled job can be redriven; the metric counts it;
 * a delayed job (`?delay`) is cancelled at once, never run.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { defineStep } from "../../src/dsl/define.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { createGatewayApp } from "../../src/gateway/gateway-app.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { eventually } from "../support/eventually.ts";

describe("gateway: POST /jobs/:id/cancel (in process)", () => {
  let runner: LocalRunner;
  let app: ReturnType<typeof createGatewayApp>;
  const reasons: unknown[] = [];
  const stuck: (() => void)[] = [];
  const started = new Set<string>();

  before(async () => {
    const steps = [
      // Waits for its signal: a cancel ends it with the signal's reason.
      defineStep("obedient", (_input, ctx) => new Promise((_resolve, reject) => {
        started.add(ctx.jobId);
        ctx.signal.addEventListener("abort", () => {
          reasons.push(ctx.signal.reason);
          reject(ctx.signal.reason as Error);
        });
      }), { retries: 3, concurrency: 1 }),
      // Ignores its signal, then returns: its result must be discarded.
      defineStep("stubborn", (input, ctx) => new Promise((resolve) => {
        started.add(ctx.jobId);
        stuck.push(() => resolve({ ...input, finished: true }));
      }), { retries: 0, concurrency: 1 }),
      defineStep("quick", (input) => input, { retries: 0 }),
    ];
    runner = new LocalRunner({ pipelines: [{ name: "two", steps: ["stubborn", "quick"] }], steps, storage: new MemoryStorageBackend(), reclaimIntervalMs: 50 });
    await runner.start();
    app = createGatewayApp(new DispatcherCluster(runner.dispatcher), { token: "s3cret" });
  });
  after(async () => {
    for (const release of stuck) release();
    await runner.stop(1000);
  });

  const auth = { authorization: "Bearer s3cret" };
  const cancel = (id: string, query = "") => app.request(`/jobs/${id}/cancel${query}`, { method: "POST", headers: auth });
  const job = async (id: string): Promise<JobRecord> => (await (await app.request(`/jobs/${id}`, { headers: auth })).json()) as JobRecord;

  it("cancels a queued job at once (200), stops a running one (202, then cancelled with its signal's CancelledError), and answers 409 once finished", async () => {
    const first = (await runner.enqueue("obedient", {})).job;
    await eventually(() => started.has(first.id), { message: "the first job did not start" });
    const second = (await runner.enqueue("obedient", {})).job;
    assert.equal((await job(second.id)).status, "queued", "concurrency 1: the second waits");

    const queued = await cancel(second.id);
    assert.equal(queued.status, 200);
    const cancelled = (await queued.json()) as JobRecord;
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.error?.code, "CANCELLED");

    const running = await cancel(first.id);
    assert.equal(running.status, 202);
    const body = (await running.json()) as JobRecord & { cancelRequested: boolean };
    assert.equal(body.status, "running");
    assert.equal(body.cancelRequested, true);
    assert.ok(body.cancelRequestedAt !== undefined);
    await eventually(async () => (await job(first.id)).status === "cancelled", { message: "the running job did not end cancelled" });
    const ended = await job(first.id);
    assert.deepEqual(ended.history?.map((a) => a.outcome), ["cancelled"]);
    assert.equal(ended.attempts, 1, "no retry after a cancel, though the step allows 3");
    assert.equal((reasons[0] as { code?: string }).code, "CANCELLED");
    assert.equal((reasons[0] as Error).name, "CancelledError");

    for (const id of [first.id, second.id]) {
      const again = await cancel(id);
      assert.equal(again.status, 409);
      assert.equal(((await again.json()) as { error: { code: string } }).error.code, "ALREADY_FINISHED");
    }
    const quickJob = (await runner.enqueue("quick", { a: 1 })).job;
    await runner.waitFor(quickJob.id, 5000);
    assert.equal((await cancel(quickJob.id)).status, 409, "a succeeded job");
  });

  it("discards the result of a handler that ignores its signal (in process it cannot be killed)", async () => {
    const held = (await runner.enqueue("two", { n: 1 })).job;
    await eventually(() => started.has(held.id));
    const answer = await cancel(held.id);
    assert.equal(answer.status, 202);
    // The cancel ends the attempt at once with the CancelledError; the handler's later result changes nothing.
    await eventually(async () => (await job(held.id)).status === "cancelled");
    stuck.shift()?.();
    const ended = await job(held.id);
    assert.equal(ended.stepIndex, 0, "never advanced to the next step");
    assert.deepEqual(ended.steps, []);
    assert.equal(ended.result, undefined);
  });

  it("redrives a cancelled job (POST /jobs/:id/retry), which then runs; ?wait waits for a running job's end; 404 for an unknown job, 401 without the token; metrics count it", async () => {
    const next = (await runner.enqueue("obedient", {})).job;
    await eventually(() => started.has(next.id));
    const blocked = (await runner.enqueue("obedient", { c: 3 })).job;
    assert.equal((await cancel(blocked.id)).status, 200);
    const retry = await app.request(`/jobs/${blocked.id}/retry`, { method: "POST", headers: auth });
    assert.equal(retry.status, 202);
    assert.equal((await job(blocked.id)).status, "queued");
    const waited = await cancel(next.id, "?wait=5000");
    assert.equal(waited.status, 200, "?wait: answered once the running job ended cancelled");
    assert.equal(((await waited.json()) as JobRecord).status, "cancelled");
    await eventually(async () => (await job(blocked.id)).status === "running", { message: "the redriven job did not run" });
    assert.equal((await cancel(blocked.id)).status, 202);
    await eventually(async () => (await job(blocked.id)).status === "cancelled");
    assert.deepEqual((await job(blocked.id)).history?.map((a) => a.outcome), ["cancelled"]);

    assert.equal((await cancel("00000000000000000000zz")).status, 404);
    assert.equal((await app.request(`/jobs/${next.id}/cancel`, { method: "POST" })).status, 401);
    const metrics = await (await app.request("/metrics", { headers: auth })).text();
    const line = metrics.split("\n").find((l) => l.startsWith('mario_jobs_cancelled_total{pipeline="obedient"}'));
    assert.equal(line, 'mario_jobs_cancelled_total{pipeline="obedient"} 5', "two queued, three running; a redriven one cancelled again counts again");
    const stats = (await runner.dispatcher.stats()).find((s) => s.pipeline === "obedient");
    assert.equal(stats?.cancelled, 4, "cancelled now: the redriven job counts once");
  });

  it("cancels a delayed job (enqueued with ?delay over HTTP) at once: 200, cancelled, no longer counted delayed, never run", async () => {
    const enqueued = await app.request("/pipelines/quick/jobs?delay=60000", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ d: 1 }) });
    assert.equal(enqueued.status, 202);
    const { id, status } = (await enqueued.json()) as { id: string; status: string };
    assert.equal(status, "delayed");
    const delayedBefore = (await runner.dispatcher.stats()).find((s) => s.pipeline === "quick")?.delayed;
    assert.equal(delayedBefore, 1);

    const answer = await cancel(id);
    assert.equal(answer.status, 200);
    const cancelled = (await answer.json()) as JobRecord;
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.startedAt, undefined, "it never ran");
    assert.equal(cancelled.history, undefined, "no attempt");
    const stats = (await runner.dispatcher.stats()).find((s) => s.pipeline === "quick");
    assert.equal(stats?.delayed, 0, "no longer counted delayed");
    assert.equal((await cancel(id)).status, 409, "cancelled is final");
  });
});
