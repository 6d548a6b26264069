/**
 * One worker thread of a function's pool, running many attempts at once. The pool
 * (thread-executor.ts) starts, picks, retires and replaces threads; a thread only reports what
 * happens to it: ready (with the function's job type, shape and config), each attempt's end, and
 * its death. Messages both ways go in batches, one `postMessage` per turn of the event loop.
 *
 * When the thread dies with attempts in flight, each of them ends: the one whose code crashed it
 * (the thread names it, see _thread-main.ts) as a HandlerCrashedError, an attempt like any other;
 * every other one as an AttemptLostError (ATTEMPT_LOST: handed back as a stall, not an attempt).
 */
import { Worker } from "node:worker_threads";
import { AttemptLostError } from "../core/errors/attempt-lost-error.ts";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import type { StepConfig } from "../core/step-config.ts";
import { toJobError, type JobError } from "../core/job.ts";
import type { Delivery } from "../engine/delivery.ts";
import type { LogLine } from "../core/job-logs.ts";
import type { LogFields, LogLevel } from "../log/logger.ts";
import { readFromThread, type FromThread, type ThreadData, type ToThread } from "./_thread-protocol.ts";
import { bundleUrl, type BundledFunction } from "../functions/bundle-function.ts";
import { HandlerCrashedError } from "./errors/handler-crashed-error.ts";
import { threadRuntimeUrl, tsxApiUrl } from "./thread-runtime.ts";

/** What a function file declares, as its thread found it. */
export interface FunctionMeta {
  jobType: string;
  shape: string;
  config: StepConfig | undefined;
}

export type AttemptResult =
  | { ok: true; output: unknown; startedAt: number; finishedAt: number }
  | { ok: false; error: JobError; startedAt: number; finishedAt: number };

/** An attempt as its thread reports to it. */
export interface ThreadAttempt {
  onLog(level: LogLevel, message: string, fields: LogFields): void;
  /** A line kept with the job (what the attempt wrote through ctx.logger or console.*). */
  onLine(line: LogLine): void;
  onProgress(fraction: number, message?: string): void;
  /** Its result, or as above when the thread died with it; called once. */
  onEnd(result: AttemptResult): void;
}

interface Running {
  jobId: string;
  attempt: ThreadAttempt;
  startedAt: number;
}

/** How a thread ended, for the pool's log line. */
export interface ThreadEnd {
  code: number;
  /** The job whose attempt crashed the thread, when the crash came from one. */
  culprit?: string | undefined;
  /** Attempts that were in flight on it (the culprit's included). */
  inFlight: number;
  /** Ended by the host (`terminate`), not by the function. */
  terminated: boolean;
  /** What crashed it, when the function did. */
  error?: JobError | undefined;
}

/** How long a thread may take to import the function, ms. */
const LOAD_TIMEOUT_MS = 30_000;

export class PoolThread {
  /** Resolves once the module is loaded; rejects (InvalidConfigError) when it cannot be. */
  readonly ready: Promise<FunctionMeta>;
  /** Resolves when the thread has exited, for whatever reason. */
  readonly exited: Promise<number>;
  readonly #worker: Worker;
  readonly #file: string;
  readonly #running = new Map<number, Running>();
  #nextId = 1;
  #alive = true;
  #loaded = false;
  #lastError: unknown;
  #crash: { id?: number | undefined; error?: JobError | undefined; code?: number | undefined } | undefined;
  /** Set when the host ends the thread: why the attempts still on it were lost. */
  #endedBy: string | undefined;
  #outbox: ToThread[] = [];
  #elu: ReturnType<Worker["performance"]["eventLoopUtilization"]> | undefined;
  #flushing = false;
  #onExit: ((thread: PoolThread, end: ThreadEnd) => void) | undefined;

  constructor(bundle: BundledFunction) {
    this.#file = bundle.file;
    const workerData: ThreadData = {
      file: bundle.file,
      bundleUrl: bundleUrl(bundle),
      ...(bundle.needsTsx ? { tsxUrl: tsxApiUrl() } : {}),
    };
    this.#worker = new Worker(new URL(threadRuntimeUrl()), { workerData, execArgv: process.env.MARIO_THREAD_PROF === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${process.env.MARIO_THREAD_PROF}`] });
    let onReady: (meta: FunctionMeta) => void = () => {};
    let onLoadFailed: (error: Error) => void = () => {};
    this.ready = new Promise<FunctionMeta>((resolve, reject) => {
      onReady = resolve;
      onLoadFailed = reject;
    });
    this.ready.catch(() => {});
    const loadTimer = setTimeout(() => {
      onLoadFailed(new InvalidConfigError(`${this.#file}: did not finish loading within ${LOAD_TIMEOUT_MS} ms`));
      void this.terminate("it did not load in time");
    }, LOAD_TIMEOUT_MS);
    this.#worker.on("message", (raw: unknown) => {
      for (const message of readFromThread(raw)) {
        if (message.type === "ready") {
          clearTimeout(loadTimer);
          this.#loaded = true;
          onReady({ jobType: message.jobType, shape: message.shape, config: message.config });
        } else if (message.type === "load-failed") {
          clearTimeout(loadTimer);
          const known = message.error.name === "InvalidConfigError";
          onLoadFailed(new InvalidConfigError(known ? message.error.message : `${this.#file}: ${message.error.name}: ${message.error.message}`));
          void this.terminate("its module failed to load");
        } else {
          this.#onAttemptMessage(message);
        }
      }
    });
    this.#worker.on("error", (error) => {
      this.#lastError = error;
    });
    this.exited = new Promise<number>((resolve) => {
      this.#worker.once("exit", (code) => {
        clearTimeout(loadTimer);
        this.#alive = false;
        onLoadFailed(new InvalidConfigError(`${this.#file}: the thread exited while loading${this.#lastError === undefined ? ` (code ${code})` : `: ${describe(this.#lastError)}`}`));
        resolve(code);
        this.#endAll(code);
      });
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** The function's module was loaded (the thread said `ready`). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Loaded and alive: attempts can run on it. */
  get usable(): boolean {
    return this.#alive && this.#loaded && this.#endedBy === undefined;
  }

  /**
   * How busy its event loop was since the previous call (0 to 1: the share of the time it ran
   * code; 1 for a loop blocked in `while (true) {}`), or undefined before a first window.
   */
  busy(): number | undefined {
    const now = this.#worker.performance.eventLoopUtilization();
    const previous = this.#elu;
    this.#elu = now;
    return previous === undefined ? undefined : this.#worker.performance.eventLoopUtilization(now, previous).utilization;
  }

  /** Attempts in flight on this thread. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Called once when the thread exits (the pool removes it, and replaces it when needed). */
  onExit(listener: (thread: PoolThread, end: ThreadEnd) => void): void {
    this.#onExit = listener;
  }

  /** Runs one attempt alongside the others; it hears of its end (`onEnd`), also when the thread dies. Answers its id. */
  run(delivery: Delivery, attempt: ThreadAttempt): number {
    const startedAt = Date.now();
    const id = this.#nextId++;
    if (!this.#alive) {
      queueMicrotask(() => attempt.onEnd({ ok: false, error: this.#lost("its thread had ended"), startedAt, finishedAt: startedAt }));
      return id;
    }
    this.#running.set(id, { jobId: delivery.jobId, attempt, startedAt });
    this.#send({ type: "run", id, delivery });
    return id;
  }

  /** Aborts one attempt's `ctx.signal` (shutdown, or with `cancel` a CancelledError); it ends at once unless its thread's event loop is blocked. */
  abort(id: number, options: { cancel?: boolean } = {}): void {
    if (this.#running.has(id)) this.#send({ type: "abort", id, ...(options.cancel === true ? { cancel: true } : {}) });
  }

  /** Ends the thread at once, even one stuck in `while (true) {}`; attempts still on it are lost (`why` says why). */
  async terminate(why: string): Promise<void> {
    this.#endedBy ??= why;
    if (this.#alive) await this.#worker.terminate();
    await this.exited;
  }

  #send(message: ToThread): void {
    this.#outbox.push(message);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flushing = false;
      const batch = this.#outbox;
      this.#outbox = [];
      if (this.#alive && batch.length > 0) this.#worker.postMessage(batch);
    });
  }

  #onAttemptMessage(message: Exclude<FromThread, { type: "ready" | "load-failed" }>): void {
    if (message.type === "crash") {
      this.#crash ??= { id: message.id, error: message.error, code: message.code };
      return;
    }
    const running = this.#running.get(message.id);
    if (running === undefined) return;
    if (message.type === "log") running.attempt.onLog(message.level, message.message, message.fields);
    else if (message.type === "progress") running.attempt.onProgress(message.fraction, message.message);
    else if (message.type === "line") running.attempt.onLine({ t: message.t, level: message.level, msg: message.msg });
    else {
      this.#running.delete(message.id);
      if (message.ok) {
        message.output ??= null;
        running.attempt.onEnd(message as AttemptResult);
      } else {
        running.attempt.onEnd({ ok: false, error: message.error ?? { name: "Error", message: "unknown error" }, startedAt: message.startedAt, finishedAt: message.finishedAt });
      }
    }
  }

  /** The thread is gone: every attempt still on it ends (the culprit crashed, the others are lost). */
  #endAll(code: number): void {
    const culpritId = this.#endedBy === undefined ? this.#crash?.id : undefined;
    const culprit = culpritId === undefined ? undefined : this.#running.get(culpritId);
    const crashError = this.#endedBy === undefined ? this.#crashError(code) : undefined;
    const end: ThreadEnd = { code, culprit: culprit?.jobId, inFlight: this.#running.size, terminated: this.#endedBy !== undefined, error: crashError };
    const finishedAt = Date.now();
    const why =
      this.#endedBy ?? (culprit === undefined ? `it crashed, from no attempt's code (${crashError?.message ?? `code ${code}`})` : `an attempt of job ${culprit.jobId} crashed it (${crashError?.message ?? `code ${code}`})`);
    const ended = [...this.#running];
    this.#running.clear();
    // The pool hears first (the thread leaves it), then each attempt.
    this.#onExit?.(this, end);
    for (const [id, running] of ended) {
      const error = id === culpritId && crashError !== undefined ? crashError : this.#lost(why);
      running.attempt.onEnd({ ok: false, error, startedAt: running.startedAt, finishedAt });
    }
  }

  #lost(why: string): JobError {
    return toJobError(new AttemptLostError(`the attempt's thread ended: ${why}; the job is handed back as a stall`));
  }

  #crashError(code: number): JobError {
    const cause = this.#crash?.error ?? (this.#lastError === undefined ? undefined : toJobError(this.#lastError));
    const exitCode = this.#crash?.code ?? code;
    const message =
      cause === undefined
        ? `the handler's thread exited with code ${exitCode} (process.exit() called?); the thread was replaced`
        : `the handler crashed outside its attempt's promise (${cause.name}: ${cause.message}); the thread was replaced`;
    const error = toJobError(new HandlerCrashedError(message));
    return { ...error, stack: cause?.stack ?? error.stack };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
