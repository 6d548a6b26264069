/**
 * One worker thread holding one function, running one attempt at a time. The pool
 * (thread-executor.ts) starts, lends, retires and replaces slots; a slot only reports what
 * happens to its thread: ready (with the function's job type, shape and config), an attempt's
 * end, or the thread's death (which ends the running attempt as a HandlerCrashedError).
 */
import { Worker } from "node:worker_threads";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import type { StepConfig } from "../core/step-config.ts";
import { toJobError, type JobError } from "../core/job.ts";
import type { Delivery } from "../engine/delivery.ts";
import type { LogLine } from "../core/job-logs.ts";
import type { LogFields, LogLevel } from "../log/logger.ts";
import { fromThreadSchema, type ThreadData, type ToThread } from "./_thread-protocol.ts";
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

export interface AttemptCallbacks {
  onLog(level: LogLevel, message: string, fields: LogFields): void;
  /** A line kept with the job (what the attempt wrote through ctx.logger or console.*). */
  onLine(line: LogLine): void;
  onProgress(fraction: number, message?: string): void;
}

interface Running {
  id: number;
  callbacks: AttemptCallbacks;
  resolve(result: AttemptResult): void;
  startedAt: number;
}

export class ThreadSlot {
  /** Resolves once the module is loaded; rejects (InvalidConfigError) when it cannot be. */
  readonly ready: Promise<FunctionMeta>;
  /** Resolves when the thread has exited, for whatever reason. */
  readonly exited: Promise<number>;
  readonly #worker: Worker;
  readonly #file: string;
  #running: Running | undefined;
  #nextId = 1;
  #alive = true;
  #lastError: unknown;
  /** Set when the host ends the thread: the error a running attempt reports. */
  #endedBy: JobError | undefined;
  #onExit: ((slot: ThreadSlot, code: number) => void) | undefined;

  constructor(bundle: BundledFunction, options: { loadTimeoutMs?: number | undefined } = {}) {
    this.#file = bundle.file;
    const workerData: ThreadData = {
      file: bundle.file,
      bundleUrl: bundleUrl(bundle),
      ...(bundle.needsTsx ? { tsxUrl: tsxApiUrl() } : {}),
    };
    this.#worker = new Worker(new URL(threadRuntimeUrl()), { workerData, execArgv: [] });
    let onReady: (meta: FunctionMeta) => void = () => {};
    let onLoadFailed: (error: Error) => void = () => {};
    this.ready = new Promise<FunctionMeta>((resolve, reject) => {
      onReady = resolve;
      onLoadFailed = reject;
    });
    this.ready.catch(() => {});
    const loadTimer = setTimeout(() => {
      onLoadFailed(new InvalidConfigError(`${this.#file}: did not finish loading within ${options.loadTimeoutMs ?? 30_000} ms`));
      void this.terminate();
    }, options.loadTimeoutMs ?? 30_000);
    this.#worker.on("message", (raw: unknown) => {
      const parsed = fromThreadSchema.safeParse(raw);
      if (!parsed.success) return;
      const message = parsed.data;
      if (message.type === "ready") {
        clearTimeout(loadTimer);
        onReady({ jobType: message.jobType, shape: message.shape, config: message.config });
        return;
      }
      if (message.type === "load-failed") {
        clearTimeout(loadTimer);
        const known = message.error.name === "InvalidConfigError";
        onLoadFailed(new InvalidConfigError(known ? message.error.message : `${this.#file}: ${message.error.name}: ${message.error.message}`));
        void this.terminate();
        return;
      }
      const running = this.#running;
      if (running === undefined || message.id !== running.id) return;
      if (message.type === "log") running.callbacks.onLog(message.level, message.message, message.fields);
      else if (message.type === "progress") running.callbacks.onProgress(message.fraction, message.message);
      else if (message.type === "line") running.callbacks.onLine({ t: message.t, level: message.level, msg: message.msg });
      else {
        this.#running = undefined;
        const times = { startedAt: message.startedAt, finishedAt: message.finishedAt };
        running.resolve(message.ok ? { ok: true, output: message.output ?? null, ...times } : { ok: false, error: message.error ?? { name: "Error", message: "unknown error" }, ...times });
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
        const running = this.#running;
        this.#running = undefined;
        running?.resolve({ ok: false, error: this.#endedBy ?? this.#crashError(code), startedAt: running.startedAt, finishedAt: Date.now() });
        this.#onExit?.(this, code);
        resolve(code);
      });
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Called once when the thread exits (the pool removes and replaces it). */
  onExit(listener: (slot: ThreadSlot, code: number) => void): void {
    this.#onExit = listener;
  }

  /** Runs one attempt; resolves with its result, or a HandlerCrashedError if the thread dies. */
  run(delivery: Delivery, callbacks: AttemptCallbacks): Promise<AttemptResult> {
    const startedAt = Date.now();
    if (!this.#alive) return Promise.resolve({ ok: false, error: this.#endedBy ?? this.#crashError(1), startedAt, finishedAt: startedAt });
    if (this.#running !== undefined) throw new Error("ThreadSlot.run: the thread is busy");
    const id = this.#nextId++;
    return new Promise<AttemptResult>((resolve) => {
      this.#running = { id, callbacks, resolve, startedAt };
      this.#send({ type: "run", id, delivery });
    });
  }

  /** Aborts the running attempt's `ctx.signal` (shutdown, or with `cancel` a CancelledError); the handler may still finish. */
  abort(options: { cancel?: boolean } = {}): void {
    if (this.#running !== undefined) this.#send({ type: "abort", id: this.#running.id, ...(options.cancel === true ? { cancel: true } : {}) });
  }

  /** Ends the thread at once, even one stuck in `while (true) {}`; a running attempt reports `reason`. */
  async terminate(reason?: JobError): Promise<void> {
    this.#endedBy ??= reason;
    if (this.#alive) await this.#worker.terminate();
    await this.exited;
  }

  #send(message: ToThread): void {
    if (this.#alive) this.#worker.postMessage(message);
  }

  #crashError(code: number): JobError {
    const cause = this.#lastError;
    const message =
      cause === undefined
        ? `the handler's thread exited with code ${code} (process.exit() called?); the thread was replaced`
        : `the handler crashed outside its attempt's promise (${describe(cause)}); the thread was replaced`;
    const error = toJobError(new HandlerCrashedError(message));
    return { ...error, stack: cause instanceof Error && cause.stack !== undefined ? cause.stack : error.stack };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
