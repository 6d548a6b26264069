/**
 * In-memory storage: the embedded default. Fast, and gone with the process.
 *
 * ```ts
 * const storage = new MemoryStorageBackend();
 * await storage.initialize([{ name: "example-one", steps: ["generate-file", "delete-file"] }]);
 * ```
 */
import { cloneData } from "../../core/clone-data.ts";
import { LeaseLostError } from "../../core/errors/lease-lost-error.ts";
import { UnknownPipelineError } from "../../core/errors/unknown-pipeline-error.ts";
import { newId, newLeaseToken } from "../../core/ids.ts";
import { isFinal, type Instructions, type JobError, type JobRecord, type StepRecord } from "../../core/job.ts";
import type { PipelineDefinition } from "../../core/pipeline-definition.ts";
import { decodeCursor, isAfter, matches, pageLimit, pageOf, type JobPage, type JobQuery } from "../job-query.ts";
import { observe } from "../latency-histogram.ts";
import {
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_FINISHED,
  DEFAULT_MAX_QUEUED,
  DEFAULT_WORKER_TTL_MS,
  mostFreeWorker,
  type CancelResult,
  type DeleteResult,
  type EnqueueOutcome,
  type EnqueueRequest,
  type Lease,
  type LeaseRef,
  type ListJobsQuery,
  type PipelineStats,
  type ReleaseKind,
  type Settlement,
  type SettleResult,
  type StorageBackend,
  type StorageOptions,
  type WorkerInfo,
} from "../storage-backend.ts";
import { PipelineState, type StepCounters, type StoredJob } from "./pipeline-state.ts";
import { WorkerRegistry } from "./worker-registry.ts";
import { MemoryStepLimits, withHeldBack } from "./_step-limits.ts";
import type { LeaseLimits } from "../../core/step-limits.ts";
import { MemoryScheduleStore } from "./_schedules.ts";
import { cancelRequestedOf, cancelStored, endCancelled } from "./_cancel.ts";

export interface MemoryStorageOptions extends StorageOptions {
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined;
}

export class MemoryStorageBackend implements StorageBackend {
  readonly schedules = new MemoryScheduleStore();
  readonly #jobs = new Map<string, StoredJob>();
  readonly #pipelines = new Map<string, PipelineState>();
  readonly #idempotency = new Map<string, string>();
  readonly #workers: WorkerRegistry;
  readonly #limits = new MemoryStepLimits();
  readonly #now: () => number;
  readonly #maxQueued: number;
  readonly #maxFinished: number;
  readonly #maxAgeMs: number;

  constructor(options: MemoryStorageOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.#maxFinished = options.retention?.maxFinished ?? DEFAULT_MAX_FINISHED;
    this.#maxAgeMs = options.retention?.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#workers = new WorkerRegistry(options.workerTtlMs ?? DEFAULT_WORKER_TTL_MS);
  }

  async connect(): Promise<void> {}

  async close(): Promise<void> {}

  async ping(): Promise<void> {}

  async initialize(pipelines: readonly PipelineDefinition[]): Promise<void> {
    for (const definition of pipelines) {
      const existing = this.#pipelines.get(definition.name);
      if (existing === undefined) this.#pipelines.set(definition.name, new PipelineState(definition));
      else existing.definition = definition;
    }
  }

  async enqueueJob(request: EnqueueRequest): Promise<EnqueueOutcome> {
    const [outcome] = await this.enqueueJobs([request]);
    return outcome!;
  }

  async enqueueJobs(requests: readonly EnqueueRequest[]): Promise<EnqueueOutcome[]> {
    // All or nothing: what can throw (copying instructions, an empty route) happens before the first write.
    if (requests.length === 1) return [this.#enqueue(requests[0]!, this.#copyOf(requests[0]!))];
    const copies = requests.map((request) => this.#copyOf(request));
    return requests.map((request, i) => this.#enqueue(request, copies[i]!));
  }

  /** The instructions storage keeps: its own copy (the caller's object stays the caller's). */
  #copyOf(request: EnqueueRequest): Instructions {
    if (request.route[0] === undefined) throw new UnknownPipelineError(request.pipeline, [...this.#pipelines.keys()]);
    return cloneData(request.instructions);
  }

  /** `instructions` is the request's own copy, already made. */
  #enqueue(request: EnqueueRequest, instructions: Instructions): EnqueueOutcome {
    const state = this.#state(request.pipeline);
    const idemKey = request.idempotencyKey === undefined ? undefined : `${request.pipeline}\u0000${request.idempotencyKey}`;
    if (idemKey !== undefined) {
      const existingId = this.#idempotency.get(idemKey);
      const existing = existingId === undefined ? undefined : this.#jobs.get(existingId);
      if (existing !== undefined) return { status: "duplicate", job: cloneData(existing.record) };
    }
    if (state.unfinished >= this.#maxQueued) return { status: "busy" };
    const now = this.#now();
    const first = request.route[0]!;
    const record: JobRecord = {
      id: request.id ?? newId(now),
      pipeline: request.pipeline,
      route: [...request.route],
      stepIndex: 0,
      step: first,
      status: "queued",
      attempts: 0,
      // Never mutated in place, so the record's instructions and first input may share one copy.
      instructions,
      input: {},
      steps: [],
      idempotencyKey: request.idempotencyKey,
      ...(request.concurrencyKey === undefined ? {} : { concurrencyKey: request.concurrencyKey }),
      createdAt: now,
      updatedAt: now,
    };
    record.input = record.instructions;
    this.#jobs.set(record.id, { record });
    if (idemKey !== undefined) this.#idempotency.set(idemKey, record.id);
    state.accepted++;
    state.unfinished++;
    state.placeNew(record, request, now);
    // The answer shares nothing with what is stored: its fields are primitives but for the route,
    // the (empty) steps and the instructions, which are the caller's own object (storage keeps a copy).
    const answered = request.instructions;
    return { status: "created", job: { ...record, route: [...record.route], steps: [], instructions: answered, input: answered } };
  }

  async leaseNext(pipeline: string, jobType: string, count: number, leaseMs: number, workerId?: string, limits?: LeaseLimits): Promise<Lease[]> {
    const state = this.#state(pipeline);
    const now = this.#now();
    state.promoteDue(this.#jobs, now);
    const queue = state.queue(jobType);
    const queuedAt = (id: string): number => this.#jobs.get(id)?.record.updatedAt ?? 0;
    const leases: Lease[] = [];
    const lease = (stored: StoredJob): void => {
      const token = newLeaseToken();
      const record = stored.record;
      stored.token = token;
      record.status = "running";
      record.attempts += 1;
      record.dueAt = record.updatedAt;
      record.updatedAt = now;
      record.startedAt ??= now;
      record.workerId = workerId;
      record.leaseExpiresAt = now + leaseMs;
      record.runAt = undefined;
      state.running.add(record.id);
      // A shallow copy: the engine reads leases and never mutates them.
      leases.push({ job: { ...record }, token, attempt: record.attempts, expiresAt: record.leaseExpiresAt });
    };
    if (limits !== undefined) {
      this.#limits.lease(pipeline, jobType, count, now, limits, { jobs: this.#jobs, next: () => queue.shift(queuedAt), lease });
      return leases;
    }
    while (leases.length < count) {
      const id = queue.shift(queuedAt);
      if (id === undefined) break;
      const stored = this.#jobs.get(id);
      if (stored !== undefined) lease(stored);
    }
    return leases;
  }

  async consumeJobOfType(pipeline: string, jobType: string, leaseMs = 30_000): Promise<Lease | undefined> {
    const [lease] = await this.leaseNext(pipeline, jobType, 1, leaseMs);
    return lease;
  }

  async settle(settlements: readonly Settlement[]): Promise<SettleResult[]> {
    return settlements.map((settlement) => this.#settle(settlement));
  }

  #settle(settlement: Settlement): SettleResult {
    const stored = this.#leased(settlement.jobId, settlement.token);
    if (stored === undefined) return "stale";
    const record = stored.record;
    const state = this.#state(record.pipeline);
    const now = this.#now();
    const counters = state.counters(record.step);
    stored.token = undefined;
    state.running.delete(record.id);
    this.#limits.left(stored);
    record.workerId = undefined;
    record.leaseExpiresAt = undefined;
    record.dueAt = undefined;
    record.updatedAt = now;
    const cancelling = record.cancelRequestedAt !== undefined;
    if (settlement.attempt !== undefined) {
      const attempt = { ...cloneData(settlement.attempt), ...(cancelling ? { outcome: "cancelled" as const } : {}) };
      (record.history ??= []).push(attempt);
      if (attempt.dueAt !== undefined) observe(counters.queueWait, Math.max(0, attempt.startedAt - attempt.dueAt));
    }
    if (cancelling) {
      endCancelled(stored, state, now, (s, r, t) => this.#finish(s, r, t));
      return "cancelled";
    }
    switch (settlement.kind) {
      case "advance": {
        const input = cloneData(settlement.input);
        this.#recordStep(record, counters, { ...settlement.step, output: input });
        record.stepIndex = settlement.nextIndex;
        record.step = record.route[settlement.nextIndex] ?? record.step;
        record.input = input;
        record.concurrencyKey = settlement.concurrencyKey;
        record.attempts = 0;
        record.progress = undefined;
        record.error = undefined;
        record.status = "queued";
        state.queue(record.step).push(record.id, record.priority);
        return "ok";
      }
      case "succeed": {
        const output = cloneData(settlement.step.output);
        this.#recordStep(record, counters, { ...settlement.step, output });
        record.result = settlement.result === settlement.step.output ? output : cloneData(settlement.result);
        record.error = undefined;
        record.status = "succeeded";
        state.succeeded++;
        this.#finish(state, record, now);
        return "ok";
      }
      case "retry":
      case "dead": {
        counters.failed++;
        if (settlement.timing !== undefined) observe(counters.latency, settlement.timing.finishedAt - settlement.timing.startedAt);
        record.error = settlement.error;
        if (settlement.kind === "retry") {
          record.status = "failed";
          record.runAt = now + Math.max(0, settlement.delayMs);
          state.delayed.add(record.id);
          return "ok";
        }
        counters.dead++;
        record.status = "dead";
        state.dead++;
        this.#finish(state, record, now);
        return "ok";
      }
    }
  }

  async releaseLeases(leases: readonly LeaseRef[], reason: JobError, kind: ReleaseKind): Promise<number> {
    let released = 0;
    for (const { jobId, token } of leases) {
      const stored = this.#leased(jobId, token);
      if (stored === undefined) continue;
      this.#requeueFront(stored, reason, kind);
      released++;
    }
    return released;
  }

  async reclaimExpired(pipeline: string): Promise<number> {
    const state = this.#state(pipeline);
    const now = this.#now();
    let reclaimed = 0;
    for (const id of [...state.running]) {
      const stored = this.#jobs.get(id);
      if (stored === undefined || (stored.record.leaseExpiresAt ?? 0) > now) continue;
      this.#requeueFront(stored, new LeaseLostError("lease expired before the attempt was acknowledged").toJobError(), "expired");
      reclaimed++;
    }
    return reclaimed;
  }

  async redrive(jobId: string, options: { input?: Instructions | undefined } = {}): Promise<boolean> {
    const stored = this.#jobs.get(jobId);
    const was = stored?.record.status;
    if (stored === undefined || (was !== "dead" && was !== "cancelled")) return false;
    const record = stored.record;
    if (options.input !== undefined) record.input = cloneData(options.input);
    const state = this.#state(record.pipeline);
    state.finished.remove(record.id);
    if (was === "dead") state.dead--;
    else state.cancelled--;
    state.unfinished++;
    record.status = "queued";
    record.attempts = 0;
    record.finishedAt = undefined;
    record.updatedAt = this.#now();
    state.queue(record.step).push(record.id, record.priority);
    return true;
  }

  async deleteJob(jobId: string): Promise<DeleteResult> {
    const stored = this.#jobs.get(jobId);
    if (stored === undefined) return "missing";
    const record = stored.record;
    if (!isFinal(record.status)) return "not-finished";
    const state = this.#state(record.pipeline);
    state.finished.remove(record.id);
    if (record.status === "dead") state.dead--;
    if (record.status === "cancelled") state.cancelled--;
    this.#forget(record.id);
    return "deleted";
  }

  async cancel(jobId: string): Promise<CancelResult> {
    const stored = this.#jobs.get(jobId);
    if (stored === undefined) return { status: "missing" };
    return cancelStored(stored, this.#state(stored.record.pipeline), this.#now(), (s, r, t) => this.#finish(s, r, t), (held) => this.#limits.forget(held));
  }

  async cancelRequested(pipeline: string, jobIds: readonly string[]): Promise<string[]> {
    return cancelRequestedOf(this.#jobs, pipeline, jobIds);
  }

  async findJobs(query: JobQuery): Promise<JobPage> {
    const position = decodeCursor(query.cursor);
    const candidates: JobRecord[] = [];
    for (const { record } of this.#jobs.values()) if (isAfter(record, position) && matches(record, query)) candidates.push(record);
    const page = pageOf(candidates, pageLimit(query));
    return { ...page, jobs: page.jobs.map((job) => cloneData(job)) };
  }

  async setProgress({ jobId, token }: LeaseRef, fraction: number, message?: string): Promise<void> {
    const stored = this.#leased(jobId, token);
    if (stored === undefined) return;
    stored.record.progress = { fraction: Math.min(1, Math.max(0, fraction)), ...(message === undefined ? {} : { message }) };
    stored.record.updatedAt = this.#now();
  }

  async getJob(jobId: string): Promise<JobRecord | undefined> {
    return (await this.getJobs([jobId]))[0];
  }

  async getJobs(jobIds: readonly string[]): Promise<(JobRecord | undefined)[]> {
    return jobIds.map((id) => {
      const stored = this.#jobs.get(id);
      return stored === undefined ? undefined : cloneData(stored.record);
    });
  }

  async finalOrGone(pipeline: string, jobIds: readonly string[]): Promise<boolean[]> {
    return jobIds.map((id) => {
      const record = this.#jobs.get(id)?.record;
      return record === undefined || record.pipeline !== pipeline || isFinal(record.status);
    });
  }

  async listJobs(query: ListJobsQuery = {}): Promise<JobRecord[]> {
    const limit = Math.min(1000, Math.max(1, query.limit ?? 50));
    const all = [...this.#jobs.values()];
    const found: JobRecord[] = [];
    for (let i = all.length - 1; i >= 0 && found.length < limit; i--) {
      const record = all[i]!.record;
      if (query.pipeline !== undefined && record.pipeline !== query.pipeline) continue;
      if (query.status !== undefined && record.status !== query.status) continue;
      found.push(cloneData(record));
    }
    return found;
  }

  async getStats(pipeline: string): Promise<PipelineStats> {
    return withHeldBack(this.#state(pipeline).stats(this.#jobs), this.#limits, this.#now());
  }

  async registerWorker(worker: WorkerInfo): Promise<void> {
    this.#workers.register(worker);
  }

  async unregisterWorker(workerId: string, instance?: string): Promise<void> {
    this.#workers.unregister(workerId, instance);
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    return this.#workers.list(this.#now());
  }

  async getNextAvailableWorkerForType(jobType: string): Promise<WorkerInfo | undefined> {
    return mostFreeWorker(this.#workers.list(this.#now()), jobType);
  }

  #state(pipeline: string): PipelineState {
    const state = this.#pipelines.get(pipeline);
    if (state === undefined) throw new UnknownPipelineError(pipeline, [...this.#pipelines.keys()]);
    return state;
  }

  #leased(jobId: string, token: string): StoredJob | undefined {
    const stored = this.#jobs.get(jobId);
    return stored !== undefined && stored.token === token && stored.record.status === "running" ? stored : undefined;
  }

  /** `step` must be a copy the caller owns. */
  #recordStep(record: JobRecord, counters: StepCounters, step: StepRecord): void {
    counters.succeeded++;
    observe(counters.latency, step.finishedAt - step.startedAt);
    record.steps.push(step);
  }

  /** `expired`: the lease ran out (the attempt counts); otherwise see `releaseLeases`. */
  #requeueFront(stored: StoredJob, reason: JobError, kind: ReleaseKind | "expired"): void {
    const record = stored.record;
    const state = this.#state(record.pipeline);
    stored.token = undefined;
    state.running.delete(record.id);
    if (kind !== "expired") record.attempts = Math.max(0, record.attempts - 1);
    if (record.cancelRequestedAt !== undefined) {
      this.#limits.left(stored);
      endCancelled(stored, state, this.#now(), (s, r, t) => this.#finish(s, r, t));
      return;
    }
    if (kind === "stall") {
      record.stalls = (record.stalls ?? 0) + 1;
      state.counters(record.step).stalled++;
    }
    record.status = "queued";
    record.error = reason;
    record.workerId = undefined;
    record.leaseExpiresAt = undefined;
    record.updatedAt = this.#now();
    if (!this.#limits.backInLine(stored)) state.queue(record.step).unshift(record.id, record.priority);
  }

  #finish(state: PipelineState, record: JobRecord, now: number): void {
    record.finishedAt = now;
    record.progress = record.status === "succeeded" ? { fraction: 1 } : record.progress;
    state.unfinished--;
    state.finished.push(record.id);
    while (state.finished.length > this.#maxFinished) this.#forget(state.finished.shift());
    for (;;) {
      const oldest = state.finished.peek();
      const finishedAt = oldest === undefined ? undefined : this.#jobs.get(oldest)?.record.finishedAt;
      if (finishedAt === undefined || finishedAt > now - this.#maxAgeMs) break;
      this.#forget(state.finished.shift());
    }
  }

  #forget(jobId: string | undefined): void {
    if (jobId === undefined) return;
    const record = this.#jobs.get(jobId)?.record;
    this.#jobs.delete(jobId);
    if (record?.idempotencyKey !== undefined) this.#idempotency.delete(`${record.pipeline}\u0000${record.idempotencyKey}`);
  }
}
