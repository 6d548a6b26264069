/**
 * What the memory backend keeps of one pipeline: its queues per job type (by priority, see
 * step-queue.ts), the jobs delayed for a retry, waiting for their start time and running, the
 * finished ones in order (for retention), and its counters; and the statistics read from them.
 */
import { cloneData } from "../../core/clone-data.ts";
import type { JobRecord } from "../../core/job.ts";
import type { PipelineDefinition } from "../../core/pipeline-definition.ts";
import { emptyHistogram } from "../latency-histogram.ts";
import type { EnqueueRequest, LatencyHistogram, PipelineStats, StepStats } from "../storage-backend.ts";
import { Fifo } from "../../core/fifo.ts";
import { DueSet } from "./due-set.ts";
import { StepQueue } from "./step-queue.ts";

export interface StoredJob {
  record: JobRecord;
  /** Current lease token, or undefined when not leased. */
  token?: string | undefined;
  /** Its running lease counts against its concurrency key (see _step-limits.ts). */
  keyCounted?: boolean | undefined;
}

export interface StepCounters {
  succeeded: number;
  failed: number;
  dead: number;
  stalled: number;
  /** Jobs cancelled at this step, ever. */
  cancelled: number;
  latency: LatencyHistogram;
  queueWait: LatencyHistogram;
}

export class PipelineState {
  definition: PipelineDefinition;
  accepted = 0;
  succeeded = 0;
  dead = 0;
  /** Jobs cancelled now (a redrive or a delete takes one out). */
  cancelled = 0;
  /** Unfinished jobs (queued, delayed, running, failed). */
  unfinished = 0;
  readonly queues = new Map<string, StepQueue>();
  /** Jobs waiting for a retry, by id. */
  readonly delayed = new Set<string>();
  /** Delayed jobs (status `delayed`) waiting for their start time (`runAt`): the one place they live. */
  readonly delayedStarts = new DueSet();
  readonly running = new Set<string>();
  readonly steps = new Map<string, StepCounters>();
  readonly finished = new Fifo<string>();

  constructor(definition: PipelineDefinition) {
    this.definition = definition;
  }

  /** The queue of `jobType`'s jobs, made on first use. */
  queue(jobType: string): StepQueue {
    let queue = this.queues.get(jobType);
    if (queue === undefined) {
      queue = new StepQueue();
      this.queues.set(jobType, queue);
    }
    return queue;
  }

  /** `jobType`'s counters, made on first use. */
  counters(jobType: string): StepCounters {
    let counters = this.steps.get(jobType);
    if (counters === undefined) {
      counters = { succeeded: 0, failed: 0, dead: 0, stalled: 0, cancelled: 0, latency: emptyHistogram(), queueWait: emptyHistogram() };
      this.steps.set(jobType, counters);
    }
    return counters;
  }

  /**
   * Places a job just created (status queued, step = route[0]): `delayed` until its start time (a
   * delay from `now`, storage's clock, or an absolute `runAt`), in `delayedStarts`; otherwise at
   * the tail of its first step's queue, at its priority.
   */
  placeNew(record: JobRecord, request: EnqueueRequest, now: number): void {
    if (request.priority !== undefined && request.priority > 0) record.priority = request.priority;
    const due = request.runAt ?? (request.delayMs !== undefined && request.delayMs > 0 ? now + request.delayMs : undefined);
    if (due !== undefined && due > now) {
      record.status = "delayed";
      record.runAt = due;
      this.delayedStarts.add(record.id, due);
      return;
    }
    this.queue(record.step).push(record.id, record.priority);
  }

  /** Jobs whose retry or start time is due go to their queues (at their priority), earliest first. */
  promoteDue(jobs: ReadonlyMap<string, StoredJob>, now: number): void {
    const due: JobRecord[] = [];
    for (const id of this.delayedStarts.takeDue(now)) {
      const record = jobs.get(id)?.record;
      if (record !== undefined) due.push(record);
    }
    for (const id of this.delayed) {
      const record = jobs.get(id)?.record;
      if (record !== undefined && (record.runAt ?? 0) <= now) due.push(record);
    }
    if (due.length === 0) return;
    due.sort((a, b) => (a.runAt ?? 0) - (b.runAt ?? 0));
    for (const record of due) {
      this.delayed.delete(record.id);
      record.status = "queued";
      // Queued since its retry time: what its wait and the queue's age count from.
      record.updatedAt = record.runAt ?? record.updatedAt;
      record.runAt = undefined;
      this.queue(record.step).push(record.id, record.priority);
    }
  }

  stats(jobs: ReadonlyMap<string, StoredJob>): PipelineStats {
    const jobTypes = [...new Set([...this.definition.steps, ...this.queues.keys(), ...this.steps.keys()])];
    const steps = jobTypes.map((jobType): StepStats => {
      const counters = this.counters(jobType);
      const queue = this.queues.get(jobType);
      const oldestId = queue?.oldest((id) => jobs.get(id)?.record.updatedAt ?? 0);
      let running = 0;
      for (const id of this.running) if (jobs.get(id)?.record.step === jobType) running++;
      let delayed = 0;
      for (const id of this.delayed) if (jobs.get(id)?.record.step === jobType) delayed++;
      let delayedStart = 0;
      for (const id of this.delayedStarts.ids()) if (jobs.get(id)?.record.step === jobType) delayedStart++;
      return {
        jobType,
        queued: queue?.length ?? 0,
        running,
        delayed,
        delayedStart,
        oldestQueuedAt: oldestId === undefined ? null : (jobs.get(oldestId)?.record.updatedAt ?? null),
        succeeded: counters.succeeded,
        failed: counters.failed,
        dead: counters.dead,
        stalled: counters.stalled,
        cancelled: counters.cancelled,
        latency: cloneData(counters.latency),
        queueWait: cloneData(counters.queueWait),
      };
    });
    let queued = 0;
    for (const queue of this.queues.values()) queued += queue.length;
    return {
      pipeline: this.definition.name,
      accepted: this.accepted,
      succeeded: this.succeeded,
      dead: this.dead,
      cancelled: this.cancelled,
      queued,
      running: this.running.size,
      failed: this.delayed.size,
      delayed: this.delayedStarts.size,
      steps,
    };
  }
}
