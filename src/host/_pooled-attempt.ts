/**
 * One attempt running on a thread of a function's pool (thread-executor.ts): what ends it first
 * (the thread's result, its timeout, a shutdown or a cancel past its grace) and, for the last
 * three, whether its thread must be terminated. Cheap per attempt: callbacks, not promises and
 * races; the timeouts of every attempt of the process share one DeadlineSweep, a shutdown signal
 * has one listener however many attempts it serves.
 */
import { CancelledError } from "../core/errors/cancelled-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { StepTimeoutError } from "../core/errors/step-timeout-error.ts";
import { toJobError } from "../core/job.ts";
import { DEFAULT_LOG_LIMITS, type LogLine } from "../core/job-logs.ts";
import { DeadlineSweep, type DeadlineEntry } from "../engine/_deadline-sweep.ts";
import type { Delivery, StepOutcome } from "../engine/delivery.ts";
import type { ExecuteHooks } from "../engine/step-executor.ts";
import type { LogFields, Logger, LogLevel } from "../log/logger.ts";
import type { AttemptResult, ThreadAttempt, PoolThread } from "./pool-thread.ts";

/** What an attempt needs of its pool. */
export interface AttemptPool {
  readonly killGraceMs: number;
  readonly cancelGraceMs: number;
  /** Terminates `thread` now (its other attempts come back lost): `why` is logged. */
  kill(thread: PoolThread, why: string): void;
}

const deadlines = new DeadlineSweep<PooledAttempt>((attempt) => attempt.timeOut());

/** Attempts listening on each shutdown signal; one listener per signal aborts them all. */
const listening = new WeakMap<AbortSignal, Set<PooledAttempt>>();

function shutdownSetOf(signal: AbortSignal): Set<PooledAttempt> {
  let set = listening.get(signal);
  if (set === undefined) {
    const attempts = new Set<PooledAttempt>();
    set = attempts;
    listening.set(signal, attempts);
    signal.addEventListener("abort", () => {
      for (const attempt of [...attempts]) attempt.shutDown();
    }, { once: true });
  }
  return set;
}

export class PooledAttempt implements ThreadAttempt {
  readonly #pool: AttemptPool;
  readonly #thread: PoolThread;
  readonly #delivery: Delivery;
  readonly #hooks: ExecuteHooks;
  readonly #resolve: (outcome: StepOutcome) => void;
  readonly #startedAt = Date.now();
  #id = 0;
  #done = false;
  #deadline: DeadlineEntry<PooledAttempt> | undefined;
  #shutdownSet: Set<PooledAttempt> | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  /** After this attempt timed out: terminates the thread unless the attempt ends first. */
  #lateTimer: NodeJS.Timeout | undefined;
  #logger: Logger | undefined;
  // Lines arrive as they are written, so a timed-out or crashed attempt keeps what it wrote.
  #lines: LogLine[] | undefined;
  #dropped = 0;

  constructor(pool: AttemptPool, thread: PoolThread, delivery: Delivery, hooks: ExecuteHooks, resolve: (outcome: StepOutcome) => void) {
    this.#pool = pool;
    this.#thread = thread;
    this.#delivery = delivery;
    this.#hooks = hooks;
    this.#resolve = resolve;
  }

  /** Hands the attempt to its thread and starts watching what may end it. */
  begin(): void {
    this.#id = this.#thread.run(this.#delivery, this);
    this.#deadline = deadlines.add(this.#delivery.timeoutMs, this);
    if (this.#hooks.signal.aborted) this.shutDown();
    else (this.#shutdownSet = shutdownSetOf(this.#hooks.signal)).add(this);
    const { cancel, cancelSignal } = this.#hooks;
    if (cancel !== undefined) cancel.onCancel(() => this.cancel());
    else if (cancelSignal?.aborted === true) this.cancel();
    else cancelSignal?.addEventListener("abort", () => this.cancel(), { once: true });
  }

  onLog(level: LogLevel, message: string, fields: LogFields): void {
    const d = this.#delivery;
    this.#logger ??= this.#hooks.logger.child({ jobId: d.jobId, jobType: d.jobType, attempt: d.attempt });
    this.#logger[level](message, fields);
  }

  onLine(line: LogLine): void {
    if (this.#done) return;
    this.#lines ??= [];
    if (this.#lines.length >= DEFAULT_LOG_LIMITS.maxLines) {
      this.#dropped += 1;
      return;
    }
    this.#lines.push(line);
    this.#hooks.onLog?.(line);
  }

  onProgress(fraction: number, message?: string): void {
    if (!this.#done) this.#hooks.onProgress(fraction, message);
  }

  onEnd(result: AttemptResult): void {
    if (this.#done) {
      clearTimeout(this.#lateTimer); // a timed-out attempt ended after all: its thread is fine
      return;
    }
    const { jobId, token } = this.#delivery;
    const { workerId } = this.#hooks;
    const { startedAt, finishedAt } = result;
    this.#end(result.ok ? { jobId, token, workerId, ok: true, output: result.output, startedAt, finishedAt } : { jobId, token, workerId, ok: false, error: result.error, startedAt, finishedAt });
  }

  timeOut(): void {
    if (this.#done) return;
    const { jobId, jobType, timeoutMs } = this.#delivery;
    this.#fail(new StepTimeoutError(`step "${jobType}" timed out after ${timeoutMs} ms`));
    const why = `an attempt of job ${jobId} did not end at its timeout (${timeoutMs} ms) nor ${this.#pool.killGraceMs} ms later`;
    this.#lateTimer = setTimeout(() => this.#pool.kill(this.#thread, why), this.#pool.killGraceMs);
  }

  shutDown(): void {
    if (this.#done || this.#graceTimer !== undefined) return;
    this.#thread.abort(this.#id);
    this.#graceTimer = setTimeout(() => {
      if (this.#done) return;
      this.#fail(new ShutdownError("the function host is shutting down"));
      this.#pool.kill(this.#thread, "the function host is shutting down");
    }, this.#pool.killGraceMs);
  }

  cancel(): void {
    if (this.#done) return;
    this.#thread.abort(this.#id, { cancel: true });
    clearTimeout(this.#graceTimer);
    const graceMs = Math.min(this.#pool.cancelGraceMs, this.#delivery.timeoutMs);
    this.#graceTimer = setTimeout(() => {
      if (this.#done) return;
      this.#fail(new CancelledError(`the job was cancelled; its handler ignored ctx.signal for ${graceMs} ms and its thread was terminated`));
      this.#pool.kill(this.#thread, `a cancelled attempt of job ${this.#delivery.jobId} ignored ctx.signal for ${graceMs} ms`);
    }, graceMs);
  }

  #fail(error: Error): void {
    const d = this.#delivery;
    this.#end({ jobId: d.jobId, token: d.token, workerId: this.#hooks.workerId, ok: false, error: toJobError(error), startedAt: this.#startedAt, finishedAt: Date.now() });
  }

  #end(outcome: StepOutcome): void {
    this.#done = true;
    if (this.#deadline !== undefined) deadlines.cancel(this.#deadline);
    this.#shutdownSet?.delete(this);
    clearTimeout(this.#graceTimer);
    if (this.#lines !== undefined) outcome.logs = this.#lines;
    if (this.#dropped > 0) outcome.dropped = this.#dropped;
    this.#resolve(outcome);
  }
}
