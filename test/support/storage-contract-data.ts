/**
 * The part of the storage contract about caller data: instructions, inputs, step outputs,
 * results, errors, progress and attempt records come back exactly as given (100 KB strings,
 * unicode, a 15-digit number, empty arrays and objects, nulls, floats) through every transition:
 * enqueue, lease, progress, retry, advance, release, dead, redrive, succeed, cancel; and a
 * listing, a page and a read by id see the same record. Run by storageContract
 * (test/support/storage-contract.ts) on every backend.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AttemptRecord, JobError, JobRecord } from "../../src/core/job.ts";
import type { Lease, StorageBackend, StorageOptions } from "../../src/storage/storage-backend.ts";
import { eventually } from "./eventually.ts";

const P = "contract-pipe";
const ROUTE = ["first", "second"];
const KB100 = "x".repeat(100 * 1024);

/** Caller data that a lossy encoding would change. */
function data(tag: string): Record<string, unknown> {
  return {
    tag,
    big: `${KB100}héllo "/\\ ✓ 😀 ${tag}`,
    n15: 123456789012345,
    big53: 2 ** 53 - 1,
    f: 0.1 + 0.2,
    list: [],
    nested: { empty: {}, arr: [[], [1, 2.5, -1e-7]], s: "\u0000\u001f\u2028" },
    nil: null,
  };
}

function attempt(lease: Lease, outcome: AttemptRecord["outcome"], logs = false): AttemptRecord {
  return {
    step: lease.job.step, stepIndex: lease.job.stepIndex, attempt: lease.attempt, outcome, workerId: "w-1", startedAt: 1, finishedAt: 2,
    ...(logs ? { logs: [{ t: 1, level: "info" as const, msg: "héllo ✓ 😀" }] } : {}),
  };
}

export function dataContract(name: string, open: (options?: StorageOptions) => Promise<StorageBackend>): void {
  describe(`storage contract (caller data): ${name}`, () => {
    it("keeps 100 KB caller data exactly through every transition, the same in a read, a listing and a page", async () => {
      const storage = await open();
      const instructions = data("in");
      const enqueued = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions });
      assert.ok(enqueued.status === "created");
      assert.deepEqual(enqueued.job.instructions, instructions);
      assert.deepEqual(enqueued.job.input, instructions);
      assert.deepEqual(enqueued.job.steps, []);
      const id = enqueued.job.id;
      const read = async (): Promise<JobRecord> => {
        const job = await storage.getJob(id);
        assert.ok(job !== undefined);
        return job;
      };
      const lease = async (step: string): Promise<Lease> => {
        let leased: Lease | undefined;
        await eventually(async () => (leased = (await storage.leaseNext(P, step, 1, 60_000))[0]) !== undefined, { message: `no lease at ${step}` });
        assert.ok(leased !== undefined);
        return leased;
      };

      // First attempt: progress, then a retry with an error and a logged attempt.
      let first = await lease("first");
      assert.deepEqual(first.job.input, instructions);
      await storage.setProgress({ pipeline: P, jobId: id, token: first.token }, 0.5, "half ✓");
      assert.deepEqual((await read()).progress, { fraction: 0.5, message: "half ✓" });
      const failed: JobError = { name: "Error", message: "näh 😀", code: "E_X", stack: `Error\n${"y".repeat(2000)}` };
      assert.equal((await storage.settle([{ kind: "retry", pipeline: P, jobId: id, token: first.token, error: failed, delayMs: 0, attempt: attempt(first, "failed", true) }]))[0], "ok");
      let job = await read();
      assert.deepEqual(job.error, failed);
      assert.deepEqual(job.history, [attempt(first, "failed", true)]);
      assert.deepEqual(job.instructions, instructions);

      // Second attempt: its lease carries the input, the last error and the logged attempt.
      first = await lease("first");
      assert.equal(first.attempt, 2);
      assert.deepEqual(first.job.input, instructions);
      assert.deepEqual(first.job.error, failed);
      assert.deepEqual(first.job.history?.map((a) => a.logs), [[{ t: 1, level: "info", msg: "héllo ✓ 😀" }]]);
      const output = data("out");
      const step = { jobType: "first", output, attempts: 2, startedAt: 3, finishedAt: 4 };
      assert.equal((await storage.settle([{ kind: "advance", pipeline: P, jobId: id, token: first.token, step, nextIndex: 1, input: output, attempt: attempt(first, "succeeded") }]))[0], "ok");
      job = await read();
      assert.deepEqual(job.input, output);
      assert.deepEqual(job.steps, [step]);
      assert.equal(job.error, undefined);
      assert.equal(job.progress, undefined);

      // Second step: a stall hands it back with its reason; then it dies.
      let second = await lease("second");
      assert.deepEqual(second.job.input, output);
      const lost: JobError = { name: "WorkerLostError", message: "gone ✓" };
      assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: id, token: second.token }], lost, "stall"), 1);
      assert.deepEqual((await read()).error, lost);
      second = await lease("second");
      const dead: JobError = { name: "Error", message: "dead 😀" };
      assert.equal((await storage.settle([{ kind: "dead", pipeline: P, jobId: id, token: second.token, error: dead, attempt: attempt(second, "dead") }]))[0], "ok");
      job = await read();
      assert.equal(job.status, "dead");
      assert.deepEqual(job.error, dead);
      assert.deepEqual(job.input, output);

      // Redriven with a new input, it succeeds with a 100 KB result.
      const fixed = data("fixed");
      assert.equal(await storage.redrive(id, { input: fixed }), true);
      second = await lease("second");
      assert.deepEqual(second.job.input, fixed);
      const result = data("result");
      const last = { jobType: "second", output: result, attempts: 1, startedAt: 5, finishedAt: 6 };
      assert.equal((await storage.settle([{ kind: "succeed", pipeline: P, jobId: id, token: second.token, step: last, result, attempt: attempt(second, "succeeded") }]))[0], "ok");
      job = await read();
      assert.equal(job.status, "succeeded");
      assert.deepEqual(job.instructions, instructions);
      assert.deepEqual(job.steps, [step, last]);
      assert.deepEqual(job.result, result);
      assert.deepEqual(job.progress, { fraction: 1 });
      assert.equal(job.error, undefined);
      assert.deepEqual(job.history?.map((a) => a.outcome), ["failed", "succeeded", "dead", "succeeded"]);

      // A listing, a page and a read by id all see the same record.
      const listed = (await storage.listJobs({ pipeline: P, limit: 1000 })).find((j) => j.id === id);
      assert.deepEqual(listed, job);
      const page = await storage.findJobs({ pipeline: P, idPrefix: id.slice(0, 8), limit: 1000 });
      assert.deepEqual(page.jobs.find((j) => j.id === id), job);
      assert.deepEqual(await storage.getJobs([id, "no-such-job"], P), [job, undefined]);
    });

    it("a cancelled job and an idempotent duplicate answer their caller data exactly", async () => {
      const storage = await open();
      const instructions = data("cancel");
      const enqueued = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions, idempotencyKey: `data-${Math.random()}` });
      assert.ok(enqueued.status === "created");
      const again = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: { other: true }, idempotencyKey: enqueued.job.idempotencyKey });
      assert.ok(again.status === "duplicate");
      assert.deepEqual(again.job, enqueued.job);
      const cancelled = await storage.cancel(enqueued.job.id);
      assert.ok(cancelled.status === "cancelled");
      assert.deepEqual(cancelled.job.instructions, instructions);
      assert.deepEqual(cancelled.job.input, instructions);
      assert.deepEqual(await storage.getJob(enqueued.job.id), cancelled.job);
    });
  });
}
