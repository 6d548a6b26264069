/**
 * The part of the storage contract about seeing and fixing jobs: attempt history (with log lines)
 * kept on the job and only ever appended to, a redrive with new input, cursor paging with
 * filters and id-prefix lookup, forgetting a finished job, the queue-wait histogram. Run by
 * storageContract (test/support/storage-contract.ts) on every backend.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AttemptRecord, JobError, JobRecord } from "../../src/core/job.ts";
import type { Lease, StorageBackend, StorageOptions } from "../../src/storage/storage-backend.ts";

const P = "observe-pipe";
const ROUTE = ["first", "second"];
const boom: JobError = { name: "Error", message: "boom", code: "NON_RETRYABLE" };

function attemptOf(lease: Lease, outcome: AttemptRecord["outcome"], extra: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    step: lease.job.step,
    stepIndex: lease.job.stepIndex,
    attempt: lease.attempt,
    outcome,
    workerId: "w-1",
    host: "host-a",
    startedAt: lease.expiresAt - 60_000,
    finishedAt: lease.expiresAt - 59_990,
    logs: [{ t: 1, level: "info", msg: `attempt ${lease.attempt} of ${lease.job.step}` }],
    ...extra,
  };
}

export function observabilityContract(name: string, open: (options?: StorageOptions) => Promise<StorageBackend>): void {
  describe(`storage contract (history, logs, paging): ${name}`, () => {
    const start = async (options?: StorageOptions): Promise<StorageBackend> => {
      const storage = await open(options);
      await storage.initialize([
        { name: P, steps: ROUTE },
        { name: "observe-other", steps: ["first"] },
      ]);
      return storage;
    };
    const enqueue = async (storage: StorageBackend, pipeline = P, instructions: Record<string, unknown> = {}): Promise<JobRecord> => {
      const outcome = await storage.enqueueJob({ pipeline, route: pipeline === P ? ROUTE : ["first"], instructions });
      if (outcome.status === "busy") throw new Error("busy");
      return outcome.job;
    };
    const leaseOne = async (storage: StorageBackend, jobType: string, pipeline = P): Promise<Lease> => {
      const [lease] = await storage.leaseNext(pipeline, jobType, 1, 60_000, "w-1");
      assert.ok(lease, `a ${jobType} job to lease`);
      return lease;
    };

    it("keeps every attempt on the job, in order, with worker, host, times, outcome, error and log lines; a redrive appends", async () => {
      const storage = await start();
      const job = await enqueue(storage, P, { n: 1 });
      let lease = await leaseOne(storage, "first");
      assert.ok(lease.job.dueAt !== undefined && lease.job.dueAt <= Date.now() + 1000, "a lease says when the job became due");
      await storage.settle([{ kind: "retry", pipeline: P, jobId: job.id, token: lease.token, error: boom, delayMs: 0, attempt: attemptOf(lease, "failed", { error: boom }) }]);
      lease = await leaseOne(storage, "first");
      const step = { jobType: "first", output: { n: 2 }, attempts: 2, startedAt: 1, finishedAt: 2 };
      await storage.settle([{ kind: "advance", pipeline: P, jobId: job.id, token: lease.token, step, nextIndex: 1, input: { n: 2 }, attempt: attemptOf(lease, "succeeded") }]);
      lease = await leaseOne(storage, "second");
      await storage.settle([{ kind: "dead", pipeline: P, jobId: job.id, token: lease.token, error: boom, attempt: attemptOf(lease, "dead", { error: boom }) }]);
      const dead = await storage.getJob(job.id);
      assert.deepEqual(dead?.history?.map((a) => [a.step, a.attempt, a.outcome, a.workerId, a.host, a.error?.message ?? null]), [
        ["first", 1, "failed", "w-1", "host-a", "boom"],
        ["first", 2, "succeeded", "w-1", "host-a", null],
        ["second", 1, "dead", "w-1", "host-a", "boom"],
      ]);
      assert.deepEqual(dead?.history?.[0]?.logs, [{ t: 1, level: "info", msg: "attempt 1 of first" }]);
      // A redrive with new input requeues at the step it died, and adds to the history.
      assert.equal(await storage.redrive(job.id, { input: { n: 3, fixed: true } }), true);
      const redriven = await storage.getJob(job.id);
      assert.equal(redriven?.status, "queued");
      assert.deepEqual(redriven?.input, { n: 3, fixed: true });
      assert.deepEqual(redriven?.instructions, { n: 1 }, "the job's own instructions are kept as they were");
      lease = await leaseOne(storage, "second");
      assert.deepEqual(lease.job.input, { n: 3, fixed: true });
      assert.equal(lease.attempt, 1);
      await storage.settle([{ kind: "succeed", pipeline: P, jobId: job.id, token: lease.token, step: { jobType: "second", output: { ok: 1 }, attempts: 1, startedAt: 3, finishedAt: 4 }, result: { ok: 1 }, attempt: attemptOf(lease, "succeeded") }]);
      const done = await storage.getJob(job.id);
      assert.equal(done?.history?.length, 4, "the history grew; nothing was rewritten");
      assert.deepEqual(done?.history?.slice(0, 3), dead?.history);
    });

    it("observes the wait from due to start in a histogram per step", async () => {
      const storage = await start();
      const job = await enqueue(storage);
      const lease = await leaseOne(storage, "first");
      const attempt = attemptOf(lease, "failed", { dueAt: 1_000, startedAt: 1_250, finishedAt: 1_300 });
      await storage.settle([{ kind: "retry", pipeline: P, jobId: job.id, token: lease.token, error: boom, delayMs: 60_000, attempt }]);
      const wait = (await storage.getStats(P)).steps.find((s) => s.jobType === "first")?.queueWait;
      assert.equal(wait?.count, 1);
      assert.equal(wait?.sumMs, 250);
    });

    it("pages through every job newest first with a cursor, each exactly once, and filters", async () => {
      const storage = await start();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await enqueue(storage, i % 2 === 0 ? P : "observe-other", { i })).id);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const answer = await storage.findJobs({ limit: 3, cursor });
        seen.push(...answer.jobs.map((j) => j.id));
        assert.ok(answer.jobs.length <= 3);
        cursor = answer.next;
        if (cursor === undefined) break;
      }
      // Newest first: by acceptance time, then (within one millisecond) by id.
      const records = (await storage.getJobs(ids)).map((j) => j!);
      const order = (list: JobRecord[]): string[] => [...list].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((j) => j.id);
      assert.deepEqual(seen, order(records), "newest first, every job once");
      const mine = await storage.findJobs({ pipeline: P, limit: 100 });
      assert.deepEqual(mine.jobs.map((j) => j.id), order(records.filter((j) => j.pipeline === P)));
      assert.equal(mine.next, undefined);
      // Status and step.
      const lease = await leaseOne(storage, "first");
      await storage.settle([{ kind: "dead", pipeline: P, jobId: lease.job.id, token: lease.token, error: boom }]);
      assert.deepEqual((await storage.findJobs({ status: "dead" })).jobs.map((j) => j.id), [lease.job.id]);
      assert.deepEqual((await storage.findJobs({ step: "second" })).jobs, []);
      assert.equal((await storage.findJobs({ step: "first", pipeline: P })).jobs.length, 4);
      // Id prefix: one job by the first characters of its id.
      const target = ids[3]!;
      const byPrefix = await storage.findJobs({ idPrefix: target.slice(0, 18) });
      assert.deepEqual(byPrefix.jobs.map((j) => j.id), [target]);
      // Time range (createdAt, inclusive).
      const third = (await storage.getJob(ids[2]!))!;
      const until = await storage.findJobs({ until: third.createdAt, limit: 100 });
      assert.ok(until.jobs.every((j) => j.createdAt <= third.createdAt));
      assert.ok(until.jobs.some((j) => j.id === ids[0]));
      const since = await storage.findJobs({ since: Date.now() + 60_000 });
      assert.deepEqual(since.jobs, []);
    });

    it("forgets a finished job on request, and refuses to forget an unfinished one", async () => {
      const storage = await start();
      const job = await enqueue(storage, "observe-other");
      assert.equal(await storage.deleteJob(job.id), "not-finished");
      const lease = await leaseOne(storage, "first", "observe-other");
      assert.equal(await storage.deleteJob(job.id), "not-finished");
      await storage.settle([{ kind: "dead", pipeline: "observe-other", jobId: job.id, token: lease.token, error: boom }]);
      const deadBefore = (await storage.getStats("observe-other")).dead;
      assert.equal(await storage.deleteJob(job.id), "deleted");
      assert.equal(await storage.getJob(job.id), undefined);
      assert.equal(await storage.deleteJob(job.id), "missing");
      assert.deepEqual((await storage.findJobs({ pipeline: "observe-other" })).jobs, []);
      assert.equal((await storage.getStats("observe-other")).dead, deadBefore - 1, "a forgotten dead job is no longer counted as dead now");
    });
  });
}
