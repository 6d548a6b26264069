/**
 * The job model. A job enters a pipeline with `instructions`, visits each job type of its
 * `route` in order, and ends `succeeded` (with the last step's output as `result`), `dead` or
 * `cancelled`.
 */

import type { LogLine } from "./job-logs.ts";

/** JSON object handed to a step. */
export type Instructions = Record<string, unknown>;

/**
 * - `queued`: waiting for a worker of its current step (or for its retry time, see `runAt`)
 * - `delayed`: enqueued with a delay or a start time: waits for `runAt` (storage's clock), then `queued`
 * - `running`: leased to a worker
 * - `failed`: its last attempt failed and a retry is scheduled at `runAt`
 * - `succeeded`, `dead`, `cancelled`: final
 */
export type JobStatus = "queued" | "delayed" | "running" | "failed" | "succeeded" | "dead" | "cancelled";

export const JOB_STATUSES: readonly JobStatus[] = ["queued", "delayed", "running", "failed", "succeeded", "dead", "cancelled"];

export function isFinal(status: JobStatus): boolean {
  return status === "succeeded" || status === "dead" || status === "cancelled";
}

/** An error as stored and sent over the wire: plain data, never an Error instance. */
export interface JobError {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
  /** false when retrying cannot help (bad output shape, unknown job type). Default true. */
  retryable?: boolean | undefined;
}

/** One finished step of a job, kept so that nothing a middle step returned is lost. */
export interface StepRecord {
  jobType: string;
  output: unknown;
  attempts: number;
  startedAt: number;
  finishedAt: number;
  workerId?: string | undefined;
}

/**
 * One finished attempt of one step, kept on the job: a redrive or a retry adds one, nothing
 * rewrites one. `logs` are the lines the attempt wrote (`ctx.logger`, `console.*`), within the
 * job's log limit; `dropped` counts the lines of this attempt the limit cut.
 */
export interface AttemptRecord {
  step: string;
  stepIndex: number;
  /** 1-based attempt at this step (a redrive starts again at 1). */
  attempt: number;
  /** `failed`: retried after; `dead`: the job died with it; `cancelled`: the job was cancelled while it ran (its result, if any, discarded). */
  outcome: "succeeded" | "failed" | "dead" | "cancelled";
  workerId?: string | undefined;
  host?: string | undefined;
  startedAt: number;
  finishedAt: number;
  /** When the job became due for this attempt (enqueued, previous step done, retry time). */
  dueAt?: number | undefined;
  error?: JobError | undefined;
  logs?: LogLine[] | undefined;
  dropped?: number | undefined;
}

export interface JobProgress {
  fraction: number;
  message?: string | undefined;
}

/** A job as storage keeps it and `GET /jobs/:id` answers it. Times are epoch milliseconds. */
export interface JobRecord {
  id: string;
  pipeline: string;
  /** The job types of the pipeline when the job was accepted. */
  route: string[];
  stepIndex: number;
  /** Job type of the current (or, once final, the last reached) step. */
  step: string;
  status: JobStatus;
  /** Attempts made at the current step (0 before its first lease). */
  attempts: number;
  /**
   * Times the job was handed back because its worker was lost or stopped with it in flight
   * (a stall): not counted as attempts. Past the step's `maxStalls` the job goes dead (STALLED).
   * Absent while 0.
   */
  stalls?: number | undefined;
  /** The instructions the job was enqueued with. */
  instructions: Instructions;
  /** The current step's input: the previous step's output, or `instructions` at step 0. */
  input: Instructions;
  result?: unknown;
  error?: JobError | undefined;
  progress?: JobProgress | undefined;
  steps: StepRecord[];
  /** Every finished attempt, oldest first (absent before the first). */
  history?: AttemptRecord[] | undefined;
  idempotencyKey?: string | undefined;
  createdAt: number;
  updatedAt: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  /** When a failed job is retried (backoff), or when a delayed job starts (storage's clock). */
  runAt?: number | undefined;
  /** 0 to 9, higher runs first at every step of the job; absent = 0. */
  priority?: number | undefined;
  /** Worker holding the current lease. */
  workerId?: string | undefined;
  leaseExpiresAt?: number | undefined;
  /** While running: when the job became due for the current attempt (for the queue-wait histogram). */
  dueAt?: number | undefined;
  /** The job's concurrency key at its current step (its step's `config.concurrencyKey`), if any. */
  concurrencyKey?: string | undefined;
  /**
   * Epoch ms (storage's clock) when a cancel was asked for while the job ran: its lease ends in
   * `cancelled` however it ends (result, failure, hand-back, expiry). Absent otherwise.
   */
  cancelRequestedAt?: number | undefined;
}

export function isInstructions(value: unknown): value is Instructions {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Turns anything thrown into a storable JobError. */
export function toJobError(thrown: unknown): JobError {
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    const retryable = (thrown as { retryable?: unknown }).retryable;
    return {
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
      ...(typeof code === "string" ? { code } : {}),
      ...(typeof retryable === "boolean" ? { retryable } : {}),
    };
  }
  return { name: "Error", message: typeof thrown === "string" ? thrown : safeStringify(thrown) };
}

/** `value` as JSON, or as String() gives it when JSON cannot (a cycle, a BigInt). */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
