/** What travels between the dispatcher and a worker, whatever carries it (in process or ZeroMQ). */
import type { LogLine } from "../core/job-logs.ts";
import type { Instructions, JobError } from "../core/job.ts";
import type { Logger } from "../log/logger.ts";
import type { LeaseRef } from "../storage/storage-backend.ts";

/** One attempt of one step, handed to a worker. */
export interface Delivery {
  jobId: string;
  token: string;
  pipeline: string;
  jobType: string;
  stepIndex: number;
  attempt: number;
  input: Instructions;
  timeoutMs: number;
  /**
   * When the lease ends, epoch ms (storage's clock; clocks of the machines are assumed within a
   * second or so, as NTP keeps them). A worker does not start a delivery past it: the job is
   * already back in its queue, and its result would be refused.
   */
  expiresAt?: number | undefined;
}

/** What an attempt wrote (`ctx.logger`, `console.*`); `dropped`: lines past the per-attempt cap. */
export interface AttemptLogs {
  logs?: LogLine[] | undefined;
  dropped?: number | undefined;
}

/**
 * The end of one attempt, as a worker reports it. `pipeline` (the delivery's) lets a server that
 * did not hand the lease out (it restarted) settle it without looking the job up.
 */
export type StepOutcome = { jobId: string; token: string; pipeline?: string | undefined; startedAt: number; finishedAt: number; workerId: string } & AttemptLogs & (
  | { ok: true; output: unknown }
  | { ok: false; error: JobError }
);

/** A line an attempt wrote, as it is written (in-process and thread workers report them live). */
export interface LogReport extends LeaseRef {
  line: LogLine;
}

export interface ProgressReport extends LeaseRef {
  fraction: number;
  message?: string | undefined;
}

/** What a step function receives besides its instructions. */
export interface StepContext {
  jobId: string;
  pipeline: string;
  jobType: string;
  stepIndex: number;
  /** 1-based attempt at this step. */
  attempt: number;
  logger: Logger;
  /** Epoch ms when the attempt times out. */
  deadline: number;
  /** Aborts on timeout and on shutdown. */
  signal: AbortSignal;
  /** Reports progress, a fraction from 0 to 1 with an optional message. */
  progress(fraction: number, message?: string): void;
}

/** A step function: instructions in, output (the next step's instructions) out. */
export type StepHandler = (instructions: Instructions, ctx: StepContext) => unknown;

/** A worker as the dispatcher sees it: an id, a job type, a capacity and a way to send it work. */
export interface DispatchTarget {
  readonly workerId: string;
  readonly jobType: string;
  /** Jobs it takes at once. */
  readonly capacity: number;
  /** Hands deliveries over; a rejection hands their leases back to the queue. */
  send(deliveries: Delivery[]): Promise<void>;
  /**
   * Tells the worker the job it runs under lease `token` was cancelled: it aborts the attempt's
   * `ctx.signal` with a CancelledError (best effort; storage ends the job cancelled whatever the
   * worker does). Absent: the worker cannot be told (its result is then discarded).
   */
  cancel?(jobId: string, token: string): void;
  /** Where it runs, for listings: address, host, pid. */
  readonly address?: string | undefined;
  readonly host?: string | undefined;
  readonly pid?: number | undefined;
  /** Tells this run of the worker from an earlier one of the same id (storage's worker registry). */
  readonly instance?: string | undefined;
}
