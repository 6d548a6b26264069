/**
 * The engine of a pipeline server: leases queued jobs to workers with free capacity, settles their
 * outcomes in storage (ack + next step in one atomic operation), retries, dead-letters, reclaims.
 * It does no I/O of its own: storage and workers are ports, so the same engine runs in process
 * (LocalRunner) and behind ZeroMQ (the pipeline server).
 *
 * ```ts
 * const dispatcher = new Dispatcher({ storage, pipelines: [{ name: "p", steps: ["a"] }] });
 * await dispatcher.start();
 * dispatcher.addWorker(target, resolveStepPolicy({ timeoutMs: 5000 }));
 * const outcome = await dispatcher.enqueue("p", { size: 10 });
 * ```
 */
import { DeliveryError } from "../core/errors/delivery-error.ts";
import { InvalidInstructionsError } from "../core/errors/invalid-instructions-error.ts";
import { LeaseLostError } from "../core/errors/lease-lost-error.ts";
import { NoWorkerError } from "../core/errors/no-worker-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { StorageLostError } from "../core/errors/storage-lost-error.ts";
import { findPipeline, type PipelineDefinition } from "../core/pipeline-definition.ts";
import { isInstructions, type JobError } from "../core/job.ts";
import { resolveStepPolicy, type StepPolicy } from "../core/step-config.ts";
import { TypedEmitter } from "../core/typed-emitter.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { EnqueueOutcome, Lease, Settlement, StorageBackend, WorkerInfo } from "../storage/storage-backend.ts";
import type { Delivery, DispatchTarget, ProgressReport, StepOutcome } from "./delivery.ts";
import type { DispatcherEvents } from "./dispatcher-events.ts";
import { Settler } from "./_settler.ts";
import { WorkerRoster, type InFlight, type WorkerSlot } from "./_worker-roster.ts";

export type { DispatcherEvents, JobFinishedEvent, StepFinishedEvent } from "./dispatcher-events.ts";

export interface DispatcherOptions {
  storage: StorageBackend;
  pipelines: readonly PipelineDefinition[];
  logger?: Logger | undefined;
  /** How often expired leases are reclaimed, ms. Default 1000. */
  reclaimIntervalMs?: number | undefined;
  /** How often storage is polled for work enqueued elsewhere or retries come due, ms. Default 100. */
  pollIntervalMs?: number | undefined;
  /** Policy for job types no worker has described. */
  defaultPolicy?: StepPolicy | undefined;
  /** Source of randomness for backoff jitter. Default Math.random. */
  random?: (() => number) | undefined;
}

export class Dispatcher {
  readonly events: TypedEmitter<DispatcherEvents>;
  readonly #storage: StorageBackend;
  readonly #logger: Logger;
  readonly #workers = new WorkerRoster();
  readonly #policies = new Map<string, StepPolicy>();
  readonly #defaultPolicy: StepPolicy;
  readonly #reclaimIntervalMs: number;
  readonly #pollIntervalMs: number;
  #pipelines: readonly PipelineDefinition[];
  #pipelinesByType = new Map<string, string[]>();
  #passing = false;
  #passDone: Promise<void> = Promise.resolve();
  #again = false;
  #running = false;
  #timers: NodeJS.Timeout[] = [];
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #settler: Settler;
  #rotation = 0;
  /** Set when storage reported its store lost (emptied or replaced): dispatching has stopped for good. */
  #lost: StorageLostError | undefined;

  constructor(options: DispatcherOptions) {
    this.#storage = options.storage;
    this.#logger = options.logger ?? silentLogger;
    this.#pipelines = options.pipelines;
    this.#defaultPolicy = options.defaultPolicy ?? resolveStepPolicy();
    this.#reclaimIntervalMs = options.reclaimIntervalMs ?? 1000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 100;
    this.events = new TypedEmitter((error) => this.#logger.error("event listener failed", { error: String(error) }));
    this.#settler = new Settler({
      storage: this.#storage,
      events: this.events,
      logger: this.#logger,
      random: options.random ?? Math.random,
      policyFor: (jobType) => this.policyFor(jobType),
      kick: () => this.kick(),
      retryDueIn: (delayMs) => this.#scheduleRetryKick(delayMs),
    });
    this.#indexPipelines();
  }

  get pipelines(): readonly PipelineDefinition[] {
    return this.#pipelines;
  }

  get storage(): StorageBackend {
    return this.#storage;
  }

  async start(): Promise<void> {
    await this.#storage.connect();
    await this.#storage.initialize(this.#pipelines);
    this.#running = true;
    this.#timers.push(setInterval(() => this.#reclaim(), this.#reclaimIntervalMs));
    this.#timers.push(setInterval(() => this.kick(), this.#pollIntervalMs));
    this.kick();
  }

  /** Stops handing out jobs (after the pass under way); outcomes reported later are still settled. */
  async pause(): Promise<void> {
    this.#running = false;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    clearTimeout(this.#retryTimer);
    await this.#passDone;
  }

  /** Stops dispatching and waits for outcomes already reported to be settled. */
  async stop(): Promise<void> {
    await this.pause();
    await this.#settler.drain();
  }

  /** Adds or replaces pipelines (a reload). */
  async setPipelines(pipelines: readonly PipelineDefinition[]): Promise<void> {
    await this.#storage.initialize(pipelines);
    this.#pipelines = pipelines;
    this.#indexPipelines();
    this.kick();
  }

  /** The policy (timeout, retries) for a job type, as its workers described it. */
  policyFor(jobType: string): StepPolicy {
    return this.#policies.get(jobType) ?? this.#defaultPolicy;
  }

  setPolicy(jobType: string, policy: StepPolicy): void {
    this.#policies.set(jobType, policy);
  }

  /** Validates and enqueues a job at the first step of `pipeline`. */
  async enqueue(pipeline: string, instructions: unknown, options: { idempotencyKey?: string | undefined } = {}): Promise<EnqueueOutcome> {
    const definition = findPipeline(this.#pipelines, pipeline);
    if (!isInstructions(instructions)) {
      throw new InvalidInstructionsError(`instructions for "${pipeline}" must be a JSON object, got ${Array.isArray(instructions) ? "an array" : typeof instructions}`);
    }
    const outcome = await this.#storage.enqueueJob({
      pipeline,
      route: definition.steps,
      instructions: instructions,
      idempotencyKey: options.idempotencyKey,
    });
    if (outcome.status === "created") {
      this.events.emit("job:accepted", outcome.job);
      this.kick();
    }
    return outcome;
  }

  addWorker(target: DispatchTarget, policy?: StepPolicy): void {
    if (policy !== undefined) this.#policies.set(target.jobType, policy);
    if (this.#workers.add(target)) this.events.emit("worker:added", target.workerId, target.jobType);
    this.kick();
  }

  /** Records a heartbeat of a worker. */
  touch(workerId: string): void {
    const slot = this.#workers.get(workerId);
    if (slot !== undefined) slot.lastSeen = Date.now();
  }

  /** The workers this dispatcher feeds, with their jobs in flight. */
  workers(): WorkerInfo[] {
    return this.#workers.infos();
  }

  hasWorker(workerId: string): boolean {
    return this.#workers.get(workerId) !== undefined;
  }

  /** Jobs in flight at one worker. */
  inFlightOf(workerId: string): number {
    return this.#workers.get(workerId)?.inFlight.size ?? 0;
  }

  workerIds(): string[] {
    return this.#workers.ids();
  }

  /**
   * Drops a worker. Its in-flight jobs go back to the front of their queue at once: counted as an
   * attempt when the worker was lost, not counted when it handed them back on shutdown.
   */
  async removeWorker(workerId: string, reason: "lost" | "shutdown", detail: string): Promise<void> {
    const slot = this.#workers.delete(workerId);
    if (slot === undefined) return;
    const leases = [...slot.inFlight.values()].map((f) => ({ jobId: f.delivery.jobId, token: f.delivery.token }));
    this.events.emit("worker:removed", workerId, slot.target.jobType, detail);
    if (leases.length > 0) {
      await this.#storage.releaseLeases(leases, new LeaseLostError(`worker ${workerId} ${detail}`).toJobError(), reason === "lost");
      this.#logger.warn("worker removed, jobs handed back", { workerId, jobs: leases.length, reason: detail });
    }
    this.kick();
  }

  /** Hands specific jobs back without counting the attempt (a worker shutting down). */
  async handBack(workerId: string, jobIds: readonly string[]): Promise<void> {
    const slot = this.#workers.get(workerId);
    if (slot === undefined) return;
    const leases: { jobId: string; token: string }[] = [];
    for (const jobId of jobIds) {
      const flight = slot.inFlight.get(jobId);
      if (flight === undefined) continue;
      slot.inFlight.delete(jobId);
      leases.push({ jobId, token: flight.delivery.token });
    }
    if (leases.length > 0) {
      await this.#storage.releaseLeases(leases, new ShutdownError(`worker ${workerId} handed the job back`).toJobError(), false);
    }
    this.kick();
  }

  /**
   * Outcomes reported by workers. Resolves once they are durably settled (then ack the worker).
   * The worker's capacity is freed at once (it has finished those attempts), so the next jobs
   * are leased while the outcomes are being settled, not after.
   */
  report(outcomes: readonly StepOutcome[]): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve();
    const done = this.#settler.settle(outcomes.map((outcome) => ({ outcome, flight: this.#takeInFlight(outcome) })));
    this.kick();
    return done;
  }

  progress(reports: readonly ProgressReport[]): void {
    for (const report of reports) {
      this.#storage.setProgress(report.jobId, report.token, report.fraction, report.message).catch((error: unknown) => {
        this.#logger.debug("progress not stored", { jobId: report.jobId, error: String(error) });
      });
    }
  }

  /** Schedules a dispatch pass. */
  kick(): void {
    if (!this.#running) return;
    if (this.#passing) {
      this.#again = true;
      return;
    }
    if (!this.#workers.hasFreeCredit(Date.now())) return;
    this.#passing = true;
    this.#passDone = this.#pass()
      .catch((error: unknown) => {
        this.#logger.error("dispatch failed", { error: String(error) });
        this.events.emit("error", error);
      })
      .finally(() => {
        this.#passing = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #pass(): Promise<void> {
    for (let round = 0; round < 1000 && this.#running; round++) {
      this.#again = false;
      let leasedAny = false;
      for (const [jobType, pipelines] of this.#pipelinesByType) {
        let free = this.#workers.freeCredit(jobType, Date.now());
        if (free <= 0 || pipelines.length === 0) continue;
        const start = this.#rotation++ % pipelines.length;
        for (let i = 0; i < pipelines.length && free > 0; i++) {
          const pipeline = pipelines[(start + i) % pipelines.length]!;
          const policy = this.policyFor(jobType);
          const leases = await this.#storage.leaseNext(pipeline, jobType, free, policy.leaseMs);
          if (leases.length === 0) continue;
          leasedAny = true;
          free -= leases.length;
          await this.#distribute(jobType, leases, policy);
        }
      }
      if (!leasedAny && !this.#again) return;
    }
  }

  async #distribute(jobType: string, leases: Lease[], policy: StepPolicy): Promise<void> {
    const batches = new Map<WorkerSlot, Delivery[]>();
    const expired: Lease[] = [];
    for (const lease of leases) {
      if (lease.attempt > policy.retry.maxAttempts) {
        expired.push(lease);
        continue;
      }
      const slot = this.#workers.pick(jobType, Date.now());
      if (slot === undefined) {
        await this.#storage.releaseLeases([{ jobId: lease.job.id, token: lease.token }], new NoWorkerError("no worker free").toJobError(), false);
        continue;
      }
      const delivery: Delivery = {
        jobId: lease.job.id,
        token: lease.token,
        pipeline: lease.job.pipeline,
        jobType,
        stepIndex: lease.job.stepIndex,
        attempt: lease.attempt,
        input: lease.job.input,
        timeoutMs: policy.timeoutMs,
      };
      slot.inFlight.set(delivery.jobId, { delivery, route: lease.job.route });
      let batch = batches.get(slot);
      if (batch === undefined) {
        batch = [];
        batches.set(slot, batch);
      }
      batch.push(delivery);
    }
    if (expired.length > 0) await this.#deadLetterExpired(expired);
    for (const [slot, deliveries] of batches) {
      for (const d of deliveries) {
        this.events.emit("job:started", { jobId: d.jobId, pipeline: d.pipeline, jobType, attempt: d.attempt, workerId: slot.target.workerId });
      }
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
    const back = this.#workers.holds(slot) ? missing.filter((d) => slot.inFlight.get(d.jobId)?.delivery.token === d.token) : [];
    for (const d of back) slot.inFlight.delete(d.jobId);
    const pauseMs = slot.suspend(Date.now());
    const fields = { workerId: slot.target.workerId, address: slot.target.address, jobs: back.length, failures: slot.failures, pauseMs, error: String(error) };
    if (slot.failures >= 3) {
      this.#logger.error("worker unreachable: deliveries keep failing (is the address it announces reachable from here? see MARIO_ADVERTISE_HOST)", fields);
    } else {
      this.#logger.warn("delivery failed, jobs handed back, worker paused", fields);
    }
    if (back.length > 0) {
      await this.#storage
        .releaseLeases(back.map((d) => ({ jobId: d.jobId, token: d.token })), new DeliveryError(String(error), back).toJobError(), false)
        .catch((e: unknown) => this.#logger.error("hand back failed; the lease will expire", { error: String(e) }));
    }
    this.kick();
  }

  /** Jobs whose lease expired more often than their attempts allow: dead, with the last error. */
  async #deadLetterExpired(leases: Lease[]): Promise<void> {
    const settlements: Settlement[] = leases.map((lease) => ({
      kind: "dead",
      jobId: lease.job.id,
      token: lease.token,
      error: lease.job.error ?? new LeaseLostError("attempts exhausted by lost leases").toJobError(),
    }));
    const results = await this.#storage.settle(settlements);
    leases.forEach((lease, i) => {
      if (results[i] !== "ok") return;
      this.events.emit("job:finished", { jobId: lease.job.id, pipeline: lease.job.pipeline, status: "dead", error: settlements[i]!.kind === "dead" ? (settlements[i] as { error: JobError }).error : undefined });
    });
  }

  #scheduleRetryKick(delayMs: number): void {
    if (!this.#running || delayMs >= this.#pollIntervalMs) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.kick(), delayMs + 1);
  }

  #takeInFlight(outcome: StepOutcome): InFlight | undefined {
    const slot = this.#workers.get(outcome.workerId);
    const flight = slot?.inFlight.get(outcome.jobId);
    if (slot === undefined || flight === undefined || flight.delivery.token !== outcome.token) return undefined;
    slot.inFlight.delete(outcome.jobId);
    return flight;
  }

  /**
   * Asks storage whether it still holds the store this dispatcher started on. Once it says lost
   * (Redis emptied or replaced), dispatching stops for good: leasing from an empty store would
   * go on as if no job had existed. Other failures are left to the calls that follow.
   */
  async #storageIntact(): Promise<boolean> {
    if (this.#lost !== undefined) return false;
    try {
      await this.#storage.ping();
    } catch (error) {
      if (!(error instanceof StorageLostError)) return true;
      this.#lost = error;
      this.#logger.error("storage lost: dispatching stopped", { reason: error.message });
      await this.pause();
      return false;
    }
    return true;
  }

  #reclaim(): void {
    void (async () => {
      if (!(await this.#storageIntact())) return;
      let reclaimed = 0;
      for (const pipeline of this.#pipelines) reclaimed += await this.#storage.reclaimExpired(pipeline.name);
      if (reclaimed > 0) {
        this.#logger.warn("expired leases reclaimed", { jobs: reclaimed });
        this.kick();
      }
    })().catch((error: unknown) => this.#logger.error("reclaim failed", { error: String(error) }));
  }

  #indexPipelines(): void {
    const byType = new Map<string, string[]>();
    for (const pipeline of this.#pipelines) {
      for (const step of new Set(pipeline.steps)) {
        const list = byType.get(step) ?? [];
        list.push(pipeline.name);
        byType.set(step, list);
      }
    }
    this.#pipelinesByType = byType;
  }
}
