/**
 * What the memory backend keeps of one pipeline: its queues per job type, the jobs delayed for a
 * retry and running, the finished ones in order (for retention), and its counters; and the
 * statistics read from them.
 */
import { cloneData } from "../../core/clone-data.ts";
import type { JobRecord } from "../../core/job.ts";
import type { PipelineDefinition } from "../../core/pipeline-definition.ts";
import { emptyHistogram } from "../latency-histogram.ts";
import type { LatencyHistogram, PipelineStats, StepStats } from "../storage-backend.ts";
import { Deque } from "./deque.ts";

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
  latency: LatencyHistogram;
  queueWait: LatencyHistogram;
}

export class PipelineState {
  definition: PipelineDefinition;
  accepted = 0;
  succeeded = 0;
  dead = 0;
  /** Unfinished jobs (queued, running, failed). */
  unfinished = 0;
  readonly queues = new Map<string, Deque>();
  /** Jobs waiting for a retry, by id. */
  readonly delayed = new Set<string>();
  readonly running = new Set<string>();
  readonly steps = new Map<string, StepCounters>();
  readonly finished = new Deque();

  constructor(definition: PipelineDefinition) {
    this.definition = definition;
  }

  /** The queue of `jobType`'s jobs, made on first use. */
  queue(jobType: string): Deque {
    let queue = this.queues.get(jobType);
    if (queue === undefined) {
      queue = new Deque();
      this.queues.set(jobType, queue);
    }
    return queue;
  }

  /** `jobType`'s counters, made on first use. */
  counters(jobType: string): StepCounters {
    let counters = this.steps.get(jobType);
    if (counters === undefined) {
      counters = { succeeded: 0, failed: 0, dead: 0, stalled: 0, latency: emptyHistogram(), queueWait: emptyHistogram() };
      this.steps.set(jobType, counters);
    }
    return counters;
  }

  /** Jobs whose retry is due go back to their queues, earliest first. */
  promoteDue(jobs: ReadonlyMap<string, StoredJob>, now: number): void {
    if (this.delayed.size === 0) return;
    const due: JobRecord[] = [];
    for (const id of this.delayed) {
      const record = jobs.get(id)?.record;
      if (record !== undefined && (record.runAt ?? 0) <= now) due.push(record);
    }
    due.sort((a, b) => (a.runAt ?? 0) - (b.runAt ?? 0));
    for (const record of due) {
      this.delayed.delete(record.id);
      record.status = "queued";
      // Queued since its retry time: what its wait and the queue's age count from.
      record.updatedAt = record.runAt ?? record.updatedAt;
      record.runAt = undefined;
      this.queue(record.step).push(record.id);
    }
  }

  stats(jobs: ReadonlyMap<string, StoredJob>): PipelineStats {
    const jobTypes = [...new Set([...this.definition.steps, ...this.queues.keys(), ...this.steps.keys()])];
    const steps = jobTypes.map((jobType): StepStats => {
      const counters = this.counters(jobType);
      const queue = this.queues.get(jobType);
      const oldestId = queue?.peek();
      let running = 0;
      for (const id of this.running) if (jobs.get(id)?.record.step === jobType) running++;
      let delayed = 0;
      for (const id of this.delayed) if (jobs.get(id)?.record.step === jobType) delayed++;
      return {
        jobType,
        queued: queue?.length ?? 0,
        running,
        delayed,
        oldestQueuedAt: oldestId === undefined ? null : (jobs.get(oldestId)?.record.updatedAt ?? null),
        succeeded: counters.succeeded,
        failed: counters.failed,
        dead: counters.dead,
        stalled: counters.stalled,
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
      queued,
      running: this.running.size,
      failed: this.delayed.size,
      steps,
    };
  }
}
