/**
 * The storage port: everything the engine asks of storage, in its own words. Two implementations
 * pass one contract suite (`test/support/storage-contract.ts`): memory (default) and Redis.
 *
 * Rules every implementation keeps:
 * - Every method that changes state is atomic: it happens whole or not at all.
 * - A job is leased, never popped. A lease carries a `token`; `settle` with a token that is no
 *   longer the job's current lease (expired and reclaimed, released, already settled) changes
 *   nothing and reports `stale`.
 * - Lease expiry and retry times use the storage's own clock (Redis `TIME`), not the caller's.
 * - Counters stay consistent: accepted = succeeded + dead + cancelled + queued + delayed + running + failed.
 * - A job enqueued with `delayMs` or `runAt` is stored `delayed` (its due time in `runAt`, on the
 *   storage's clock) and moved to its first step's queue by `leaseNext` once due, as a retry is.
 *   It lives in one place: memory `PipelineState.delayedStarts`, Redis the `delayed` ZSET (with
 *   the retries; its status says which).
 * - Priorities (`priority` 0–9, on the job record, absent = 0): every push to a step's queue
 *   (enqueue, advance, promotion, release, reclaim, redrive) goes to the job's level; a lease
 *   takes the highest level first, FIFO within a level, and while two or more levels wait, every
 *   10th lease of the step takes the job waiting longest (the oldest head): no level starves.
 * - A job a cancel was asked for while it ran (`cancelRequestedAt`) is never queued again: however
 *   its lease ends (settled, released, reclaimed), it ends `cancelled`.
 */
import type { AttemptRecord, Instructions, JobError, JobRecord, JobStatus, StepRecord } from "../core/job.ts";
import type { JobPage, JobQuery } from "./job-query.ts";
import type { ScheduleStore } from "./schedule-store.ts";

export type { JobPage, JobQuery } from "./job-query.ts";
export type { ScheduleSpec, ScheduleState, ScheduleStore } from "./schedule-store.ts";
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { LeaseLimits } from "../core/step-limits.ts";

export type { LeaseLimits } from "../core/step-limits.ts";

export interface EnqueueRequest {
  pipeline: string;
  /** Job types of the pipeline; the job starts at `route[0]`. */
  route: readonly string[];
  instructions: Instructions;
  /** Same key, same pipeline: the same job is answered and nothing new is created. */
  idempotencyKey?: string | undefined;
  /** Id to use (tests, replays); a new one is made otherwise. */
  id?: string | undefined;
  /** The job's concurrency key at its first step (computed by the engine from the step's config). */
  concurrencyKey?: string | undefined;
  /** Stored `delayed` until storage's clock reaches now + delayMs (ms, > 0). */
  delayMs?: number | undefined;
  /** Stored `delayed` until storage's clock reaches this time (epoch ms); queued at once when already past. Not with `delayMs`. */
  runAt?: number | undefined;
  /** 1–9 (absent = 0): the job's level in every queue of its pipeline. */
  priority?: number | undefined;
}

export type EnqueueOutcome =
  | { status: "created"; job: JobRecord }
  | { status: "duplicate"; job: JobRecord }
  /** The pipeline holds `maxQueued` jobs not yet finished: nothing was written. */
  | { status: "busy" };

/**
 * What a lease carries of its job: its record, with its `input` (and `error`, `history` when it
 * has them), but not necessarily its `instructions` or `steps`, which a worker does not need
 * (Redis leaves them in storage; memory hands its whole record).
 */
export type LeasedJob = Omit<JobRecord, "instructions" | "steps"> & Partial<Pick<JobRecord, "instructions" | "steps">>;

/** A job handed out for one attempt of its current step. */
export interface Lease {
  job: LeasedJob;
  /** Proof of this lease; required to settle. */
  token: string;
  /** 1-based attempt at the current step. */
  attempt: number;
  expiresAt: number;
}

export interface StepTiming {
  startedAt: number;
  finishedAt: number;
}

/** One lease of one job, as the engine names it to storage: the pipeline travels with it. */
export interface LeaseRef {
  pipeline: string;
  jobId: string;
  token: string;
}

/**
 * What to do with a leased job. Decided by the core (`pipeline-flow.ts`), applied atomically.
 * `attempt`, when given, is appended to the job's history (and its wait from `dueAt` to
 * `startedAt` observed in the step's queue-wait histogram).
 */
export type Settlement = LeaseRef &
  { attempt?: AttemptRecord | undefined } &
  (
    | { kind: "advance"; step: StepRecord; nextIndex: number; input: Instructions; concurrencyKey?: string | undefined }
    | { kind: "succeed"; step: StepRecord; result: unknown }
    | { kind: "retry"; error: JobError; delayMs: number; timing?: StepTiming | undefined }
    | { kind: "dead"; error: JobError; timing?: StepTiming | undefined }
  );

/** Why leases are handed back (see `StorageBackend.releaseLeases`). */
export type ReleaseKind = "stall" | "untried";
/** `deleteJob`: forgotten, not finished (refused), or no such job. */
export type DeleteResult = "deleted" | "not-finished" | "missing";

/**
 * What `cancel` did. `cancelled`: it was queued, delayed or waiting for a retry, and is cancelled
 * now. `cancelling`: it is running (its `workerId` holds the lease): a cancel is recorded on it
 * (`cancelRequestedAt`) and its lease ends in `cancelled`. `final`: already succeeded, dead or
 * cancelled, nothing changed. `missing`: no such job.
 */
export type CancelResult =
  | { status: "cancelled" | "cancelling" | "final"; job: JobRecord }
  | { status: "missing" };

/**
 * `ok`: applied. `stale`: the token is not the job's current lease; nothing changed.
 * `cancelled`: the lease ended, but a cancel was asked for while the job ran: it is cancelled
 * (the settlement's output or error discarded, the attempt kept with outcome `cancelled`).
 */
export type SettleResult = "ok" | "stale" | "cancelled";

export interface WorkerInfo {
  workerId: string;
  jobType: string;
  /** Where the worker takes jobs (its bound address). */
  address: string;
  capacity: number;
  inFlight: number;
  host: string;
  pid: number;
  /** Epoch ms of the last announcement. */
  lastSeen: number;
  startedAt?: number | undefined;
  /**
   * Which incarnation of the worker this entry is (a worker dropped and re-joined keeps its id):
   * an unregister naming an instance removes only that one.
   */
  instance?: string | undefined;
  /** Epoch ms until which the worker gets no new jobs: its deliveries kept going unanswered. */
  quarantinedUntil?: number | undefined;
}

export interface ListJobsQuery {
  pipeline?: string | undefined;
  status?: JobStatus | undefined;
  /** Most recent first. Default 50, at most 1000. */
  limit?: number | undefined;
}

/** Cumulative latency histogram, Prometheus-style: `counts[i]` observations ≤ `bucketsMs[i]`. */
export interface LatencyHistogram {
  bucketsMs: readonly number[];
  /** Per bucket (not cumulative), plus one last entry for +Inf. */
  counts: number[];
  sumMs: number;
  count: number;
}

export interface StepStats {
  jobType: string;
  queued: number;
  running: number;
  /** Waiting for a retry. */
  delayed: number;
  /** Delayed jobs (status `delayed`) waiting at this step for their start time; absent counts as 0. */
  delayedStart?: number | undefined;
  /** Epoch ms of the oldest job waiting in this step's queue, or null. */
  oldestQueuedAt: number | null;
  /** Attempts of this step that succeeded / failed (a retried job counts each failure). */
  succeeded: number;
  failed: number;
  /** Jobs that died at this step. */
  dead: number;
  /** Jobs handed back at this step because their worker was lost or stopped (not attempts). */
  stalled: number;
  /** Jobs cancelled at this step, ever (a redrive leaves it alone); absent counts as 0. */
  cancelled?: number | undefined;
  latency: LatencyHistogram;
  /** Wait from due (enqueued, previous step done, retry time) to the start of an attempt. */
  queueWait?: LatencyHistogram | undefined;
  /**
   * Of `queued`, jobs held back by the step's limits: `rateLimited` wait for its rate window
   * (every job of the queue while the window is full), `keyBusy` for their concurrency key
   * (`maxPerKey` jobs of that key run). Absent counts as 0.
   */
  rateLimited?: number | undefined;
  keyBusy?: number | undefined;
}

export interface PipelineStats {
  pipeline: string;
  accepted: number;
  succeeded: number;
  dead: number;
  queued: number;
  running: number;
  /** Jobs waiting for a retry (status `failed`). */
  failed: number;
  /** Jobs waiting for their start time (status `delayed`, enqueued with a delay), not retries; absent counts as 0. */
  delayed?: number | undefined;
  /** Jobs in the `cancelled` state now (a redrive or a delete takes one out); absent counts as 0. */
  cancelled?: number | undefined;
  steps: StepStats[];
}

export interface StorageBackend {
  /** Opens connections. Safe to call twice. */
  connect(): Promise<void>;
  /** Declares the pipelines this process serves (needed before enqueue and stats). */
  initialize(pipelines: readonly PipelineDefinition[]): Promise<void>;
  /** Closes connections; in-memory state stays for a later connect. */
  close(): Promise<void>;
  /** Answers when storage is reachable; throws StorageUnavailableError otherwise. */
  ping(): Promise<void>;

  enqueueJob(request: EnqueueRequest): Promise<EnqueueOutcome>;
  enqueueJobs(requests: readonly EnqueueRequest[]): Promise<EnqueueOutcome[]>;

  /**
   * Leases up to `count` jobs waiting at `jobType` in `pipeline`, highest priority first and
   * oldest first within one (see the header: every 10th lease while several levels wait takes
   * the oldest), promoting retries and delayed jobs whose time has come. Each lease increments
   * the job's attempts.
   * With `limits` (the step's, from the server's project), it also keeps them, for the step of
   * this pipeline across every caller of this storage: at most `rate.max` leases in any
   * `rate.perMs` window (storage's clock), and at most `maxPerKey` jobs of one
   * `concurrencyKey` running. A job held back for its key waits aside (still `queued`, no attempt
   * counted, first in line for its key, FIFO) until a job of that key stops running (settled,
   * released, reclaimed, cancelled). Without `limits`, none of this is looked at.
   */
  leaseNext(pipeline: string, jobType: string, count: number, leaseMs: number, workerId?: string, limits?: LeaseLimits): Promise<Lease[]>;
  /** The original Mario's name: one lease or undefined. */
  consumeJobOfType(pipeline: string, jobType: string, leaseMs?: number): Promise<Lease | undefined>;

  settle(settlements: readonly Settlement[]): Promise<SettleResult[]>;
  /**
   * Hands leased jobs back to the front of their queue at once. The attempt is not counted.
   * `stall`: the job's worker was lost or stopped with it in flight: the job's `stalls` and the
   * step's `stalled` counter go up. `untried`: it never ran (not delivered, no worker free, handed
   * back by a worker shutting down gracefully): nothing is counted.
   */
  releaseLeases(leases: readonly LeaseRef[], reason: JobError, kind: ReleaseKind): Promise<number>;
  /** Returns jobs whose lease expired to their queue; returns how many. */
  reclaimExpired(pipeline: string): Promise<number>;
  /**
   * Requeues a dead or cancelled job at the step it ended, with its attempts reset (its history
   * kept). With `input`, that step runs on it instead of what it was given. False if neither dead
   * nor cancelled. Found by id alone (HTTP retry).
   */
  redrive(jobId: string, options?: { input?: Instructions | undefined }): Promise<boolean>;
  /** Forgets a finished job (its record, logs and history). Found by id alone. */
  deleteJob(jobId: string): Promise<DeleteResult>;
  /** Cancels a job (see `CancelResult`), atomically. Found by id alone. */
  cancel(jobId: string): Promise<CancelResult>;
  /**
   * Of these jobs of `pipeline`, leased here, those a cancel was asked for while they run (maybe
   * through another server): what the lease holder reads to tell their workers. Cheap for jobs
   * without one (no record read).
   */
  cancelRequested(pipeline: string, jobIds: readonly string[]): Promise<string[]>;

  /** Records progress of a running attempt (ignored when the token is stale). */
  setProgress(lease: LeaseRef, fraction: number, message?: string): Promise<void>;

  /** A job by id alone (`GET /jobs/:id`): storage looks in every pipeline it holds. */
  getJob(jobId: string): Promise<JobRecord | undefined>;
  /** Jobs by id; with `pipeline`, read from that pipeline only (the engine knows it). */
  getJobs(jobIds: readonly string[], pipeline?: string): Promise<(JobRecord | undefined)[]>;
  /**
   * Per id: whether the job of `pipeline` is final (succeeded, dead or cancelled) or no longer stored, read
   * without its record: what a waiter polls, so that 1000 waiters on 100 KB jobs do not read
   * 100 MB four times a second.
   */
  finalOrGone(pipeline: string, jobIds: readonly string[]): Promise<boolean[]>;
  listJobs(query?: ListJobsQuery): Promise<JobRecord[]>;
  /** A page of jobs, newest first, filtered; `next` is the cursor of the following page. */
  findJobs(query: JobQuery): Promise<JobPage>;
  getStats(pipeline: string): Promise<PipelineStats>;

  registerWorker(worker: WorkerInfo): Promise<void>;
  /** Forgets a worker; with `instance`, only while the entry is that instance (a late unregister of an old one changes nothing). */
  unregisterWorker(workerId: string, instance?: string): Promise<void>;
  listWorkers(): Promise<WorkerInfo[]>;
  getNextAvailableWorkerForType(jobType: string): Promise<WorkerInfo | undefined>;

  /** Cron schedules: definitions, last tick and job (see ./schedule-store.ts). */
  readonly schedules: ScheduleStore;
}

export interface RetentionOptions {
  /** Finished jobs kept per pipeline. Default 10 000. */
  maxFinished?: number | undefined;
  /** Finished jobs older than this many milliseconds are dropped. Default 7 days. */
  maxAgeMs?: number | undefined;
}

export interface StorageOptions {
  retention?: RetentionOptions | undefined;
  /** Unfinished jobs a pipeline may hold before enqueue answers busy. Default 100 000. */
  maxQueued?: number | undefined;
  /** Workers not seen for this many milliseconds are left out of listings. Default 30 000. */
  workerTtlMs?: number | undefined;
}

/** `getNextAvailableWorkerForType` over a listing: the worker of `jobType` with the most free capacity (the first of equals). */
export function mostFreeWorker(workers: readonly WorkerInfo[], jobType: string): WorkerInfo | undefined {
  let best: WorkerInfo | undefined;
  for (const w of workers) if (w.jobType === jobType && w.capacity - w.inFlight > (best === undefined ? 0 : best.capacity - best.inFlight)) best = w;
  return best;
}

export const DEFAULT_MAX_QUEUED = 100_000;
export const DEFAULT_MAX_FINISHED = 10_000;
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_WORKER_TTL_MS = 30_000;
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];
