/**
 * The part of the storage contract about cancel: a queued or retry-waiting job is cancelled at
 * once (out of its queue, counters kept: accepted = succeeded + dead + cancelled + queued +
 * delayed + running + failed); a running one is marked and ends cancelled however its lease ends
 * (a result, a failure, a stall, an untried hand-back, an expired lease), never queued again; a
 * finished one answers `final`; cancelled is final (waiters stop, it can be forgotten) and can be
 * redriven. Run by storageContract (test/support/storage-contract.ts) on every backend.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AttemptRecord, JobError, JobRecord } from "../../src/core/job.ts";
import type { Lease, PipelineStats, Settlement, StorageBackend, StorageOptions } from "../../src/storage/storage-backend.ts";
import { eventually } from "./eventually.ts";

const P = "cancel-pipe";
const ROUTE = ["first", "second"];
const boom: JobError = { name: "Error", message: "boom" };

function attemptOf(lease: Lease, outcome: AttemptRecord["outcome"]): AttemptRecord {
  return { step: lease.job.step, stepIndex: lease.job.stepIndex, attempt: lease.attempt, outcome, workerId: "w-1", startedAt: 1, finishedAt: 2 };
}

/** The counters invariant, and nothing left over of a job that is no longer unfinished. */
function assertBalanced(stats: PipelineStats): void {
  const delayed = (stats as { delayed?: number }).delayed ?? 0;
  assert.equal(stats.accepted, stats.succeeded + stats.dead + (stats.cancelled ?? 0) + stats.queued + delayed + stats.running + stats.failed, JSON.stringify(stats));
}

export function cancelContract(name: string, open: (options?: StorageOptions) => Promise<StorageBackend>): void {
  describe(`storage contract (cancel): ${name}`, () => {
    const start = async (options?: StorageOptions): Promise<StorageBackend> => {
      const storage = await open(options);
      await storage.initialize([{ name: P, steps: ROUTE }]);
      return storage;
    };
    const enqueue = async (storage: StorageBackend, instructions: Record<string, unknown> = {}): Promise<JobRecord> => {
      const outcome = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions });
      if (outcome.status === "busy") throw new Error("busy");
      return outcome.job;
    };
    const leaseOne = async (storage: StorageBackend, jobType = "first", leaseMs = 60_000): Promise<Lease> => {
      const [lease] = await storage.leaseNext(P, jobType, 1, leaseMs, "w-1");
      assert.ok(lease, `a ${jobType} job to lease`);
      return lease;
    };

    it("cancels a queued job at once: out of its queue, final, counted, and never leased", async () => {
      const storage = await start();
      const kept = await enqueue(storage, { n: 1 });
      const job = await enqueue(storage, { n: 2 });
      const answer = await storage.cancel(job.id);
      assert.equal(answer.status, "cancelled");
      assert.equal(answer.job.status, "cancelled");
      assert.equal(answer.job.error?.code, "CANCELLED");
      assert.ok(answer.job.finishedAt !== undefined);
      const stats = await storage.getStats(P);
      assert.equal(stats.cancelled, 1);
      assert.equal(stats.queued, 1);
      assert.equal(stats.steps.find((s) => s.jobType === "first")?.cancelled, 1);
      assertBalanced(stats);
      const leases = await storage.leaseNext(P, "first", 10, 60_000);
      assert.deepEqual(leases.map((l) => l.job.id), [kept.id]);
      assert.deepEqual(await storage.finalOrGone(P, [job.id, kept.id]), [true, false]);
      assert.equal((await storage.getJob(job.id))?.status, "cancelled");
      const found = await storage.findJobs({ pipeline: P, status: "cancelled" });
      assert.deepEqual(found.jobs.map((j) => j.id), [job.id]);
    });

    it("cancels a job waiting for a retry at once: it is never promoted", async () => {
      const storage = await start();
      const job = await enqueue(storage);
      const lease = await leaseOne(storage);
      await storage.settle([{ kind: "retry", pipeline: P, jobId: job.id, token: lease.token, error: boom, delayMs: 0 }]);
      assert.equal((await storage.getStats(P)).failed, 1);
      const answer = await storage.cancel(job.id);
      assert.equal(answer.status, "cancelled");
      const stats = await storage.getStats(P);
      assert.equal(stats.failed, 0);
      assert.equal(stats.steps.find((s) => s.jobType === "first")?.delayed, 0);
      assertBalanced(stats);
      assert.deepEqual(await storage.leaseNext(P, "first", 10, 60_000), []);
      assert.equal((await storage.getJob(job.id))?.status, "cancelled");
    });

    it("cancels a delayed job at once (and one queued at a priority): never promoted nor leased, counters kept", async () => {
      const storage = await open();
      await storage.initialize([{ name: P, steps: ROUTE }]);
      const delayed = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: {}, delayMs: 50 });
      const urgent = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: {}, priority: 9 });
      assert.ok(delayed.status === "created" && urgent.status === "created");
      assert.equal(delayed.job.status, "delayed");
      assert.equal((await storage.getStats(P) as { delayed?: number }).delayed, 1);
      for (const job of [delayed.job, urgent.job]) assert.equal((await storage.cancel(job.id)).status, "cancelled");
      const stats = await storage.getStats(P);
      assert.equal((stats as { delayed?: number }).delayed ?? 0, 0);
      assert.equal(stats.queued, 0);
      assert.equal(stats.cancelled, 2);
      assertBalanced(stats);
      let polls = 0;
      await eventually(async () => {
        assert.deepEqual(await storage.leaseNext(P, "first", 10, 60_000), []);
        return ++polls >= 5 && Date.now() - delayed.job.createdAt > 100;
      }, { timeoutMs: 5000, intervalMs: 30 });
      assert.equal((await storage.getJob(delayed.job.id))?.status, "cancelled", "past its start time, still cancelled");
    });

    it("answers final for a succeeded, dead or cancelled job, and missing for an unknown one; nothing changes", async () => {
      const storage = await start();
      const dead = await enqueue(storage);
      let lease = await leaseOne(storage);
      await storage.settle([{ kind: "dead", pipeline: P, jobId: dead.id, token: lease.token, error: boom }]);
      const done = await enqueue(storage);
      lease = await leaseOne(storage);
      await storage.settle([{ kind: "succeed", pipeline: P, jobId: done.id, token: lease.token, step: { jobType: "first", output: { ok: 1 }, attempts: 1, startedAt: 1, finishedAt: 2 }, result: { ok: 1 } }]);
      const cancelled = await enqueue(storage);
      assert.equal((await storage.cancel(cancelled.id)).status, "cancelled");
      for (const [job, status] of [[dead, "dead"], [done, "succeeded"], [cancelled, "cancelled"]] as const) {
        const answer = await storage.cancel(job.id);
        assert.equal(answer.status, "final");
        assert.equal(answer.job.status, status);
      }
      assert.deepEqual(await storage.cancel("00000000000000000000zz"), { status: "missing" });
      const stats = await storage.getStats(P);
      assert.equal(stats.cancelled, 1);
      assert.equal(stats.dead, 1);
      assert.equal(stats.succeeded, 1);
      assertBalanced(stats);
    });

    it("marks a running job (cancelRequestedAt, its worker named); asking again changes nothing; the lease holder can read it", async () => {
      const storage = await start();
      const job = await enqueue(storage);
      const other = await enqueue(storage);
      const lease = await leaseOne(storage);
      const otherLease = await leaseOne(storage);
      assert.deepEqual(await storage.cancelRequested(P, [job.id, other.id]), []);
      const answer = await storage.cancel(job.id);
      assert.equal(answer.status, "cancelling");
      assert.equal(answer.job.status, "running");
      assert.equal(answer.job.workerId, "w-1");
      const at = answer.job.cancelRequestedAt;
      assert.ok(at !== undefined && at > 0);
      const again = await storage.cancel(job.id);
      assert.equal(again.status, "cancelling");
      assert.equal(again.job.cancelRequestedAt, at);
      assert.deepEqual(await storage.cancelRequested(P, [job.id, other.id]), [job.id]);
      const stats = await storage.getStats(P);
      assert.equal(stats.running, 2);
      assert.equal(stats.cancelled ?? 0, 0);
      assertBalanced(stats);
      // Its lease ends: it is cancelled; the other is not touched.
      await storage.settle([{ kind: "dead", pipeline: P, jobId: other.id, token: otherLease.token, error: boom }]);
      await storage.releaseLeases([{ pipeline: P, jobId: job.id, token: lease.token }], boom, "untried");
      assert.deepEqual(await storage.cancelRequested(P, [job.id, other.id]), []);
      assert.equal((await storage.getJob(other.id))?.status, "dead");
    });

    const endings: { how: string; end: (storage: StorageBackend, lease: Lease) => Promise<void>; attempt?: AttemptRecord["outcome"] }[] = [
      {
        how: "its result arrives (success, advance): discarded",
        attempt: "cancelled",
        end: async (storage, lease) => {
          const step = { jobType: "first", output: { n: 2 }, attempts: 1, startedAt: 1, finishedAt: 2 };
          const settlement: Settlement = { kind: "advance", pipeline: P, jobId: lease.job.id, token: lease.token, step, nextIndex: 1, input: { n: 2 }, attempt: attemptOf(lease, "succeeded") };
          assert.deepEqual(await storage.settle([settlement]), ["cancelled"]);
        },
      },
      {
        how: "its last step's result arrives (succeed): discarded",
        attempt: "cancelled",
        end: async (storage, lease) => {
          const step = { jobType: "first", output: { n: 2 }, attempts: 1, startedAt: 1, finishedAt: 2 };
          assert.deepEqual(await storage.settle([{ kind: "succeed", pipeline: P, jobId: lease.job.id, token: lease.token, step, result: { n: 2 }, attempt: attemptOf(lease, "succeeded") }]), ["cancelled"]);
        },
      },
      {
        how: "its attempt fails (a retry would follow)",
        attempt: "cancelled",
        end: async (storage, lease) => {
          assert.deepEqual(await storage.settle([{ kind: "retry", pipeline: P, jobId: lease.job.id, token: lease.token, error: boom, delayMs: 0, attempt: attemptOf(lease, "failed") }]), ["cancelled"]);
        },
      },
      {
        how: "its attempt fails for good (dead)",
        attempt: "cancelled",
        end: async (storage, lease) => {
          assert.deepEqual(await storage.settle([{ kind: "dead", pipeline: P, jobId: lease.job.id, token: lease.token, error: boom, attempt: attemptOf(lease, "dead") }]), ["cancelled"]);
        },
      },
      {
        how: "it is released as a stall (its worker lost)",
        end: async (storage, lease) => {
          assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: lease.job.id, token: lease.token }], boom, "stall"), 1);
        },
      },
      {
        how: "it is handed back untried",
        end: async (storage, lease) => {
          assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: lease.job.id, token: lease.token }], boom, "untried"), 1);
        },
      },
      {
        how: "its lease expires and is reclaimed",
        end: async (storage) => {
          let reclaimed = 0;
          await eventually(async () => (reclaimed += await storage.reclaimExpired(P)) === 1, { timeoutMs: 5000, message: "the lease was not reclaimed" });
        },
      },
    ];
    for (const { how, end, attempt } of endings) {
      it(`a running job a cancel was asked for ends cancelled when ${how}, never queued again`, async () => {
        const storage = await start();
        const job = await enqueue(storage, { n: 1 });
        const lease = await leaseOne(storage, "first", how.includes("expires") ? 50 : 60_000);
        assert.equal((await storage.cancel(job.id)).status, "cancelling");
        await end(storage, lease);
        const record = await storage.getJob(job.id);
        assert.equal(record?.status, "cancelled");
        assert.equal(record?.error?.code, "CANCELLED");
        assert.equal(record?.cancelRequestedAt, undefined);
        assert.equal(record?.stepIndex, 0, "a discarded result does not advance the job");
        assert.deepEqual(record?.steps, []);
        assert.equal(record?.stalls, undefined, "a cancelled job's hand-back is not a stall");
        if (attempt !== undefined) assert.deepEqual(record?.history?.map((a) => a.outcome), [attempt]);
        assert.deepEqual(await storage.leaseNext(P, "first", 10, 60_000), []);
        assert.deepEqual(await storage.leaseNext(P, "second", 10, 60_000), []);
        assert.deepEqual(await storage.finalOrGone(P, [job.id]), [true]);
        const stats = await storage.getStats(P);
        assert.equal(stats.cancelled, 1);
        assert.equal(stats.running, 0);
        assert.equal(stats.failed, 0);
        assert.equal(stats.steps.find((s) => s.jobType === "first")?.cancelled, 1);
        assertBalanced(stats);
        // The old token settles nothing now.
        assert.deepEqual(await storage.settle([{ kind: "dead", pipeline: P, jobId: job.id, token: lease.token, error: boom }]), ["stale"]);
      });
    }

    it("redrives a cancelled job like a dead one, and forgets one (DELETE); counters follow", async () => {
      const storage = await start();
      const job = await enqueue(storage, { n: 1 });
      assert.equal((await storage.cancel(job.id)).status, "cancelled");
      assert.equal(await storage.redrive(job.id, { input: { n: 5 } }), true);
      let stats = await storage.getStats(P);
      assert.equal(stats.cancelled, 0);
      assert.equal(stats.queued, 1);
      assert.equal(stats.steps.find((s) => s.jobType === "first")?.cancelled, 1, "the per-step count stays: it counts cancels ever");
      assertBalanced(stats);
      const lease = await leaseOne(storage);
      assert.deepEqual(lease.job.input, { n: 5 });
      assert.equal(lease.job.cancelRequestedAt, undefined);
      assert.deepEqual(await storage.cancelRequested(P, [job.id]), [], "a redriven job carries no old cancel");
      // Cancelled again while it runs, released: cancelled again, then forgotten.
      assert.equal((await storage.cancel(job.id)).status, "cancelling");
      await storage.releaseLeases([{ pipeline: P, jobId: job.id, token: lease.token }], boom, "stall");
      assert.equal((await storage.getJob(job.id))?.status, "cancelled");
      assert.equal(await storage.redrive("00000000000000000000zz"), false);
      assert.equal(await storage.deleteJob(job.id), "deleted");
      assert.equal(await storage.getJob(job.id), undefined);
      stats = await storage.getStats(P);
      assert.equal(stats.cancelled, 0);
    });

    it("a running job not cancelled is not told: cancelRequested reads only cancels", async () => {
      const storage = await start();
      const jobs = [await enqueue(storage), await enqueue(storage), await enqueue(storage)];
      const leases = await storage.leaseNext(P, "first", 3, 60_000, "w-1");
      assert.equal(leases.length, 3);
      await storage.cancel(jobs[1]!.id);
      assert.deepEqual(await storage.cancelRequested(P, jobs.map((j) => j.id)), [jobs[1]!.id]);
      assert.deepEqual(await storage.cancelRequested(P, []), []);
    });

    it("a job held back by per-key limits is cancelled out of where it waits; a cancelled running one frees its key", async () => {
      const storage = await start();
      const limits = { maxPerKey: 1 };
      const keyed = async (): Promise<JobRecord> => {
        const outcome = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: {}, concurrencyKey: "k" });
        if (outcome.status === "busy") throw new Error("busy");
        return outcome.job;
      };
      const [a, b, c] = [await keyed(), await keyed(), await keyed()];
      const first = await storage.leaseNext(P, "first", 3, 60_000, "w-1", limits);
      assert.deepEqual(first.map((l) => l.job.id), [a.id], "one of key k runs, the others are held");
      assert.equal((await storage.cancel(b.id)).status, "cancelled");
      assert.equal((await storage.cancel(a.id)).status, "cancelling");
      await storage.releaseLeases([{ pipeline: P, jobId: a.id, token: first[0]!.token }], boom, "stall");
      assert.equal((await storage.getJob(a.id))?.status, "cancelled");
      // Key k is free again, and the cancelled held job is not leased.
      const next = await storage.leaseNext(P, "first", 3, 60_000, "w-1", limits);
      assert.deepEqual(next.map((l) => l.job.id), [c.id]);
      assertBalanced(await storage.getStats(P));
    });

    it("retention forgets cancelled jobs like other finished ones", async () => {
      const storage = await start({ retention: { maxFinished: 1 } });
      const a = await enqueue(storage);
      const b = await enqueue(storage);
      await storage.cancel(a.id);
      assert.equal((await storage.getJob(a.id))?.status, "cancelled");
      await storage.cancel(b.id);
      assert.equal(await storage.getJob(a.id), undefined, "the oldest finished job is forgotten past maxFinished");
      assert.equal((await storage.getJob(b.id))?.status, "cancelled");
    });
  });
}
