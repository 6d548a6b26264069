/**
 * What the HTTP gateway and the dashboard see of a running Mario: pipelines, jobs, stats, workers,
 * live events. One interface, two implementations: `DispatcherCluster` (the engine in this
 * process, as `mario up` runs it) and a remote one (a gateway in front of pipeline servers).
 */
import type { EnqueueOptions } from "../core/enqueue-rules.ts";
import type { JobRecord } from "../core/job.ts";
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { EventSource } from "../core/typed-emitter.ts";
import type { JobSummary } from "../core/job-summary.ts";
import type { CancelResult, DeleteResult, JobPage, JobQuery, ListJobsQuery, PipelineStats, WorkerInfo } from "../storage/storage-backend.ts";
import type { ScheduleView } from "./schedule-views.ts";
import type { DispatcherEvents, RedriveDeadAnswer, RedriveDeadFilter, RedriveOptions } from "./dispatcher.ts";

/** What an enqueue answers through a cluster: the job's summary (a remote server sends no more), or busy. */
export type ClusterEnqueueOutcome = { status: "created" | "duplicate"; job: JobSummary } | { status: "busy" };

/** What an enqueue-and-wait answers: the job's record (final, or as it is when the wait ran out or `signal` aborted), or busy. */
export type ClusterRunOutcome = { status: "created" | "duplicate"; job: JobRecord } | { status: "busy" };

/** An enqueue's options, and how long to wait for the job (`waitMs`), or until `signal` aborts. */
export interface ClusterRunOptions extends EnqueueOptions {
  waitMs: number;
  signal?: AbortSignal | undefined;
}

/** The engine's events a gateway shows; `job:log` only where attempts run in this process (`reportsSteps`). */
export interface ClusterEvents extends Record<string, unknown[]>, Pick<DispatcherEvents, "job:started" | "step:finished" | "job:finished" | "job:log" | "worker:added" | "worker:removed"> {
  "job:accepted": [job: { jobId: string; pipeline: string }];
}

/** `code`: the error code of what is wrong, when known (e.g. STORAGE_LOST, STORAGE_UNAVAILABLE). */
export type Readiness = { ok: true } | { ok: false; reason: string; code?: string | undefined };

export interface Cluster {
  /** Every pipeline served, one-step pipelines included. */
  pipelines(): readonly PipelineDefinition[];
  /** Throws UnknownPipelineError, InvalidInstructionsError; answers `busy` when saturated. */
  enqueue(pipeline: string, instructions: unknown, options?: EnqueueOptions): Promise<ClusterEnqueueOutcome>;
  /**
   * Enqueues and waits (`POST …/jobs?wait`): one request to a remote server. Throws as `enqueue`
   * does. Optional: without it the gateway enqueues, then waits.
   */
  run?(pipeline: string, instructions: unknown, options: ClusterRunOptions): Promise<ClusterRunOutcome>;
  getJob(jobId: string): Promise<JobRecord | undefined>;
  /** The job's record once final, or its current record when `timeoutMs` passes or `signal` aborts first. */
  waitFor(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined>;
  /** Requeues a dead or cancelled job (with `input`, its step runs on that instead). False when it is neither. */
  redrive(jobId: string, options?: RedriveOptions): Promise<boolean>;
  /** Requeues the dead jobs of a pipeline that match `filter` (at most 1000 a call). */
  redriveDead(pipeline: string, filter?: RedriveDeadFilter): Promise<RedriveDeadAnswer>;
  /** Forgets a finished job. */
  deleteJob(jobId: string): Promise<DeleteResult>;
  /** Cancels a job: at once when not running; a running one is stopped (see `Dispatcher.cancel`). */
  cancel(jobId: string): Promise<CancelResult>;
  listJobs(query?: ListJobsQuery): Promise<JobRecord[]>;
  /** A page of jobs, newest first, filtered (cursor paging). */
  findJobs(query: JobQuery): Promise<JobPage>;
  stats(): Promise<PipelineStats[]>;
  workers(): Promise<WorkerInfo[]>;
  /** Storage answers and the pipeline link is up. */
  ready(): Promise<Readiness>;
  /** Cron schedules stored for the pipelines served, with next run and last job (`GET /schedules`); none when absent. */
  schedules?(): Promise<ScheduleView[]>;
  /** Live changes, for server-sent events. */
  readonly events: EventSource<ClusterEvents>;
  /**
   * True when `events` include every finished step and job (the engine runs in this process);
   * false when work done elsewhere shows only in storage (stats), as behind `mario gateway`.
   */
  readonly reportsSteps: boolean;
}
