/**
 * The part of the storage contract about step limits (`leaseNext(…, limits)`): a rate window on
 * storage's clock, per-key concurrency with held jobs released in order however a lease ends
 * (settled, released as a stall or untried, reclaimed after expiry), held jobs counted as queued
 * and costing no attempt, and a step without limits leased as before. Run by storageContract
 * (test/support/storage-contract.ts) on every backend. Time passes by `clock.advance` when the
 * backend takes an injected clock (memory); otherwise (Redis, whose clock is its own) by bounded
 * polling until the window has moved on.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import type { Lease, LeaseLimits, PipelineStats, StorageBackend, StorageOptions } from "../../src/storage/storage-backend.ts";
import { eventually } from "./eventually.ts";

const P = "limits-pipe";
const ROUTE = ["first", "second"];

/** A backend whose clock the test moves, when it has one. */
export interface LimitsTarget {
  open(options?: StorageOptions): Promise<{ storage: StorageBackend; advance?: ((ms: number) => void) | undefined }>;
}

function invariant(stats: PipelineStats): void {
  const total = stats.succeeded + stats.dead + (stats.cancelled ?? 0) + stats.queued + stats.running + stats.failed;
  assert.equal(stats.accepted, total, `accepted ${stats.accepted} = succeeded + dead + cancelled + queued + running + failed (${JSON.stringify(stats)})`);
}

function step(stats: PipelineStats, jobType: string): PipelineStats["steps"][number] {
  const found = stats.steps.find((s) => s.jobType === jobType);
  assert.ok(found, `stats of ${jobType}`);
  return found;
}

export function limitsContract(name: string, target: LimitsTarget): void {
  describe(`storage contract (rate limits, per-key concurrency): ${name}`, () => {
    const start = async () => {
      const opened = await target.open();
      await opened.storage.initialize([{ name: P, steps: ROUTE }]);
      return opened;
    };
    const enqueue = async (storage: StorageBackend, concurrencyKey?: string, n = 0): Promise<JobRecord> => {
      const outcome = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: { n }, ...(concurrencyKey === undefined ? {} : { concurrencyKey }) });
      if (outcome.status === "busy") throw new Error("busy");
      return outcome.job;
    };
    const lease = (storage: StorageBackend, count: number, limits?: LeaseLimits, leaseMs = 60_000): Promise<Lease[]> =>
      storage.leaseNext(P, "first", count, leaseMs, "w-1", limits);
    const succeed = (storage: StorageBackend, l: Lease) =>
      storage.settle([{ kind: "succeed", pipeline: P, jobId: l.job.id, token: l.token, step: { jobType: "first", output: null, attempts: l.attempt, startedAt: 1, finishedAt: 2 }, result: null }]);
    /** Leases until `want` jobs came or time ran out (the window moving on: storage's clock). */
    const leaseAfterWindow = async (storage: StorageBackend, advance: ((ms: number) => void) | undefined, ms: number, limits: LeaseLimits, want: number): Promise<Lease[]> => {
      const got: Lease[] = [];
      if (advance !== undefined) {
        advance(ms);
        return lease(storage, want, limits);
      }
      await eventually(async () => {
        got.push(...(await lease(storage, want - got.length, limits)));
        return got.length >= want;
      }, { timeoutMs: ms + 3000, intervalMs: 25, message: "leases did not resume after the window" });
      return got;
    };

    it("a rate window lets at most max leases start per perMs (storage's clock), and leases resume after it", async () => {
      const { storage, advance } = await start();
      const limits: LeaseLimits = { rate: { max: 3, perMs: 400 } };
      for (let i = 0; i < 8; i++) await enqueue(storage, undefined, i);
      const first = await lease(storage, 10, limits);
      assert.equal(first.length, 3, "the window takes 3");
      assert.deepEqual(await lease(storage, 10, limits), [], "a full window leases nothing");
      let stats = await storage.getStats(P);
      assert.equal(step(stats, "first").rateLimited, 5, "the 5 queued wait for the window");
      assert.equal(step(stats, "first").queued, 5);
      invariant(stats);
      const second = await leaseAfterWindow(storage, advance, 400, limits, 3);
      assert.equal(second.length, 3, "leases resume once the window moved on");
      const starts: number[] = [];
      for (const l of [...first, ...second]) starts.push((await storage.getJob(l.job.id))!.startedAt!);
      starts.sort((a, b) => a - b);
      for (let i = 0; i + 3 < starts.length; i++) assert.ok(starts[i + 3]! - starts[i]! >= 400, `4 starts within 400 ms: ${starts.join(", ")}`);
      for (const l of [...first, ...second]) assert.equal(l.attempt, 1);
      stats = await storage.getStats(P);
      invariant(stats);
    });

    it("maxPerKey holds jobs of a busy key aside (queued, no attempt), FIFO per key, and frees them when the running one is settled", async () => {
      const { storage } = await start();
      const limits: LeaseLimits = { maxPerKey: 1 };
      const a1 = await enqueue(storage, "a", 1);
      const a2 = await enqueue(storage, "a", 2);
      const b1 = await enqueue(storage, "b", 3);
      const a3 = await enqueue(storage, "a", 4);
      const free = await enqueue(storage, undefined, 5);
      const got = await lease(storage, 10, limits);
      assert.deepEqual(got.map((l) => l.job.id), [a1.id, b1.id, free.id], "one job per key, and jobs without a key");
      let stats = await storage.getStats(P);
      assert.equal(step(stats, "first").keyBusy, 2);
      assert.equal(step(stats, "first").queued, 2, "held jobs are queued");
      assert.equal(stats.queued, 2);
      invariant(stats);
      assert.equal((await storage.getJob(a2.id))?.status, "queued");
      assert.equal((await storage.getJob(a2.id))?.attempts, 0, "holding costs no attempt");
      assert.equal((await storage.getJob(a2.id))?.concurrencyKey, "a");
      assert.deepEqual(await lease(storage, 10, limits), [], "key a is busy");
      await succeed(storage, got[0]!);
      const next = await lease(storage, 10, limits);
      assert.deepEqual(next.map((l) => l.job.id), [a2.id], "the oldest held job of a, alone");
      assert.equal(next[0]!.attempt, 1);
      await succeed(storage, next[0]!);
      const last = await lease(storage, 10, limits);
      assert.deepEqual(last.map((l) => l.job.id), [a3.id]);
      stats = await storage.getStats(P);
      assert.equal(step(stats, "first").keyBusy ?? 0, 0);
      invariant(stats);
    });

    it("a held key is freed however a lease ends: advance, retry, release (stall, untried), reclaim after expiry; a handed-back job goes first", async () => {
      const { storage, advance } = await start();
      const limits: LeaseLimits = { maxPerKey: 1 };
      const jobs = [];
      for (let i = 0; i < 6; i++) jobs.push(await enqueue(storage, "k", i));
      const ids = jobs.map((j) => j.id);
      const order: string[] = [];
      const one = async (leaseMs = 60_000): Promise<Lease> => {
        const got = await lease(storage, 10, limits, leaseMs);
        assert.equal(got.length, 1, `one job of key k at a time, got ${got.length}`);
        order.push(got[0]!.job.id);
        return got[0]!;
      };
      // advance: the job leaves the step (its key at the next step is another).
      let l = await one();
      const s = { jobType: "first", output: { n: 0 }, attempts: 1, startedAt: 1, finishedAt: 2 };
      await storage.settle([{ kind: "advance", pipeline: P, jobId: l.job.id, token: l.token, step: s, nextIndex: 1, input: { n: 0 }, concurrencyKey: "k2" }]);
      assert.equal((await storage.getJob(l.job.id))?.concurrencyKey, "k2", "advance stores the key of the next step");
      // retry: leaves running for a while.
      l = await one();
      await storage.settle([{ kind: "retry", pipeline: P, jobId: l.job.id, token: l.token, error: { name: "Error", message: "x" }, delayMs: 3_600_000 }]);
      // release as untried: goes back first among the held, and runs next.
      l = await one();
      assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: l.job.id, token: l.token }], { name: "Error", message: "back" }, "untried"), 1);
      const again = await one();
      assert.equal(again.job.id, l.job.id, "a handed-back job is the next of its key");
      assert.equal(again.attempt, 1, "an untried release costs no attempt");
      // release as a stall.
      assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: again.job.id, token: again.token }], { name: "Error", message: "lost" }, "stall"), 1);
      const afterStall = await one(50);
      assert.equal(afterStall.job.id, again.job.id);
      // reclaim after the lease expired.
      if (advance !== undefined) advance(100);
      await eventually(async () => (await storage.reclaimExpired(P)) === 1, { timeoutMs: 3000, message: "the expired lease was not reclaimed" });
      const afterReclaim = await one();
      assert.equal(afterReclaim.job.id, afterStall.job.id, "a reclaimed job is the next of its key");
      await succeed(storage, afterReclaim);
      const rest: string[] = [];
      for (let i = 0; i < 3; i++) {
        l = await one();
        rest.push(l.job.id);
        await succeed(storage, l);
      }
      assert.deepEqual(rest, ids.slice(3), "the held ones in enqueue order");
      assert.deepEqual([...new Set(order)], ids, "every job of k ran, in enqueue order");
      const stats = await storage.getStats(P);
      assert.equal(step(stats, "first").keyBusy ?? 0, 0);
      invariant(stats);
    });

    it("maxPerKey 2 runs two of a key at once; both limits together", async () => {
      const { storage, advance } = await start();
      for (let i = 0; i < 5; i++) await enqueue(storage, "k", i);
      for (let i = 0; i < 3; i++) await enqueue(storage, `other-${i}`, 10 + i);
      const limits: LeaseLimits = { maxPerKey: 2, rate: { max: 3, perMs: 400 } };
      const got = await lease(storage, 10, limits);
      assert.equal(got.length, 3, "the window allows 3");
      assert.deepEqual(got.map((l) => l.job.concurrencyKey), ["k", "k", "other-0"], "two of k, then the next key");
      const stats = await storage.getStats(P);
      assert.equal(step(stats, "first").keyBusy, 3, "3 more of k are held");
      invariant(stats);
      const more = await leaseAfterWindow(storage, advance, 400, limits, 2);
      assert.deepEqual(more.map((l) => l.job.concurrencyKey).sort(), ["other-1", "other-2"], "k is at 2, the window lets the others through");
      invariant(await storage.getStats(P));
    });

    it("without limits, keys and windows are not looked at (the lease path is the plain one)", async () => {
      const { storage } = await start();
      for (let i = 0; i < 4; i++) await enqueue(storage, "same", i);
      const got = await lease(storage, 10);
      assert.equal(got.length, 4);
      const stats = await storage.getStats(P);
      assert.equal(step(stats, "first").keyBusy ?? 0, 0);
      assert.equal(step(stats, "first").rateLimited ?? 0, 0);
      invariant(stats);
    });
  });
}
