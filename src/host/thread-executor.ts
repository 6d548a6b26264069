/**
 * A StepExecutor that runs a function in worker threads: one pool per function, one attempt per
 * thread, as many threads as the function's concurrency (started on demand, kept warm).
 *
 * ```ts
 * const executor = await ThreadExecutor.load(await bundleFunction("functions/resize.ts"));
 * new LocalRunner({ pipelines, steps, executorFor: () => executor });   // or a StepWorker
 * ```
 *
 * Why threads and not child processes: `Worker.terminate()` stops a thread even inside
 * `while (true) {}`, `process.exit()` in a thread ends that thread only, and an uncaught error
 * ends it with an `error` event: the isolation a hard timeout needs. A thread starts in tens of
 * milliseconds and costs a V8 isolate (a few MB), not a Node process (~40 MB, ~100+ ms), and
 * messages are structured clones, not pipes. What threads do not give is memory isolation from
 * native addons; a segfaulting addon takes the host down (run such code under `mario step`).
 *
 * Timeout: at `delivery.timeoutMs` the attempt fails at once with a StepTimeoutError (code
 * TIMEOUT); inside the thread `ctx.signal` aborts at the same deadline. The thread is retired:
 * it gets `killGraceMs` to wind down, is then terminated, and a fresh one takes its place.
 *
 * Cancel (`hooks.cancelSignal`: the job was cancelled): `ctx.signal` aborts inside the thread with
 * a CancelledError. A handler that ends within the cancel grace (`cancelGraceMs`, default 5 s, or
 * the step's timeout when shorter) ends the attempt as it does; one that ignores the signal (a
 * `while (true) {}`) has its thread terminated at the end of the grace and replaced, and the
 * attempt fails with the CancelledError. One thread runs one attempt, so no other attempt is lost
 * with it.
 */
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { CancelledError } from "../core/errors/cancelled-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { StepTimeoutError } from "../core/errors/step-timeout-error.ts";
import { toJobError, type JobError } from "../core/job.ts";
import { DEFAULT_LOG_LIMITS, type LogLine } from "../core/job-logs.ts";
import { resolveStepPolicy, type StepConfig, type StepPolicy } from "../core/step-config.ts";
import type { Delivery, StepOutcome } from "../engine/delivery.ts";
import type { ExecuteHooks, StepExecutor } from "../engine/step-executor.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { BundledFunction } from "../functions/bundle-function.ts";
import { ThreadSlot, type AttemptResult } from "./thread-slot.ts";

export interface ThreadExecutorOptions {
  bundle: BundledFunction;
  jobType: string;
  policy: StepPolicy;
  /** The shape the file was recognised as (execute, fetch, lambda), for listings. */
  shape?: string | undefined;
  /** Milliseconds a timed-out or shut-down handler gets before its thread is terminated. Default 500. */
  killGraceMs?: number | undefined;
  /** Milliseconds a cancelled handler gets to end before its thread is terminated (capped by the step's timeout). Default 5000. */
  cancelGraceMs?: number | undefined;
  /** Milliseconds a thread may take to import the function. Default 30 000. */
  loadTimeoutMs?: number | undefined;
  /** For thread deaths outside an attempt. Default silent. */
  logger?: Logger | undefined;
  /** Threads already started (by `load`). */
  warm?: ThreadSlot[] | undefined;
}

/** Settings that replace the file's own `config` and `jobType` (command-line overrides). */
export interface FunctionOverrides extends StepConfig {
  jobType?: string | undefined;
}

/** How long a cancelled handler may take to end before its thread is terminated, ms (or the step's timeout, when shorter). */
export const DEFAULT_CANCEL_GRACE_MS = 5000;

export class ThreadExecutor implements StepExecutor {
  readonly jobType: string;
  readonly policy: StepPolicy;
  readonly shape: string | undefined;
  readonly bundle: BundledFunction;
  readonly #killGraceMs: number;
  readonly #cancelGraceMs: number;
  readonly #loadTimeoutMs: number | undefined;
  readonly #logger: Logger;
  /** Live threads of the pool (busy, idle or starting); retired ones are not counted. */
  readonly #slots = new Set<ThreadSlot>();
  readonly #idle: ThreadSlot[] = [];
  readonly #waiters: { resolve(slot: ThreadSlot): void; reject(error: unknown): void }[] = [];
  readonly #retiring = new Set<ThreadSlot>();
  readonly #starting = new Set<ThreadSlot>();
  #closed = false;
  /** Threads replaced after a timeout or crash, since start. */
  replaced = 0;

  /** Starts one thread to read the function's job type, shape and config, and keeps it warm. */
  static async load(bundle: BundledFunction, options: { overrides?: FunctionOverrides; killGraceMs?: number; loadTimeoutMs?: number; logger?: Logger } = {}): Promise<ThreadExecutor> {
    const first = new ThreadSlot(bundle, { loadTimeoutMs: options.loadTimeoutMs });
    let meta;
    try {
      meta = await first.ready;
    } catch (error) {
      await first.terminate();
      throw error;
    }
    const { jobType, ...overrides } = options.overrides ?? {};
    const config: StepConfig = { ...meta.config };
    for (const [key, value] of Object.entries(overrides)) if (value !== undefined) (config as Record<string, unknown>)[key] = value;
    return new ThreadExecutor({ ...options, bundle, jobType: jobType ?? meta.jobType, shape: meta.shape, policy: resolveStepPolicy(config), warm: [first] });
  }

  constructor(options: ThreadExecutorOptions) {
    this.bundle = options.bundle;
    this.jobType = options.jobType;
    this.policy = options.policy;
    this.shape = options.shape;
    this.#killGraceMs = options.killGraceMs ?? 500;
    this.#cancelGraceMs = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    this.#loadTimeoutMs = options.loadTimeoutMs;
    this.#logger = options.logger ?? silentLogger;
    for (const slot of options.warm ?? []) this.#adopt(slot, true);
  }

  /** Live threads (for listings and tests). */
  get threads(): number {
    return this.#slots.size;
  }

  async execute(delivery: Delivery, hooks: ExecuteHooks): Promise<StepOutcome> {
    const startedAt = Date.now();
    const base = { jobId: delivery.jobId, token: delivery.token, workerId: hooks.workerId };
    const failed = (error: JobError, at = startedAt): StepOutcome => ({ ...base, ok: false, error, startedAt: at, finishedAt: Date.now() });
    if (this.#closed || hooks.signal.aborted) return failed(toJobError(new ShutdownError("the function host is shutting down")));
    let slot: ThreadSlot;
    try {
      slot = await this.#acquire();
    } catch (error) {
      return failed(toJobError(error));
    }
    const logger = hooks.logger.child({ jobId: delivery.jobId, jobType: delivery.jobType, attempt: delivery.attempt });
    let settled = false;
    // Lines arrive as they are written, so a timed-out or crashed attempt keeps what it wrote.
    const lines: LogLine[] = [];
    let dropped = 0;
    const withLogs = (outcome: StepOutcome): StepOutcome => ({ ...outcome, ...(lines.length > 0 ? { logs: lines } : {}), ...(dropped > 0 ? { dropped } : {}) });
    const running = slot.run(delivery, {
      onLog: (level, message, fields) => logger[level](message, fields),
      onLine: (line) => {
        if (settled) return;
        if (lines.length >= DEFAULT_LOG_LIMITS.maxLines) {
          dropped += 1;
          return;
        }
        lines.push(line);
        hooks.onLog?.(line);
      },
      onProgress: (fraction, message) => {
        if (!settled) hooks.onProgress(fraction, message);
      },
    });
    let timer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), delivery.timeoutMs);
    });
    let onShutdown = (): void => {};
    const shutDown = new Promise<"shutdown">((resolve) => {
      onShutdown = () => {
        slot.abort();
        graceTimer = setTimeout(() => resolve("shutdown"), this.#killGraceMs);
      };
      hooks.signal.addEventListener("abort", onShutdown, { once: true });
    });
    if (hooks.signal.aborted) onShutdown();
    let onCancel = (): void => {};
    let cancelTimer: NodeJS.Timeout | undefined;
    const cancelled = new Promise<"cancelled">((resolve) => {
      onCancel = () => {
        slot.abort({ cancel: true });
        cancelTimer = setTimeout(() => resolve("cancelled"), Math.min(this.#cancelGraceMs, delivery.timeoutMs));
      };
      hooks.cancelSignal?.addEventListener("abort", onCancel, { once: true });
    });
    if (hooks.cancelSignal?.aborted === true) onCancel();
    const first = await Promise.race([running, timedOut, shutDown, cancelled]);
    settled = true;
    clearTimeout(timer);
    clearTimeout(graceTimer);
    clearTimeout(cancelTimer);
    hooks.signal.removeEventListener("abort", onShutdown);
    hooks.cancelSignal?.removeEventListener("abort", onCancel);
    if (first === "cancelled") {
      this.#retire(slot, running);
      this.#logger.warn("a cancelled handler ignored ctx.signal: its thread was terminated and is replaced", { jobId: delivery.jobId, jobType: delivery.jobType });
      return withLogs(failed(toJobError(new CancelledError(`the job was cancelled; its handler ignored ctx.signal for ${Math.min(this.#cancelGraceMs, delivery.timeoutMs)} ms and its thread was terminated`))));
    }
    if (first === "timeout") {
      this.#retire(slot, running);
      return withLogs(failed(toJobError(new StepTimeoutError(`step "${delivery.jobType}" timed out after ${delivery.timeoutMs} ms; its thread was terminated`))));
    }
    if (first === "shutdown") {
      this.#retire(slot, running);
      return withLogs(failed(toJobError(new ShutdownError("the function host is shutting down"))));
    }
    this.#afterAttempt(slot, running, first);
    return withLogs(first.ok ? { ...base, ok: true, output: first.output, startedAt: first.startedAt, finishedAt: first.finishedAt } : failed(first.error, first.startedAt));
  }

  /** Terminates every thread; attempts still running fail with a ShutdownError. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new ShutdownError("the function host is shutting down"));
    const reason = toJobError(new ShutdownError("the function host is shutting down"));
    const all = [...this.#slots, ...this.#retiring];
    this.#slots.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((slot) => slot.terminate(reason)));
  }

  #acquire(): Promise<ThreadSlot> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    const waiting = new Promise<ThreadSlot>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#slots.size < this.policy.concurrency) this.#spawn();
    return waiting;
  }

  #spawn(): void {
    if (this.#closed) return;
    this.#adopt(new ThreadSlot(this.bundle, { loadTimeoutMs: this.#loadTimeoutMs }), false);
  }

  #adopt(slot: ThreadSlot, ready: boolean): void {
    this.#slots.add(slot);
    slot.onExit((dead, code) => {
      if (this.#starting.has(dead)) return; // the `ready` rejection below handles it
      const wasMember = this.#slots.delete(dead);
      const index = this.#idle.indexOf(dead);
      if (index >= 0) this.#idle.splice(index, 1);
      this.#retiring.delete(dead);
      if (wasMember && !this.#closed) this.#logger.warn("a function thread exited; it is replaced when needed", { jobType: this.jobType, code });
      // An attempt waiting for a thread must not wait forever.
      if (this.#waiters.length > 0 && this.#slots.size < this.policy.concurrency) this.#spawn();
    });
    if (ready) return this.#release(slot);
    this.#starting.add(slot);
    slot.ready.then(
      () => {
        this.#starting.delete(slot);
        this.#release(slot);
      },
      (error: unknown) => {
        this.#starting.delete(slot);
        if (!this.#slots.delete(slot) || this.#closed) return;
        // The load failed: the attempt waiting for this thread fails with the reason (no respawn loop).
        this.#waiters.shift()?.reject(error);
        this.#logger.error("a function thread failed to start", { jobType: this.jobType, error: String(error) });
      },
    );
  }

  #release(slot: ThreadSlot): void {
    if (!slot.alive || !this.#slots.has(slot)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(slot);
    else this.#idle.push(slot);
  }

  #afterAttempt(slot: ThreadSlot, running: Promise<AttemptResult>, result: AttemptResult): void {
    const timedOutInside = !result.ok && result.error.code === ERROR_CODES.TIMEOUT;
    if (timedOutInside) this.#retire(slot, running);
    else if (!slot.alive) this.#replace();
    else this.#release(slot);
  }

  /** Takes a thread out of the pool: it gets `killGraceMs` to finish, then is terminated. */
  #retire(slot: ThreadSlot, running: Promise<AttemptResult>): void {
    this.#slots.delete(slot);
    this.#retiring.add(slot);
    const timer = setTimeout(() => void slot.terminate(), this.#killGraceMs);
    void running.then(() => {
      clearTimeout(timer);
      return slot.terminate();
    });
    void slot.exited.then(() => this.#retiring.delete(slot));
    this.#replace();
  }

  /** Starts a fresh thread in place of one that died or was retired after an attempt. */
  #replace(): void {
    this.replaced++;
    if (!this.#closed && this.#slots.size < this.policy.concurrency) this.#spawn();
  }
}
