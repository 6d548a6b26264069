/**
 * The Cluster view of a Dispatcher in this process (what `mario up` serves over HTTP): the
 * dispatcher's front door, under the names the gateway uses.
 */
import type { JobRecord } from "../core/job.ts";
import type { EventSource } from "../core/typed-emitter.ts";
import { isFinal } from "../core/job.ts";
import type { ClusterEnqueueOutcome, ClusterRunOptions, ClusterRunOutcome } from "./cluster.ts";
import type { CancelResult, DeleteResult, JobPage, JobQuery, ListJobsQuery, PipelineStats, WorkerInfo } from "../storage/storage-backend.ts";
import type { Cluster, ClusterEvents, Readiness } from "./cluster.ts";
import type { ScheduleView } from "./schedule-views.ts";
import type { Dispatcher, EnqueueOptions, RedriveDeadAnswer, RedriveDeadFilter, RedriveOptions } from "./dispatcher.ts";

export class DispatcherCluster implements Cluster {
  readonly reportsSteps = true;
  readonly #dispatcher: Dispatcher;

  constructor(dispatcher: Dispatcher) {
    this.#dispatcher = dispatcher;
  }

  get events(): EventSource<ClusterEvents> {
    // The dispatcher's events are a superset of the cluster's.
    return this.#dispatcher.events;
  }

  pipelines() {
    return this.#dispatcher.pipelines;
  }

  enqueue(pipeline: string, instructions: unknown, options?: EnqueueOptions): Promise<ClusterEnqueueOutcome> {
    return this.#dispatcher.enqueue(pipeline, instructions, options);
  }

  async run(pipeline: string, instructions: unknown, options: ClusterRunOptions): Promise<ClusterRunOutcome> {
    const { waitMs, signal, ...enqueue } = options;
    const outcome = await this.#dispatcher.enqueue(pipeline, instructions, enqueue);
    if (outcome.status === "busy" || isFinal(outcome.job.status)) return outcome;
    const job = (await this.#dispatcher.waitForFinal(outcome.job.id, { timeoutMs: waitMs, signal })) ?? (await this.getJob(outcome.job.id)) ?? outcome.job;
    return { status: outcome.status, job };
  }

  getJob(jobId: string): Promise<JobRecord | undefined> {
    return this.#dispatcher.get(jobId);
  }

  async waitFor(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    return (await this.#dispatcher.waitForFinal(jobId, { timeoutMs, signal })) ?? this.getJob(jobId);
  }

  redrive(jobId: string, options?: RedriveOptions): Promise<boolean> {
    return this.#dispatcher.redrive(jobId, options);
  }

  redriveDead(pipeline: string, filter?: RedriveDeadFilter): Promise<RedriveDeadAnswer> {
    return this.#dispatcher.redriveDead(pipeline, filter);
  }

  deleteJob(jobId: string): Promise<DeleteResult> {
    return this.#dispatcher.forget(jobId);
  }

  cancel(jobId: string): Promise<CancelResult> {
    return this.#dispatcher.cancel(jobId);
  }

  findJobs(query: JobQuery): Promise<JobPage> {
    return this.#dispatcher.find(query);
  }

  listJobs(query?: ListJobsQuery): Promise<JobRecord[]> {
    return this.#dispatcher.list(query);
  }

  stats(): Promise<PipelineStats[]> {
    return this.#dispatcher.stats();
  }

  workers(): Promise<WorkerInfo[]> {
    return this.#dispatcher.workers();
  }

  ready(): Promise<Readiness> {
    return this.#dispatcher.ready();
  }

  schedules(): Promise<ScheduleView[]> {
    return this.#dispatcher.schedules();
  }
}
