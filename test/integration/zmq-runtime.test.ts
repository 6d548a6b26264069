/**
 * The distributed runtime in one process over real sockets: pipeline server, step workers and
 * client; load sharing, late workers, lost workers, graceful worker shutdown.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JobSummary } from "../../src/core/job-summary.ts";
import { eventually } from "../support/eventually.ts";
import { RawWorker } from "../support/raw-worker.ts";
import { Cluster, sleep } from "./zmq-fixture.ts";

const generate = { jobType: "generate", handler: ({ size }: Record<string, unknown>) => ({ path: `/tmp/x-${String(size)}`, size }) };
const remove = { jobType: "remove", handler: ({ path, ...rest }: Record<string, unknown>) => ({ ...rest, deleted_path: path }) };

describe("pipeline server + step workers + client", () => {
  it("runs a two-step pipeline end to end and keeps each step's output", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "example", steps: ["generate", "remove"] }]);
    await cluster.startWorker(generate);
    await cluster.startWorker(remove);
    const client = await cluster.client();
    const [ok, job] = await client.enqueueJob({ name: "example", instructions: { size: 10 } });
    assert.ok(ok, JSON.stringify(job));
    assert.equal(job.status, "queued");
    const final = await client.waitFor(job.id, { timeoutMs: 5000 });
    assert.equal(final.status, "succeeded");
    assert.deepEqual(final.result, { size: 10, deleted_path: "/tmp/x-10" });
    assert.deepEqual(final.steps.map((s) => s.jobType), ["generate", "remove"]);
  });

  it("shares the load between two workers of one type, each within its capacity", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "slow", steps: ["slow"] }]);
    let running = 0;
    let maxRunning = 0;
    const slow = {
      jobType: "slow",
      config: { concurrency: 2 },
      handler: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(30);
        running--;
        return { done: true };
      },
    };
    const a = await cluster.startWorker(slow);
    const b = await cluster.startWorker(slow);
    await eventually(() => cluster.server!.workerIds().length === 2, { message: "both workers announced" });
    const client = await cluster.client();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const [ok, job] = await client.enqueueJob({ name: "slow", instructions: { i } });
      assert.ok(ok);
      ids.push(job.id);
    }
    const finals = await Promise.all(ids.map((id) => client.waitFor(id, { timeoutMs: 10_000 })));
    const byWorker = new Map<string, number>();
    for (const job of finals) {
      assert.equal(job.status, "succeeded");
      const worker = job.steps[0]!.workerId!;
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
    }
    assert.ok((byWorker.get(a.workerId) ?? 0) >= 3, `worker a ran ${byWorker.get(a.workerId)}`);
    assert.ok((byWorker.get(b.workerId) ?? 0) >= 3, `worker b ran ${byWorker.get(b.workerId)}`);
    assert.ok(maxRunning <= 4, `at most 2 per worker ran at once, saw ${maxRunning}`);
  });

  it("gives a job enqueued before any worker existed to the worker that starts later", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "example", steps: ["generate"] }]);
    const client = await cluster.client();
    const [ok, job] = await client.enqueueJob({ name: "example", instructions: { size: 3 } });
    assert.ok(ok);
    await sleep(100);
    assert.equal((await cluster.storage.getJob(job.id))?.status, "queued");
    await cluster.startWorker(generate);
    const final = await client.waitFor(job.id, { timeoutMs: 5000 });
    assert.equal(final.status, "succeeded");
  });

  it("keeps a worker that is silent but connected (busy), and drops it once its link goes down: its job runs again, a stall, not an attempt", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer([{ name: "example", steps: ["generate"] }], { heartbeatTimeoutMs: 300 });
    // A fake worker: registers, takes jobs on its ROUTER, never answers, then goes silent.
    const zombie = new RawWorker({ jobType: "generate", workerId: "zombie" });
    cluster.defer(() => zombie.close());
    await zombie.start(server.subAddress);
    await zombie.register(server, { capacity: 5, policy: { timeoutMs: 20_000, retries: 2, backoff: {} } });
    zombie.heartbeat(50, { capacity: 5 });
    const client = await cluster.client();
    const [ok, job] = await client.enqueueJob({ name: "example", instructions: { size: 1 } });
    assert.ok(ok);
    await eventually(() => zombie.received.has(job.id), { message: "the zombie got the job" });
    zombie.stopHeartbeat();
    // Silent far past its heartbeat timeout, but its link is up (libzmq answers the heartbeats):
    // busy, not dead. Its job waits for it. (A wait for time to pass, as the point is that nothing happens.)
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(server.workerIds().includes("zombie"), "a connected worker is not dropped for silence");
    // Its process goes away: the link goes down, the worker is dropped.
    zombie.router.close();
    await eventually(() => !server.workerIds().includes("zombie"), { timeoutMs: 5000, message: "zombie dropped" });
    assert.equal((await cluster.storage.listWorkers()).some((w) => w.workerId === "zombie"), false);
    const handedBack = await cluster.storage.getJob(job.id);
    assert.equal(handedBack?.status, "queued");
    assert.equal(handedBack.attempts, 0, "a stall is not an attempt");
    assert.equal(handedBack.stalls, 1);
    await cluster.startWorker(generate);
    // Well inside the 30 s lease: the job was handed back, not left to expire.
    const final = await client.waitFor(job.id, { timeoutMs: 5000 });
    assert.equal(final.status, "succeeded");
    assert.equal(final.steps[0]!.attempts, 1, "the lost worker's attempt does not count");
    assert.equal(final.stalls, 1);
  });

  it("on stop, finishes running jobs within the grace period and hands the rest back without waiting for leases", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "mixed", steps: ["mixed"] }]);
    const mixed = {
      jobType: "mixed",
      config: { concurrency: 4, timeoutMs: 20_000 },
      handler: async ({ ms }: Record<string, unknown>, ctx: { signal: AbortSignal }) => {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, Number(ms));
          ctx.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
        });
        return { slept: ms };
      },
    };
    const first = await cluster.startWorker(mixed);
    const client = await cluster.client();
    const jobs: JobSummary[] = [];
    for (const ms of [100, 100, 5000, 5000]) {
      const [ok, job] = await client.enqueueJob({ name: "mixed", instructions: { ms } });
      assert.ok(ok);
      jobs.push(job);
    }
    await eventually(async () => (await cluster.storage.getStats("mixed")).running === 4, { message: "all four running" });
    const stopStarted = Date.now();
    await first.stop({ graceMs: 400 });
    assert.ok(Date.now() - stopStarted < 3000, "stop is bounded by the grace period");
    const quick = await Promise.all(jobs.slice(0, 2).map((j) => cluster.storage.getJob(j.id)));
    for (const job of quick) assert.equal(job?.status, "succeeded", "short jobs finished during the grace period");
    // The final bye reaches the server just after stop() returns: the hand-back is that quick,
    // far below the 30 s lease.
    await eventually(
      async () => (await Promise.all(jobs.slice(2).map((j) => cluster.storage.getJob(j.id)))).every((j) => j?.status === "queued"),
      { timeoutMs: 1000, message: "long jobs were handed back at once" },
    );
    const second = await cluster.startWorker({ ...mixed, handler: async () => ({ second: true }) });
    for (const job of jobs.slice(2)) {
      const final = await client.waitFor(job.id, { timeoutMs: 5000 });
      assert.equal(final.status, "succeeded");
      assert.equal(final.steps[0]!.workerId, second.workerId);
      assert.equal(final.steps[0]!.attempts, 1, "a handed-back attempt does not count");
    }
  });
});
