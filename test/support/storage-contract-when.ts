/**
 * The part of the storage contract about when jobs run (issue #17): delayed jobs (stored
 * `delayed` with their due time, moved to their first step's queue by storage once due on its own
 * clock, counted, listed, idempotent) and priorities (highest first, FIFO within one, the aging
 * lease that starves no one, the level kept through advance, retry, release, reclaim, redrive and
 * a delayed start). Run by storageContract (test/support/storage-contract.ts) on every backend.
 * Times come from storage's clock and are awaited by polling with a bound, never by sleeping.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JobError, JobRecord } from "../../src/core/job.ts";
import type { EnqueueRequest, Lease, PipelineStats, StorageBackend, StorageOptions } from "../../src/storage/storage-backend.ts";
import { eventually } from "./eventually.ts";

const P = "when-pipe";
const ROUTE = ["first", "second"];
const boom: JobError = { name: "Error", message: "boom" };

/** accepted = succeeded + dead + cancelled + queued + delayed + running + failed. */
function assertBalanced(stats: PipelineStats): void {
  const held = stats.succeeded + stats.dead + (stats.cancelled ?? 0) + stats.queued + (stats.delayed ?? 0) + stats.running + stats.failed;
  assert.equal(stats.accepted, held, `accepted ${stats.accepted} = ${JSON.stringify({ ...stats, steps: undefined })}`);
}

export function whenContract(name: string, open: (options?: StorageOptions) => Promise<StorageBackend>): void {
  describe(`storage contract (delays, priorities): ${name}`, () => {
    const start = async (): Promise<StorageBackend> => {
      const storage = await open();
      await storage.initialize([{ name: P, steps: ROUTE }]);
      return storage;
    };
    const enqueue = async (storage: StorageBackend, extra: Partial<EnqueueRequest> = {}, instructions: Record<string, unknown> = {}): Promise<JobRecord> => {
      const outcome = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions, ...extra });
      if (outcome.status === "busy") throw new Error("busy");
      return outcome.job;
    };
    const leaseIds = async (storage: StorageBackend, jobType: string, count: number, leaseMs = 60_000): Promise<string[]> =>
      (await storage.leaseNext(P, jobType, count, leaseMs)).map((l) => l.job.id);
    const leaseOne = async (storage: StorageBackend, jobType: string, leaseMs = 60_000): Promise<Lease> => {
      const [lease] = await storage.leaseNext(P, jobType, 1, leaseMs);
      assert.ok(lease, `a ${jobType} job to lease`);
      return lease;
    };

    it("stores a delayed job as delayed with its due time (storage's clock), never leases it before, and leases it after", async () => {
      const storage = await start();
      const far = await enqueue(storage, { delayMs: 3_600_000 });
      const near = await enqueue(storage, { delayMs: 300 });
      for (const job of [far, near]) assert.equal(job.status, "delayed");
      assert.equal(far.runAt, far.createdAt + 3_600_000, "due = storage's time of enqueue + the delay");
      assert.equal(near.runAt, near.createdAt + 300);
      assert.equal((await storage.getJob(far.id))?.status, "delayed");
      let leased: Lease | undefined;
      await eventually(async () => {
        const leases = await storage.leaseNext(P, "first", 10, 60_000);
        assert.ok(leases.every((l) => l.job.id !== far.id), "the job due in an hour is never leased");
        leased ??= leases.find((l) => l.job.id === near.id);
        return leased !== undefined;
      }, { timeoutMs: 10_000, message: "the delayed job was never leased" });
      assert.equal(leased!.job.status, "running");
      assert.ok(leased!.job.startedAt! - near.createdAt >= 300, `started ${leased!.job.startedAt! - near.createdAt} ms after enqueue, by storage's clock`);
      assert.equal(leased!.job.dueAt, near.runAt, "its wait counts from its due time");
      assert.equal((await storage.getJob(far.id))?.status, "delayed");
    });

    it("takes an absolute runAt as the due time, and queues a job whose runAt has passed at once", async () => {
      const storage = await start();
      const probe = await enqueue(storage);
      const runAt = probe.createdAt + 3_600_000;
      const later = await enqueue(storage, { runAt });
      assert.equal(later.status, "delayed");
      assert.equal(later.runAt, runAt);
      const past = await enqueue(storage, { runAt: probe.createdAt - 1000 });
      assert.equal(past.status, "queued");
      assert.deepEqual((await leaseIds(storage, "first", 10)).sort(), [probe.id, past.id].sort());
    });

    it("counts delayed jobs apart from retries, keeps the counters balanced, and lists them by status", async () => {
      const storage = await start();
      const delayed = [await enqueue(storage, { delayMs: 3_600_000 }), await enqueue(storage, { runAt: Date.now() + 3_600_000 })];
      const failing = await enqueue(storage);
      const lease = await leaseOne(storage, "first");
      assert.equal(lease.job.id, failing.id);
      await storage.settle([{ kind: "retry", pipeline: P, jobId: failing.id, token: lease.token, error: boom, delayMs: 3_600_000 }]);
      await enqueue(storage);
      const stats = await storage.getStats(P);
      assert.equal(stats.delayed, 2);
      assert.equal(stats.failed, 1, "a retry is not a delayed job");
      assert.equal(stats.queued, 1);
      const first = stats.steps.find((s) => s.jobType === "first")!;
      assert.equal(first.delayedStart, 2);
      assert.equal(first.delayed, 1, "the step's retries");
      assertBalanced(stats);
      const page = await storage.findJobs({ pipeline: P, status: "delayed" });
      assert.deepEqual(page.jobs.map((j) => j.id).sort(), delayed.map((j) => j.id).sort());
      assert.ok(page.jobs.every((j) => j.runAt !== undefined && j.runAt > j.createdAt), "each listed with its due time");
      assert.deepEqual((await storage.listJobs({ pipeline: P, status: "delayed" })).map((j) => j.id).sort(), delayed.map((j) => j.id).sort());
    });

    it("keeps counters balanced as a delayed job comes due, and answers a duplicate key with the delayed job", async () => {
      const storage = await start();
      const job = await enqueue(storage, { delayMs: 200, idempotencyKey: "once", priority: 5 });
      const again = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: { other: true }, delayMs: 10, idempotencyKey: "once" });
      assert.equal(again.status, "duplicate");
      if (again.status === "duplicate") {
        assert.equal(again.job.id, job.id);
        assert.equal(again.job.status, "delayed");
        assert.equal(again.job.runAt, job.runAt);
      }
      assertBalanced(await storage.getStats(P));
      // A lease of nothing still promotes what is due.
      await eventually(async () => {
        await storage.leaseNext(P, "first", 0, 60_000);
        return (await storage.getJob(job.id))?.status === "queued";
      }, { timeoutMs: 10_000, message: "the delayed job never came due" });
      const stats = await storage.getStats(P);
      assert.equal(stats.delayed, 0);
      assert.equal(stats.queued, 1);
      assert.equal(stats.steps.find((s) => s.jobType === "first")?.delayedStart, 0);
      assertBalanced(stats);
      const queued = await storage.getJob(job.id);
      assert.equal(queued?.runAt, undefined);
      assert.equal(queued?.priority, 5, "promoted at its priority");
      assert.equal(queued?.updatedAt, job.runAt, "queued since its due time");
    });

    it("leases the highest priority first and FIFO within one priority; priority 0 is absent from the record", async () => {
      const storage = await start();
      const a = await enqueue(storage, { priority: 0 });
      const b = await enqueue(storage, { priority: 5 });
      const c = await enqueue(storage, { priority: 9 });
      const d = await enqueue(storage, { priority: 5 });
      const e = await enqueue(storage);
      assert.equal(a.priority, undefined);
      assert.equal(c.priority, 9);
      assert.deepEqual(await leaseIds(storage, "first", 10), [c.id, b.id, d.id, a.id, e.id]);
      const stats = await storage.getStats(P);
      assert.equal(stats.running, 5);
      assertBalanced(stats);
    });

    it("starves no priority: while several wait, every 10th lease of the step takes the job waiting longest", async () => {
      const storage = await start();
      const old = await enqueue(storage);
      const urgent: string[] = [];
      for (let i = 0; i < 25; i++) urgent.push((await enqueue(storage, { priority: 9 })).id);
      const first = await storage.getStats(P);
      assert.equal(first.steps.find((s) => s.jobType === "first")?.oldestQueuedAt, old.createdAt, "the oldest waiting is the priority-0 job");
      const order: string[] = [];
      for (let i = 0; i < 12; i++) order.push(...(await leaseIds(storage, "first", 1)));
      assert.equal(order.indexOf(old.id), 9, "the 10th lease goes to the job waiting longest");
      assert.deepEqual(order.filter((id) => id !== old.id), urgent.slice(0, 11), "the others in priority, then FIFO, order");
    });

    it("keeps a job's priority through release, retry, reclaim, redrive and advance", async () => {
      const storage = await start();
      const plain = await enqueue(storage, {}, { plain: true });
      const job = await enqueue(storage, { priority: 7 });
      const expectX = async (leaseMs = 60_000): Promise<Lease> => {
        const lease = await leaseOne(storage, "first", leaseMs);
        assert.equal(lease.job.id, job.id, "the priority job goes first");
        assert.equal(lease.job.priority, 7);
        return lease;
      };
      let lease = await expectX();
      await storage.releaseLeases([{ pipeline: P, jobId: job.id, token: lease.token }], boom, "untried");
      lease = await expectX();
      await storage.settle([{ kind: "retry", pipeline: P, jobId: job.id, token: lease.token, error: boom, delayMs: 0 }]);
      await expectX(50);
      await eventually(async () => (await storage.reclaimExpired(P)) > 0, { timeoutMs: 5000, message: "the 50 ms lease never expired" });
      lease = await expectX();
      await storage.settle([{ kind: "dead", pipeline: P, jobId: job.id, token: lease.token, error: boom }]);
      assert.equal(await storage.redrive(job.id), true);
      lease = await expectX();
      // At the next step, behind a priority-0 job that got there first.
      const plainLease = await leaseOne(storage, "first");
      assert.equal(plainLease.job.id, plain.id);
      const step = { jobType: "first", output: {}, attempts: 1, startedAt: 1, finishedAt: 2 };
      await storage.settle([{ kind: "advance", pipeline: P, jobId: plain.id, token: plainLease.token, step, nextIndex: 1, input: {} }]);
      await storage.settle([{ kind: "advance", pipeline: P, jobId: job.id, token: lease.token, step, nextIndex: 1, input: {} }]);
      assert.deepEqual(await leaseIds(storage, "second", 2), [job.id, plain.id]);
      assertBalanced(await storage.getStats(P));
    });
  });
}
