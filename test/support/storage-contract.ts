/**
 * The storage contract: one suite every StorageBackend passes. Run by
 * test/unit/memory-storage.test.ts and test/integration/redis-storage.test.ts.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { JobError } from "../../src/core/job.ts";
import type { Settlement, StorageBackend, StorageOptions } from "../../src/storage/storage-backend.ts";
import { eventually } from "./eventually.ts";
import { cancelContract } from "./storage-contract-cancel.ts";
import { observabilityContract } from "./storage-contract-observe.ts";
import { limitsContract, type LimitsTarget } from "./storage-contract-limits.ts";
import { whenContract } from "./storage-contract-when.ts";
import { schedulesContract } from "./storage-contract-schedules.ts";
import { dataContract } from "./storage-contract-data.ts";

export interface ContractTarget {
  /** A fresh, empty backend (its own key prefix), connected or not. */
  create(options?: StorageOptions): Promise<StorageBackend>;
  /** Called once after the suite. */
  teardown?(): Promise<void>;
  /** A backend whose clock the test moves (memory); without it, time passes by polling. */
  createWithClock?(options?: StorageOptions): Promise<{ storage: StorageBackend; advance: (ms: number) => void }>;
}

const P = "contract-pipe";
const ROUTE = ["first", "second"];
const boom: JobError = { name: "Error", message: "boom", stack: "Error: boom\n    at test" };

export function storageContract(name: string, target: ContractTarget): void {
  describe(`storage contract: ${name}`, () => {
    const opened: StorageBackend[] = [];
    const open = async (options?: StorageOptions): Promise<StorageBackend> => {
      const storage = await target.create(options);
      opened.push(storage);
      await storage.connect();
      await storage.initialize([
        { name: P, steps: ROUTE },
        { name: "other", steps: ["first"] },
      ]);
      return storage;
    };
    after(async () => {
      for (const storage of opened) await storage.close();
      await target.teardown?.();
    });

    const enqueue = async (storage: StorageBackend, instructions: Record<string, unknown>, idempotencyKey?: string) => {
      const outcome = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions, idempotencyKey });
      assert.notEqual(outcome.status, "busy");
      if (outcome.status === "busy") throw new Error("busy");
      return outcome.job;
    };

    it("enqueues a queued job at the first step with its instructions", async () => {
      const storage = await open();
      const job = await enqueue(storage, { size: 10 });
      assert.equal(job.status, "queued");
      assert.equal(job.step, "first");
      assert.equal(job.stepIndex, 0);
      assert.equal(job.attempts, 0);
      assert.deepEqual(job.instructions, { size: 10 });
      const stored = await storage.getJob(job.id);
      assert.equal(stored?.id, job.id);
      assert.deepEqual(stored?.route, ROUTE);
      assert.equal(await storage.getJob("00000000000000000000zz"), undefined);
    });

    it("leases FIFO per job type, and only jobs of that type and pipeline", async () => {
      const storage = await open();
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await enqueue(storage, { i })).id);
      await storage.enqueueJob({ pipeline: "other", route: ["first"], instructions: { other: true } });
      assert.deepEqual(await storage.leaseNext(P, "second", 10, 10_000), []);
      const firstTwo = await storage.leaseNext(P, "first", 2, 10_000);
      const rest = await storage.leaseNext(P, "first", 10, 10_000);
      assert.deepEqual([...firstTwo, ...rest].map((l) => l.job.id), ids);
      for (const lease of [...firstTwo, ...rest]) {
        assert.equal(lease.attempt, 1);
        assert.equal(lease.job.status, "running");
      }
      const job = await storage.getJob(ids[0]!);
      assert.equal(job?.status, "running");
      assert.equal(job?.attempts, 1);
    });

    it("lease tokens are 128 random bits, all different, and a guessed token settles nothing", async () => {
      const storage = await open();
      for (let i = 0; i < 50; i++) await enqueue(storage, { i });
      const leases = await storage.leaseNext(P, "first", 50, 10_000);
      assert.equal(leases.length, 50);
      const tokens = leases.map((l) => l.token);
      assert.equal(new Set(tokens).size, 50);
      for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{22}$/, "22 base64url characters = 128 bits");
      // Sequence numbers, the old tokens, and a neighbour's token: none is this job's lease.
      const [first, second] = leases as [(typeof leases)[0], (typeof leases)[0]];
      const guesses = ["1", "2", "50", "51", second.token];
      const results = await storage.settle(guesses.map((token) => ({ kind: "dead", pipeline: P, jobId: first.job.id, token, error: boom })));
      assert.deepEqual(results, guesses.map(() => "stale"));
      assert.equal((await storage.getJob(first.job.id))?.status, "running");
    });

    it("consumeJobOfType leases one job or answers undefined", async () => {
      const storage = await open();
      const job = await enqueue(storage, { a: 1 });
      const lease = await storage.consumeJobOfType(P, "first");
      assert.equal(lease?.job.id, job.id);
      assert.equal(await storage.consumeJobOfType(P, "first"), undefined);
    });

    it("advance acks the step and queues the next one atomically, keeping the step's output", async () => {
      const storage = await open();
      const job = await enqueue(storage, { size: 1 });
      const [lease] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.ok(lease);
      const now = Date.now();
      const step = { jobType: "first", output: { path: "/tmp/x" }, attempts: 1, startedAt: now, finishedAt: now + 5 };
      assert.deepEqual(await storage.settle([{ kind: "advance", pipeline: P, jobId: job.id, token: lease.token, step, nextIndex: 1, input: { path: "/tmp/x" } }]), ["ok"]);
      const advanced = await storage.getJob(job.id);
      assert.equal(advanced?.status, "queued");
      assert.equal(advanced?.step, "second");
      assert.equal(advanced?.stepIndex, 1);
      assert.equal(advanced?.attempts, 0);
      assert.deepEqual(advanced?.input, { path: "/tmp/x" });
      assert.deepEqual(advanced?.steps.map((s) => s.output), [{ path: "/tmp/x" }]);
      const [next] = await storage.leaseNext(P, "second", 1, 10_000);
      assert.equal(next?.job.id, job.id);
      assert.equal(next?.attempt, 1);
      const done = { jobType: "second", output: { ok: true }, attempts: 1, startedAt: now, finishedAt: now + 1 };
      assert.deepEqual(await storage.settle([{ kind: "succeed", pipeline: P, jobId: job.id, token: next.token, step: done, result: { ok: true } }]), ["ok"]);
      const final = await storage.getJob(job.id);
      assert.equal(final?.status, "succeeded");
      assert.deepEqual(final?.result, { ok: true });
      assert.equal(final?.steps.length, 2);
      assert.ok(final?.finishedAt !== undefined);
    });

    it("an expired lease returns the job to the queue, and the next lease has attempt + 1", async () => {
      const storage = await open();
      const job = await enqueue(storage, {});
      const [lease] = await storage.leaseNext(P, "first", 1, 30);
      assert.equal(lease?.attempt, 1);
      await eventually(async () => (await storage.reclaimExpired(P)) === 1, { timeoutMs: 3000, message: "lease never expired" });
      const reclaimed = await storage.getJob(job.id);
      assert.equal(reclaimed?.status, "queued");
      assert.equal(reclaimed?.error?.code, "LEASE_LOST");
      const [again] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(again?.job.id, job.id);
      assert.equal(again?.attempt, 2);
    });

    it("a late ack from an expired lease is refused and changes nothing", async () => {
      const storage = await open();
      const job = await enqueue(storage, {});
      const [old] = await storage.leaseNext(P, "first", 1, 30);
      await eventually(async () => (await storage.reclaimExpired(P)) === 1, { timeoutMs: 3000, message: "lease never expired" });
      const [fresh] = await storage.leaseNext(P, "first", 1, 10_000);
      const now = Date.now();
      const step = { jobType: "first", output: { late: true }, attempts: 1, startedAt: now, finishedAt: now };
      assert.deepEqual(await storage.settle([{ kind: "advance", pipeline: P, jobId: job.id, token: old!.token, step, nextIndex: 1, input: { late: true } }]), ["stale"]);
      const record = await storage.getJob(job.id);
      assert.equal(record?.status, "running");
      assert.equal(record?.stepIndex, 0);
      assert.deepEqual(await storage.settle([{ kind: "advance", pipeline: P, jobId: job.id, token: fresh!.token, step, nextIndex: 1, input: {} }]), ["ok"]);
      assert.deepEqual(await storage.settle([{ kind: "advance", pipeline: P, jobId: job.id, token: fresh!.token, step, nextIndex: 1, input: {} }]), ["stale"]);
    });

    it("retry schedules the job after its delay; dead keeps the error; redrive requeues it", async () => {
      const storage = await open();
      const job = await enqueue(storage, {});
      const [first] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.deepEqual(await storage.settle([{ kind: "retry", pipeline: P, jobId: job.id, token: first!.token, error: boom, delayMs: 60_000 }]), ["ok"]);
      const waiting = await storage.getJob(job.id);
      assert.equal(waiting?.status, "failed");
      assert.equal(waiting?.error?.message, "boom");
      assert.deepEqual(await storage.leaseNext(P, "first", 1, 10_000), [], "a job waiting for its retry is not leased early");

      const job2 = await enqueue(storage, {});
      const [a] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(a?.job.id, job2.id);
      await storage.settle([{ kind: "retry", pipeline: P, jobId: job2.id, token: a.token, error: boom, delayMs: 0 }]);
      const [b] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(b?.job.id, job2.id);
      assert.equal(b?.attempt, 2);
      assert.deepEqual(await storage.settle([{ kind: "dead", pipeline: P, jobId: job2.id, token: b.token, error: boom }]), ["ok"]);
      const dead = await storage.getJob(job2.id);
      assert.equal(dead?.status, "dead");
      assert.deepEqual(dead?.error, boom);
      assert.equal(dead?.attempts, 2);

      assert.equal(await storage.redrive(job.id), false, "only dead jobs are redriven");
      assert.equal(await storage.redrive(job2.id), true);
      const redriven = await storage.getJob(job2.id);
      assert.equal(redriven?.status, "queued");
      assert.equal(redriven?.attempts, 0);
      const [c] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(c?.job.id, job2.id);
      assert.equal(c?.attempt, 1);
    });

    it("releasing leases puts jobs at the front and never counts the attempt; a stall counts apart", async () => {
      const storage = await open();
      const j1 = await enqueue(storage, { n: 1 });
      const j2 = await enqueue(storage, { n: 2 });
      const [l1] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: j1.id, token: l1!.token }], { name: "ShutdownError", message: "bye" }, "untried"), 1);
      const [again] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(again?.job.id, j1.id, "released job comes before the ones behind it");
      assert.equal(again?.attempt, 1);
      assert.equal(again?.job.stalls ?? 0, 0, "an untried hand-back is no stall");
      assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: j1.id, token: again.token }], { name: "LeaseLostError", message: "worker lost" }, "stall"), 1);
      const record = await storage.getJob(j1.id);
      assert.equal(record?.status, "queued");
      assert.equal(record?.attempts, 0, "a stall is not an attempt");
      assert.equal(record?.stalls, 1);
      const [third] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(third?.attempt, 1, "the next lease is still the first attempt");
      assert.equal(third?.job.stalls, 1);
      assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: j1.id, token: third.token }], { name: "LeaseLostError", message: "worker lost" }, "stall"), 1);
      assert.equal((await storage.getJob(j1.id))?.stalls, 2);
      assert.equal((await storage.getStats(P)).steps.find((s) => s.jobType === "first")?.stalled, 2, "the step counts its stalls");
      assert.equal(await storage.releaseLeases([{ pipeline: P, jobId: j1.id, token: "not-the-token" }], boom, "stall"), 0);
      const [fourth] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(fourth?.job.id, j1.id);
      const [l2] = await storage.leaseNext(P, "first", 1, 10_000);
      assert.equal(l2?.job.id, j2.id);
    });

    it("finalOrGone: false while a job can still run, true once succeeded or dead, and for an unknown id", async () => {
      const storage = await open();
      const ok = await enqueue(storage, {});
      const bad = await enqueue(storage, {});
      assert.deepEqual(await storage.finalOrGone(P, [ok.id, bad.id, "00000000000000000000zz"]), [false, false, true]);
      const [a, b] = await storage.leaseNext(P, "first", 2, 10_000);
      assert.deepEqual(await storage.finalOrGone(P, [ok.id, bad.id]), [false, false], "running is not final");
      const now = Date.now();
      await storage.settle([{ kind: "retry", pipeline: P, jobId: bad.id, token: b!.token, error: boom, delayMs: 60_000 }]);
      assert.deepEqual(await storage.finalOrGone(P, [bad.id]), [false], "failed, waiting for its retry, is not final");
      await storage.settle([{ kind: "advance", pipeline: P, jobId: ok.id, token: a!.token, step: { jobType: "first", output: {}, attempts: 1, startedAt: now, finishedAt: now }, nextIndex: 1, input: {} }]);
      const [next] = await storage.leaseNext(P, ROUTE[1]!, 1, 10_000);
      await storage.settle([{ kind: "succeed", pipeline: P, jobId: ok.id, token: next!.token, step: { jobType: ROUTE[1]!, output: {}, attempts: 1, startedAt: now, finishedAt: now }, result: {} }]);
      assert.deepEqual(await storage.finalOrGone(P, [ok.id, bad.id]), [true, false]);
      assert.deepEqual(await storage.finalOrGone(P, []), []);
    });

    it("the same idempotency key gives the same job", async () => {
      const storage = await open();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: { x: 1 }, idempotencyKey: "k-1" })),
      );
      const created = outcomes.filter((o) => o.status === "created");
      assert.equal(created.length, 1);
      const ids = new Set(outcomes.map((o) => (o.status === "busy" ? "busy" : o.job.id)));
      assert.equal(ids.size, 1);
      const other = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: { x: 1 }, idempotencyKey: "k-2" });
      assert.equal(other.status, "created");
      assert.equal((await storage.getStats(P)).accepted, 2);
    });

    it("answers busy when the pipeline holds maxQueued unfinished jobs, writing nothing", async () => {
      const storage = await open({ maxQueued: 3 });
      for (let i = 0; i < 3; i++) await enqueue(storage, { i });
      const outcome = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: { i: 4 } });
      assert.equal(outcome.status, "busy");
      const stats = await storage.getStats(P);
      assert.equal(stats.accepted, 3);
      assert.equal(stats.queued, 3);
      const batch = await storage.enqueueJobs([{ pipeline: "other", route: ["first"], instructions: {} }]);
      assert.equal(batch[0]?.status, "created", "the limit is per pipeline");
    });

    it("keeps counters consistent: accepted = succeeded + dead + queued + running + failed", async () => {
      const storage = await open();
      const outcomes = await storage.enqueueJobs(Array.from({ length: 12 }, (_, i) => ({ pipeline: P, route: ROUTE, instructions: { i } })));
      assert.equal(outcomes.filter((o) => o.status === "created").length, 12);
      const leases = await storage.leaseNext(P, "first", 8, 10_000);
      const now = Date.now();
      const settlements: Settlement[] = leases.map((lease, i): Settlement => {
        const step = { jobType: "first", output: { i }, attempts: 1, startedAt: now, finishedAt: now + i };
        if (i < 3) return { kind: "succeed", pipeline: P, jobId: lease.job.id, token: lease.token, step, result: { i } };
        if (i < 5) return { kind: "advance", pipeline: P, jobId: lease.job.id, token: lease.token, step, nextIndex: 1, input: { i } };
        const timing = { startedAt: now, finishedAt: now + 2 };
        if (i < 6) return { kind: "dead", pipeline: P, jobId: lease.job.id, token: lease.token, error: boom, timing };
        if (i < 7) return { kind: "retry", pipeline: P, jobId: lease.job.id, token: lease.token, error: boom, delayMs: 60_000, timing };
        return { kind: "advance", pipeline: P, jobId: lease.job.id, token: "stale-token", step, nextIndex: 1, input: {} };
      });
      const results = await storage.settle(settlements);
      assert.deepEqual(results, ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "stale"]);
      const stats = await storage.getStats(P);
      assert.equal(stats.accepted, 12);
      assert.equal(stats.succeeded, 3);
      assert.equal(stats.dead, 1);
      assert.equal(stats.failed, 1);
      assert.equal(stats.running, 1);
      assert.equal(stats.queued, 4 + 2);
      assert.equal(stats.accepted, stats.succeeded + stats.dead + stats.queued + stats.running + stats.failed);
      const first = stats.steps.find((s) => s.jobType === "first");
      const second = stats.steps.find((s) => s.jobType === "second");
      assert.equal(first?.succeeded, 5);
      assert.equal(first?.failed, 2);
      assert.equal(first?.dead, 1);
      assert.equal(first?.queued, 4);
      assert.equal(first?.running, 1);
      assert.equal(first?.delayed, 1);
      assert.equal(second?.queued, 2);
      assert.equal(first?.latency.count, 7);
      assert.ok(first?.oldestQueuedAt !== null && first.oldestQueuedAt <= Date.now());
    });

    it("lists jobs most recent first, by pipeline and status, and records progress", async () => {
      const storage = await open();
      const a = await enqueue(storage, { n: "a" });
      const b = await enqueue(storage, { n: "b" });
      const [lease] = await storage.leaseNext(P, "first", 1, 10_000);
      await storage.setProgress({ pipeline: P, jobId: a.id, token: lease!.token }, 0.5, "half");
      await storage.setProgress({ pipeline: P, jobId: a.id, token: "stale" }, 0.9, "ignored");
      assert.deepEqual((await storage.getJob(a.id))?.progress, { fraction: 0.5, message: "half" });
      const listed = await storage.listJobs({ pipeline: P });
      assert.deepEqual(listed.map((j) => j.id).slice(0, 2), [b.id, a.id]);
      const running = await storage.listJobs({ pipeline: P, status: "running" });
      assert.deepEqual(running.map((j) => j.id), [a.id]);
      const many = await storage.getJobs([b.id, "00000000000000000000zz", a.id]);
      assert.deepEqual(many.map((j) => j?.id), [b.id, undefined, a.id]);
    });

    it("keeps at most maxFinished finished jobs per pipeline", async () => {
      const storage = await open({ retention: { maxFinished: 3 } });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const job = await enqueue(storage, { i });
        ids.push(job.id);
        const [lease] = await storage.leaseNext(P, "first", 1, 10_000);
        await storage.settle([{ kind: "dead", pipeline: P, jobId: job.id, token: lease!.token, error: boom }]);
      }
      const kept = await storage.getJobs(ids);
      assert.deepEqual(kept.map((j) => j !== undefined), [false, false, true, true, true]);
      assert.equal((await storage.getStats(P)).dead, 5, "counters are not trimmed with the records");
    });

    it("answers an enqueue with the job exactly as stored: queued (with key, priority, concurrency key) or delayed", async () => {
      const storage = await open();
      const requests = [
        { pipeline: P, route: ROUTE, instructions: { n: 1 } },
        { pipeline: P, route: ROUTE, instructions: { n: 2, list: [] }, idempotencyKey: "answer-key", priority: 7, concurrencyKey: "tenant/\"1\"" },
        { pipeline: P, route: ROUTE, instructions: { n: 3 }, priority: 0 },
        { pipeline: P, route: ROUTE, instructions: { n: 4 }, delayMs: 3_600_000 },
      ];
      const outcomes = await storage.enqueueJobs(requests);
      const jobs = outcomes.map((o) => (o.status === "created" ? o.job : assert.fail(`not created: ${o.status}`)));
      assert.deepEqual(jobs.map((j) => j.status), ["queued", "queued", "queued", "delayed"]);
      assert.deepEqual(await storage.getJobs(jobs.map((j) => j.id), P), jobs);
    });

    it("a job forgotten by retention frees its idempotency key, whatever characters the key holds", async () => {
      const storage = await open({ retention: { maxFinished: 1 } });
      const keys = ["plain-key", 'q"uote', "sl/ash", "back\\slash ✓ \u0001", "last"];
      const first: string[] = [];
      for (const key of keys) {
        const job = await enqueue(storage, { key }, key);
        first.push(job.id);
        const [lease] = await storage.leaseNext(P, "first", 1, 10_000);
        await storage.settle([{ kind: "dead", pipeline: P, jobId: job.id, token: lease!.token, error: boom }]);
      }
      assert.deepEqual((await storage.getJobs(first)).map((j) => j !== undefined), [false, false, false, false, true]);
      for (const [i, key] of keys.entries()) {
        const again = await storage.enqueueJob({ pipeline: P, route: ROUTE, instructions: { key }, idempotencyKey: key });
        if (i < keys.length - 1) assert.equal(again.status, "created", `key ${JSON.stringify(key)} is free again`);
        else assert.ok(again.status === "duplicate" && again.job.id === first[i], "the kept job still owns its key");
      }
    });

    it("registers workers and finds the one with the most free capacity", async () => {
      const storage = await open();
      const base = { address: "tcp://127.0.0.1:1", host: "h", pid: 1, lastSeen: Date.now() };
      await storage.registerWorker({ ...base, workerId: "w1", jobType: "first", capacity: 2, inFlight: 2 });
      await storage.registerWorker({ ...base, workerId: "w2", jobType: "first", capacity: 4, inFlight: 1 });
      await storage.registerWorker({ ...base, workerId: "w3", jobType: "second", capacity: 9, inFlight: 0 });
      assert.equal((await storage.getNextAvailableWorkerForType("first"))?.workerId, "w2");
      assert.equal((await storage.listWorkers()).length, 3);
      await storage.unregisterWorker("w2");
      assert.equal(await storage.getNextAvailableWorkerForType("first"), undefined);
      assert.deepEqual((await storage.listWorkers()).map((w) => w.workerId).sort(), ["w1", "w3"]);
    });

    it("an unregister removes only the instance that sent it: a late one of an old instance leaves the re-joined worker", async () => {
      const storage = await open();
      const base = { workerId: "w1", jobType: "first", address: "tcp://127.0.0.1:1", host: "h", pid: 1, capacity: 1, inFlight: 0, lastSeen: Date.now() };
      await storage.registerWorker({ ...base, instance: "old" });
      await storage.registerWorker({ ...base, instance: "new" });
      await storage.unregisterWorker("w1", "old");
      assert.deepEqual((await storage.listWorkers()).map((w) => [w.workerId, w.instance]), [["w1", "new"]]);
      await storage.unregisterWorker("w1", "new");
      assert.deepEqual(await storage.listWorkers(), []);
      await storage.registerWorker({ ...base, instance: "any" });
      await storage.unregisterWorker("w1");
      assert.deepEqual(await storage.listWorkers(), [], "without an instance, any entry of the worker goes");
    });

    it("rejects an unknown pipeline with a typed error", async () => {
      const storage = await open();
      await assert.rejects(storage.enqueueJob({ pipeline: "nope", route: ["first"], instructions: {} }), { code: "UNKNOWN_PIPELINE" });
    });

    // History, logs, paging and forgetting: the part about seeing and fixing jobs (issue #18).
    observabilityContract(name, open);
    const limitsTarget: LimitsTarget = {
      open: async (options) => {
        if (target.createWithClock === undefined) return { storage: await open(options) };
        const made = await target.createWithClock(options);
        opened.push(made.storage);
        await made.storage.connect();
        return made;
      },
    };
    limitsContract(name, limitsTarget);
    // Delayed jobs and priorities (issue #17).
    whenContract(name, open);
    // Cron schedules: definitions, first seen, last tick (issue #17).
    schedulesContract(name, open);
    cancelContract(name, open);
    // Caller data kept exactly through every transition (issue #16: Redis keeps it apart from the record).
    dataContract(name, open);
  });
}
