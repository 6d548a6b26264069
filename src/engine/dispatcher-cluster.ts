/**
 * The Cluster view of a Dispatcher in this process (what `mario up` serves over HTTP).
 */
import { findPipeline } from "../core/pipeline-definition.ts";
import type { JobRecord } from "../core/job.ts";
import type { TypedEmitter } from "../core/typed-emitter.ts";
import type { EnqueueOutcome, ListJobsQuery, PipelineStats, WorkerInfo } from "../storage/storage-backend.ts";
import type { Cluster, ClusterEvents, Readiness } from "./cluster.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { waitForFinal } from "./wait-for-final.ts";

export class DispatcherCluster implements Cluster {
  readonly reportsSteps = true;
  readonly #dispatcher: Dispatcher;

  constructor(dispatcher: Dispatcher) {
    this.#dispatcher = dispatcher;
  }

  get events(): TypedEmitter<ClusterEvents> {
    // The dispatcher's events are a superset of the cluster's.
    return this.#dispatcher.events;
  }

  pipelines() {
    return this.#dispatcher.pipelines;
  }

  enqueue(pipeline: string, instructions: unknown, options: { idempotencyKey?: string | undefined } = {}): Promise<EnqueueOutcome> {
    findPipeline(this.#dispatcher.pipelines, pipeline);
    return this.#dispatcher.enqueue(pipeline, instructions, options);
  }

  getJob(jobId: string): Promise<JobRecord | undefined> {
    return this.#dispatcher.storage.getJob(jobId);
  }

  async waitFor(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    return (await waitForFinal(this.#dispatcher, jobId, { timeoutMs, signal })) ?? this.getJob(jobId);
  }

  async redrive(jobId: string): Promise<boolean> {
    const ok = await this.#dispatcher.storage.redrive(jobId);
    if (ok) this.#dispatcher.kick();
    return ok;
  }

  listJobs(query?: ListJobsQuery): Promise<JobRecord[]> {
    return this.#dispatcher.storage.listJobs(query);
  }

  stats(): Promise<PipelineStats[]> {
    return Promise.all(this.#dispatcher.pipelines.map((p) => this.#dispatcher.storage.getStats(p.name)));
  }

  async workers(): Promise<WorkerInfo[]> {
    const own = this.#dispatcher.workers();
    const ids = new Set(own.map((w) => w.workerId));
    const stored = (await this.#dispatcher.storage.listWorkers()).filter((w) => !ids.has(w.workerId));
    return [...own, ...stored];
  }

  async ready(): Promise<Readiness> {
    try {
      await this.#dispatcher.storage.ping();
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `storage: ${(error as Error).message}`, code: (error as { code?: string }).code };
    }
  }
}
