/**
 * Runs one attempt of a step function in this process, with its timeout: the attempt fails with
 * a StepTimeoutError when the timeout passes, and `ctx.signal` aborts.
 *
 * Cheap per attempt: a handler that returns without a promise is done at once (no timer can
 * interrupt synchronous code anyway); an async one joins one DeadlineSweep shared by every attempt
 * of this process instead of a timer each, and one listener per shutdown signal serves every
 * attempt. `ctx.signal`'s AbortController is only made when the handler reads it.
 */
import { cloneData } from "../core/clone-data.ts";
import { StepTimeoutError } from "../core/errors/step-timeout-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { CancelledError } from "../core/errors/cancelled-error.ts";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { toJobError } from "../core/job.ts";
import type { LogLine } from "../core/job-logs.ts";
import type { Logger } from "../log/logger.ts";
import { AttemptLog } from "./_log-capture.ts";
import { DeadlineSweep, type DeadlineEntry } from "./_deadline-sweep.ts";
import type { Delivery, StepContext, StepHandler, StepOutcome } from "./delivery.ts";

export interface RunOptions {
  workerId: string;
  logger: Logger;
  /** Aborts every running attempt (shutdown). */
  shutdownSignal?: AbortSignal | undefined;
  /**
   * Aborts this attempt (its job was cancelled): `ctx.signal` aborts with the signal's reason (a
   * CancelledError) and the attempt ends at once with it; what the handler returns later is
   * discarded (synchronous code cannot be interrupted in process).
   */
  cancelSignal?: AbortSignal | undefined;
  onProgress?: ((fraction: number, message?: string) => void) | undefined;
  /** Each line the attempt writes (`ctx.logger`, `console.*`), as it is written. */
  onLog?: ((line: LogLine) => void) | undefined;
  /** The delivery's input belongs to this attempt alone (e.g. freshly decoded): no defensive copy. */
  ownsInput?: boolean | undefined;
}

type Base = Pick<StepOutcome, "jobId" | "token" | "workerId" | "startedAt">;

/** An async attempt in flight: ends with its handler, its deadline or its worker's shutdown. */
class Attempt {
  controller: AbortController | undefined;
  reason: Error | undefined;
  deadline: DeadlineEntry<Attempt> | undefined;
  shutdown: Set<Attempt> | undefined;
  #end: ((outcome: StepOutcome) => void) | undefined;
  #unlisten: (() => void) | undefined;
  readonly #base: Base;
  readonly #jobType: string;
  readonly #timeoutMs: number;

  constructor(base: Base, jobType: string, timeoutMs: number) {
    this.#base = base;
    this.#jobType = jobType;
    this.#timeoutMs = timeoutMs;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Runs `work`; resolves with its outcome, or a failure if aborted first. */
  run(work: PromiseLike<unknown>, shutdownSignal: AbortSignal | undefined, cancelSignal?: AbortSignal): Promise<StepOutcome> {
    return new Promise<StepOutcome>((resolve) => {
      this.#end = resolve;
      this.deadline = deadlines.add(this.#timeoutMs, this);
      this.shutdown = shutdownSetOf(shutdownSignal);
      this.shutdown?.add(this);
      if (cancelSignal !== undefined) {
        const onCancel = (): void => this.abort(cancelReason(cancelSignal));
        this.#unlisten = () => cancelSignal.removeEventListener("abort", onCancel);
        if (cancelSignal.aborted) onCancel();
        else cancelSignal.addEventListener("abort", onCancel, { once: true });
      }
      work.then(
        (output) => this.#settle(succeeded(this.#base, output)),
        (thrown: unknown) => this.#settle(failed(this.#base, thrown)),
      );
    });
  }

  timeOut(): void {
    this.abort(new StepTimeoutError(`step "${this.#jobType}" timed out after ${this.#timeoutMs} ms`));
  }

  abort(reason: Error): void {
    if (this.reason !== undefined || this.#end === undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.#settle(failed(this.#base, reason));
  }

  #settle(outcome: StepOutcome): void {
    const end = this.#end;
    if (end === undefined) return;
    this.#end = undefined;
    if (this.deadline !== undefined) deadlines.cancel(this.deadline);
    this.shutdown?.delete(this);
    this.#unlisten?.();
    end(outcome);
  }
}

const deadlines = new DeadlineSweep<Attempt>((attempt) => attempt.timeOut());

/** Attempts listening on each shutdown signal; one listener per signal aborts them all. */
const listening = new WeakMap<AbortSignal, Set<Attempt>>();

function shutdownSetOf(signal: AbortSignal | undefined): Set<Attempt> | undefined {
  // An attempt started after the shutdown runs on (as a listener added to an aborted signal never fires).
  if (signal === undefined || signal.aborted) return undefined;
  const known = listening.get(signal);
  if (known !== undefined) return known;
  const attempts = new Set<Attempt>();
  listening.set(signal, attempts);
  signal.addEventListener(
    "abort",
    () => {
      for (const attempt of [...attempts]) attempt.abort(new ShutdownError("worker is shutting down"));
      attempts.clear();
    },
    { once: true },
  );
  return attempts;
}

/**
 * Runs one attempt; what it logs (`ctx.logger`, `console.*` while it runs) comes back with its
 * outcome as `logs` (at most the per-job line limit; `dropped` counts the rest).
 */
export async function runAttempt(handler: StepHandler, delivery: Delivery, options: RunOptions): Promise<StepOutcome> {
  const log = new AttemptLog(options.onLog);
  const outcome = await log.run(() => runLogged(handler, delivery, options, log));
  if (log.lines.length > 0) outcome.logs = log.lines;
  if (log.dropped > 0) outcome.dropped = log.dropped;
  return outcome;
}

function runLogged(handler: StepHandler, delivery: Delivery, options: RunOptions, log: AttemptLog): Promise<StepOutcome> {
  const startedAt = Date.now();
  const base = { jobId: delivery.jobId, token: delivery.token, workerId: options.workerId, startedAt };
  const timeoutMs = delivery.timeoutMs;
  const attempt = new Attempt(base, delivery.jobType, timeoutMs);
  const ctx: StepContext = {
    jobId: delivery.jobId,
    pipeline: delivery.pipeline,
    jobType: delivery.jobType,
    stepIndex: delivery.stepIndex,
    attempt: delivery.attempt,
    get logger() {
      return log.logger(options.logger.child({ jobId: delivery.jobId, jobType: delivery.jobType, attempt: delivery.attempt }));
    },
    deadline: startedAt + timeoutMs,
    get signal() {
      return attempt.signal;
    },
    progress: (fraction, message) => options.onProgress?.(fraction, message),
  };
  let result: unknown;
  try {
    result = handler(options.ownsInput === true ? delivery.input : cloneData(delivery.input), ctx);
  } catch (thrown) {
    return Promise.resolve(failed(base, thrown));
  }
  if (!isPromiseLike(result)) return Promise.resolve(succeeded(base, result));
  return attempt.run(result, options.shutdownSignal, options.cancelSignal);
}

/** What a cancel signal aborted with: its reason when an Error, else a CancelledError. */
function cancelReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledError();
}

function succeeded(base: Base, output: unknown): StepOutcome {
  return { ...base, ok: true, output: output === undefined ? null : output, finishedAt: Date.now() };
}

function failed(base: Base, thrown: unknown): StepOutcome {
  const error = toJobError(thrown);
  // Only a worker says an attempt was lost (a stall); a handler that throws that code just failed.
  if (error.code === ERROR_CODES.ATTEMPT_LOST) delete error.code;
  return { ...base, ok: false, error, finishedAt: Date.now() };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}
