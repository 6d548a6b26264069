/**
 * Lines of attempts still running, as the cluster reports them (`job:log`: workers in this
 * process and their threads), so `GET /jobs/:id/logs` shows a running attempt's lines before
 * they are stored with its outcome, and `?follow` can stream them. Bounded: the per-job line
 * limit, and the most recent 1 000 jobs. Behind `mario gateway` (no live lines) it stays empty and
 * the lines appear attempt by attempt.
 */
import { DEFAULT_LOG_LIMITS, type LogLine } from "../core/job-logs.ts";
import type { Cluster } from "../engine/cluster.ts";

export interface LiveAttempt {
  step: string;
  attempt: number;
  lines: LogLine[];
}

const MAX_JOBS = 1000;

export class LiveLogs {
  readonly #running = new Map<string, LiveAttempt>();
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(cluster: Cluster) {
    cluster.events.on("job:log", (e) => {
      let live = this.#running.get(e.jobId);
      if (live === undefined || live.step !== e.jobType || live.attempt !== e.attempt) {
        live = { step: e.jobType, attempt: e.attempt, lines: [] };
        this.#running.delete(e.jobId);
        this.#running.set(e.jobId, live);
        if (this.#running.size > MAX_JOBS) this.#running.delete(this.#running.keys().next().value!);
      }
      if (live.lines.length < DEFAULT_LOG_LIMITS.maxLines) live.lines.push(e.line);
      this.#wake(e.jobId);
    });
    // Once an attempt is settled its lines are in the job's history.
    const settled = (e: { jobId: string }): void => {
      this.#running.delete(e.jobId);
      this.#wake(e.jobId);
    };
    cluster.events.on("step:finished", settled);
    cluster.events.on("job:finished", settled);
  }

  /** The running attempt's lines so far, if any were reported. */
  of(jobId: string): LiveAttempt | undefined {
    return this.#running.get(jobId);
  }

  /** Resolves at the next change of the job (a line, an attempt's end) or after `ms`. */
  changed(jobId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(jobId);
      if (set === undefined) this.#waiters.set(jobId, (set = new Set()));
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#waiters.delete(jobId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  #wake(jobId: string): void {
    for (const wake of [...(this.#waiters.get(jobId) ?? [])]) wake();
  }
}
