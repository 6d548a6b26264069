/**
 * The dispatcher's loop: while workers have free credit, lease queued jobs of their types (every
 * pipeline in turn) and hand them over; a delivery that fails goes back to the queue and its
 * worker is suspended; a job whose lease expired more often than its attempts allow, or that was
 * handed back by lost workers more often than its step's `maxStalls`, is dead.
 * One pass at a time: a kick during a pass runs another one after it. A pass leases round after
 * round while a lease came back full (the queue may hold more); a lease that came back short
 * emptied its queue, so no round goes to ask it again unless something kicked meanwhile.
 */
import { DeliveryError } from "../core/errors/delivery-error.ts";
import { LeaseLostError } from "../core/errors/lease-lost-error.ts";
import { NoWorkerError } from "../core/errors/no-worker-error.ts";
import { StalledError } from "../core/errors/stalled-error.ts";
import type { JobError } from "../core/job.ts";
import { usageOf } from "../core/job-logs.ts";
import type { StepPolicy } from "../core/step-config.ts";
import type { Lease, Settlement } from "../storage/storage-backend.ts";
import type { Delivery } from "./delivery.ts";
import type { EngineParts } from "./dispatcher-events.ts";
import type { WorkerRoster, WorkerSlot } from "./_worker-roster.ts";

export interface DispatchLoopHost extends EngineParts {
  roster: WorkerRoster;
  /** Pipeline names per job type. */
  pipelinesByType(): ReadonlyMap<string, readonly string[]>;
}

export class DispatchLoop {
  readonly #host: DispatchLoopHost;
  #running = false;
  #passing = false;
  #passDone: Promise<void> = Promise.resolve();
  #again = false;
  #rotation = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(host: DispatchLoopHost) {
    this.#host = host;
  }

  start(): void {
    this.#running = true;
    this.kick();
  }

  /** Stops after the pass under way. */
  async pause(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    await this.#passDone;
  }

  /** Schedules a pass. */
  kick(): void {
    if (!this.#running) return;
    if (this.#passing) {
      this.#again = true;
      return;
    }
    if (!this.#host.roster.hasFreeCredit(Date.now())) return;
    this.#passing = true;
    this.#passDone = this.#pass()
      .catch((error: unknown) => {
        this.#host.logger.error("dispatch failed", { error: String(error) });
        this.#host.events.emit("error", error);
      })
      .finally(() => {
        this.#passing = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** A retry comes due in `delayMs`: a pass then, when sooner than the next poll. */
  retryDueIn(delayMs: number, pollIntervalMs: number): void {
    if (!this.#running || delayMs >= pollIntervalMs) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.kick(), delayMs + 1);
  }

  async #pass(): Promise<void> {
    const { roster, storage } = this.#host;
    for (let round = 0; round < 1000 && this.#running; round++) {
      this.#again = false;
      /** A lease came back with all it asked for: its queue may hold more. */
      let full = false;
      for (const [jobType, pipelines] of this.#host.pipelinesByType()) {
        let free = roster.freeCredit(jobType, Date.now());
        if (free <= 0 || pipelines.length === 0) continue;
        const start = this.#rotation++ % pipelines.length;
        for (let i = 0; i < pipelines.length && free > 0; i++) {
          const pipeline = pipelines[(start + i) % pipelines.length]!;
          const policy = this.#host.policyFor(jobType);
          const leases = await storage.leaseNext(pipeline, jobType, free, policy.leaseMs, undefined, policy.limits?.lease);
          if (leases.length === 0) continue;
          if (leases.length >= free) full = true;
          free -= leases.length;
          await this.#distribute(jobType, leases, policy);
        }
      }
      if (!full && !this.#again) return;
    }
  }

  async #distribute(jobType: string, leases: Lease[], policy: StepPolicy): Promise<void> {
    const batches = new Map<WorkerSlot, Delivery[]>();
    const doomed: { lease: Lease; error: JobError }[] = [];
    for (const lease of leases) {
      if (lease.attempt > policy.retry.maxAttempts) {
        doomed.push({ lease, error: lease.job.error ?? new LeaseLostError("attempts exhausted by lost leases").toJobError() });
        continue;
      }
      const stalls = lease.job.stalls ?? 0;
      if (stalls > policy.maxStalls) {
        const why = `handed back ${stalls} times by lost or stopped workers (maxStalls ${policy.maxStalls})`;
        doomed.push({ lease, error: new StalledError(lease.job.error === undefined ? why : `${why}; last: ${lease.job.error.message}`).toJobError() });
        continue;
      }
      const slot = this.#host.roster.pick(jobType, Date.now());
      const ref = { pipeline: lease.job.pipeline, jobId: lease.job.id, token: lease.token };
      if (slot === undefined) {
        await this.#host.storage.releaseLeases([ref], new NoWorkerError("no worker free").toJobError(), "untried");
        continue;
      }
      const delivery: Delivery = { ...ref, jobType, stepIndex: lease.job.stepIndex, attempt: lease.attempt, input: lease.job.input, timeoutMs: policy.timeoutMs, expiresAt: lease.expiresAt };
      slot.hold(delivery, lease.job.route, { dueAt: lease.job.dueAt, logUsed: usageOf(lease.job.history) });
      const batch = batches.get(slot);
      if (batch === undefined) batches.set(slot, [delivery]);
      else batch.push(delivery);
    }
    if (doomed.length > 0) await this.#deadLetter(doomed);
    for (const [slot, deliveries] of batches) {
      for (const d of deliveries) this.#host.events.emit("job:started", { jobId: d.jobId, pipeline: d.pipeline, jobType, attempt: d.attempt, workerId: slot.target.workerId });
      slot.target.send(deliveries).then(
        () => slot.delivered(),
        (error: unknown) => this.#undelivered(slot, deliveries, error),
      );
    }
  }

  /**
   * A send failed: the jobs that did not leave go back to the queue (their attempt not counted),
   * and the worker is suspended for a while so that other workers take them.
   */
  async #undelivered(slot: WorkerSlot, deliveries: readonly Delivery[], error: unknown): Promise<void> {
    const missing = error instanceof DeliveryError ? error.undelivered : deliveries;
    // Only leases still this worker's: a removed worker's jobs were handed back already.
    const back = this.#host.roster.get(slot.target.workerId) === slot ? missing.flatMap((d) => slot.take(d.jobId, d.token)?.delivery ?? []) : [];
    const pauseMs = slot.suspend(Date.now());
    const fields = { workerId: slot.target.workerId, address: slot.target.address, jobs: back.length, failures: slot.failures, pauseMs, error: String(error) };
    if (slot.failures >= 3) {
      this.#host.logger.error("worker unreachable: deliveries keep failing (is the address it announces reachable from here? see MARIO_ADVERTISE_HOST)", fields);
    } else {
      this.#host.logger.warn("delivery failed, jobs handed back, worker paused", fields);
    }
    if (back.length > 0) {
      await this.#host.storage
        .releaseLeases(back, new DeliveryError(String(error), back).toJobError(), "untried")
        .catch((e: unknown) => this.#host.logger.error("hand back failed; the lease will expire", { error: String(e) }));
    }
    this.kick();
  }

  /** Jobs leased past their limits (attempts used up by lost leases, too many stalls): dead, with the error given. */
  async #deadLetter(doomed: readonly { lease: Lease; error: JobError }[]): Promise<void> {
    const settlements: (Settlement & { kind: "dead" })[] = doomed.map(({ lease, error }) => ({
      kind: "dead",
      pipeline: lease.job.pipeline,
      jobId: lease.job.id,
      token: lease.token,
      error,
    }));
    const results = await this.#host.storage.settle(settlements);
    settlements.forEach((s, i) => {
      if (results[i] === "ok") this.#host.events.emit("job:finished", { jobId: s.jobId, pipeline: s.pipeline, status: "dead", error: s.error });
    });
  }
}
