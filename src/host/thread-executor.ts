/**
 * A StepExecutor that runs a function in a small pool of worker threads, each running many
 * attempts at once (async tasks on its event loop), as an in-process worker does.
 *
 * ```ts
 * const executor = await ThreadExecutor.load(await bundleFunction("functions/resize.ts"), { threads: 2 });
 * new LocalRunner({ pipelines, steps, executorFor: () => executor });   // or a StepWorker
 * ```
 *
 * Pool size: `threads`, default min(concurrency, os.availableParallelism()). Threads start on
 * demand: one at load, another only when every started one is busy (its event loop ran code 75 %
 * of the last 100 ms or more: CPU-bound work, or a blocked loop). Attempts that await I/O share
 * one thread, which costs the least CPU (fewer wake-ups, bigger batches). An attempt goes to the
 * thread with the fewest in flight.
 *
 * Why threads and not child processes: `Worker.terminate()` stops a thread even inside
 * `while (true) {}`, `process.exit()` in a thread ends that thread only, and an uncaught error
 * ends it with an `error` event: the isolation a hard timeout needs. What threads do not give is
 * memory isolation from native addons (run such code under `mario step`).
 *
 * Timeout: at `delivery.timeoutMs` the attempt fails with a StepTimeoutError (code TIMEOUT) and
 * its `ctx.signal` aborts inside the thread. The thread is terminated only if that attempt has
 * still not ended `killGraceMs` later (its event loop is blocked: `while (true) {}`); the other
 * attempts on it then come back as ATTEMPT_LOST, which the dispatcher hands back as stalls, not
 * attempts, and a fresh thread takes its place when needed.
 *
 * Cancel (`hooks.cancel`, or `hooks.cancelSignal`): `ctx.signal` aborts with a CancelledError and the attempt ends
 * with it. If the attempt has not ended within the cancel grace (`cancelGraceMs`, default 5 s,
 * or the step's timeout when shorter), its thread is terminated as above.
 *
 * Crash (process.exit, a throw in a timer, an unhandled rejection): the attempt whose code did it
 * fails with a HandlerCrashedError (retried per policy); the others on the thread are stalls;
 * the crash is logged and counted (`crashes`), and the thread replaced when needed.
 */
import { availableParallelism } from "node:os";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { toJobError } from "../core/job.ts";
import { resolveStepPolicy, type StepConfig, type StepPolicy } from "../core/step-config.ts";
import type { Delivery, StepOutcome } from "../engine/delivery.ts";
import type { ExecuteHooks, StepExecutor } from "../engine/step-executor.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { BundledFunction } from "../functions/bundle-function.ts";
import { PooledAttempt, type AttemptPool } from "./_pooled-attempt.ts";
import { PoolThread, type ThreadEnd } from "./pool-thread.ts";

export interface ThreadExecutorOptions {
  bundle: BundledFunction;
  jobType: string;
  policy: StepPolicy;
  /** The shape the file was recognised as (execute, fetch, lambda), for listings. */
  shape?: string | undefined;
  /** Most threads of the pool. Default min(concurrency, os.availableParallelism()). */
  threads?: number | undefined;
  /** Milliseconds an attempt past its timeout (or a shutdown) gets to end before its thread is terminated. Default 500. */
  killGraceMs?: number | undefined;
  /** Milliseconds a cancelled handler gets to end before its thread is terminated (capped by the step's timeout). Default 5000. */
  cancelGraceMs?: number | undefined;
  /** For thread deaths and terminations. Default silent. */
  logger?: Logger | undefined;
  /** Threads already started (by `load`). */
  warm?: PoolThread[] | undefined;
}

/** Settings that replace the file's own `config` and `jobType` (command-line overrides). */
export interface FunctionOverrides extends StepConfig {
  jobType?: string | undefined;
}

/** How long a cancelled handler may take to end before its thread is terminated, ms (or the step's timeout, when shorter). */
export const DEFAULT_CANCEL_GRACE_MS = 5000;

/** The default pool size of a function: min(concurrency, available parallelism). */
export function defaultThreads(concurrency: number): number {
  return Math.max(1, Math.min(concurrency, availableParallelism()));
}

/** Another thread starts only when every started one ran code at least this share of the last window. */
const BUSY_SHARE = 0.75;
/** The window over which a thread's business is judged, ms (at most one look per window). */
const GROW_CHECK_MS = 100;

type Waiter = { resolve(thread: PoolThread): void; reject(error: unknown): void };

export class ThreadExecutor implements StepExecutor, AttemptPool {
  readonly jobType: string;
  readonly policy: StepPolicy;
  readonly shape: string | undefined;
  readonly bundle: BundledFunction;
  /** Most threads of the pool. */
  readonly size: number;
  /** Milliseconds an attempt past its timeout (or a shutdown) gets to end before its thread is terminated. */
  readonly killGraceMs: number;
  /** Milliseconds a cancelled attempt gets to end before its thread is terminated (at most its timeout). */
  readonly cancelGraceMs: number;
  readonly #logger: Logger;
  /** Threads of the pool, started or starting; terminated and crashed ones leave it. */
  readonly #threads = new Set<PoolThread>();
  readonly #waiters: Waiter[] = [];
  #closed = false;
  /** When the threads' business was last looked at (see #allBusy). */
  #checkedAt = 0;
  /** Threads terminated (an attempt did not end at its timeout or cancel) or crashed, since start. */
  replaced = 0;
  /** Threads a function crashed (process.exit, an uncaught exception), since start. */
  crashes = 0;

  /** Starts one thread to read the function's job type, shape and config, and keeps it warm. */
  static async load(bundle: BundledFunction, options: { overrides?: FunctionOverrides; threads?: number | undefined; killGraceMs?: number | undefined; cancelGraceMs?: number | undefined; logger?: Logger } = {}): Promise<ThreadExecutor> {
    const first = new PoolThread(bundle);
    let meta;
    try {
      meta = await first.ready;
    } catch (error) {
      await first.terminate("its module failed to load");
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
    this.size = Math.max(1, Math.min(options.threads ?? defaultThreads(this.policy.concurrency), this.policy.concurrency));
    this.killGraceMs = options.killGraceMs ?? 500;
    this.cancelGraceMs = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    this.#logger = options.logger ?? silentLogger;
    for (const thread of options.warm ?? []) this.#adopt(thread);
  }

  /** Live threads of the pool (for listings and tests). */
  get threads(): number {
    return this.#threads.size;
  }

  /** Threads that have loaded the function and take attempts (for tests). */
  get readyThreads(): number {
    let ready = 0;
    for (const thread of this.#threads) if (thread.usable) ready++;
    return ready;
  }

  /** Attempts in flight on each live thread (for tests). */
  get inFlight(): number[] {
    return [...this.#threads].map((thread) => thread.inFlight);
  }

  execute(delivery: Delivery, hooks: ExecuteHooks): Promise<StepOutcome> {
    if (this.#closed || hooks.signal.aborted) return Promise.resolve(this.#failed(delivery, hooks, new ShutdownError("the function host is shutting down")));
    const thread = this.#pick();
    if (thread !== undefined) return this.#start(thread, delivery, hooks);
    return new Promise<PoolThread>((resolve, reject) => this.#waiters.push({ resolve, reject })).then(
      (ready) => this.#start(ready, delivery, hooks),
      (error: unknown) => this.#failed(delivery, hooks, error),
    );
  }

  /** Terminates every thread; attempts still running end as lost. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new ShutdownError("the function host is shutting down"));
    const all = [...this.#threads];
    this.#threads.clear();
    await Promise.all(all.map((thread) => thread.terminate("the function host closed its threads")));
  }

  #start(thread: PoolThread, delivery: Delivery, hooks: ExecuteHooks): Promise<StepOutcome> {
    return new Promise<StepOutcome>((resolve) => new PooledAttempt(this, thread, delivery, hooks, resolve).begin());
  }

  #failed(delivery: Delivery, hooks: ExecuteHooks, error: unknown): StepOutcome {
    const now = Date.now();
    return { jobId: delivery.jobId, token: delivery.token, workerId: hooks.workerId, ok: false, error: toJobError(error), startedAt: now, finishedAt: now };
  }

  /**
   * The usable thread with the fewest attempts in flight (undefined: none yet). Starts another
   * thread (up to `size`) only when every started one is busy: its event loop ran code most of the
   * last window (BUSY_SHARE of at least GROW_CHECK_MS). Attempts that wait on I/O share one thread
   * at no cost; a thread adds CPU only for work that needs it (and a blocked thread does not hold
   * up the attempts that come after it).
   */
  #pick(): PoolThread | undefined {
    let best: PoolThread | undefined;
    let starting = false;
    for (const thread of this.#threads) {
      if (!thread.usable) {
        if (thread.alive) starting = true;
        continue;
      }
      if (best === undefined || thread.inFlight < best.inFlight) best = thread;
    }
    if (starting || this.#threads.size >= this.size) return best;
    if (best === undefined || this.#allBusy()) this.#spawn();
    return best;
  }

  /** True when every usable thread was busy over the last window (checked at most every GROW_CHECK_MS). */
  #allBusy(now = Date.now()): boolean {
    if (now - this.#checkedAt < GROW_CHECK_MS) return false;
    this.#checkedAt = now;
    let all = true;
    // Every thread's window restarts now, so each check looks at the same stretch of time.
    for (const thread of this.#threads) if (!thread.usable || (thread.busy() ?? 0) < BUSY_SHARE) all = false;
    return all;
  }

  #spawn(): void {
    if (this.#closed) return;
    const thread = new PoolThread(this.bundle);
    this.#adopt(thread);
    thread.ready.then(
      () => {
        if (!thread.usable || !this.#threads.has(thread)) return;
        for (const waiter of this.#waiters.splice(0)) waiter.resolve(thread);
      },
      (error: unknown) => {
        if (!this.#threads.delete(thread) || this.#closed) return;
        this.#logger.error("a function thread failed to start", { jobType: this.jobType, error: String(error) });
        // Attempts waiting with no thread to run on fail with the reason (no respawn loop).
        if (![...this.#threads].some((t) => t.usable)) for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
      },
    );
  }

  #adopt(thread: PoolThread): void {
    this.#threads.add(thread);
    thread.onExit((dead, end) => this.#onExit(dead, end));
  }

  #onExit(thread: PoolThread, end: ThreadEnd): void {
    if (!thread.loaded) return; // its `ready` rejection handles it (see #spawn)
    const member = this.#threads.delete(thread);
    if (this.#closed) return;
    if (!end.terminated && member) {
      this.crashes++;
      this.replaced++;
      const others = end.inFlight - (end.culprit === undefined ? 0 : 1);
      this.#logger.warn(
        `a function thread crashed${end.culprit === undefined ? "" : ` in an attempt of job ${end.culprit}`}: ${others} other attempt(s) on it handed back as stalls; it is replaced when needed`,
        { jobType: this.jobType, code: end.code, ...(end.error === undefined ? {} : { error: end.error.message }) },
      );
    }
    // Attempts waiting for a thread must not wait forever.
    if (this.#waiters.length > 0 && this.#threads.size === 0) this.#spawn();
  }

  /** Terminates `thread` now: it leaves the pool, the attempts still on it come back lost (stalls). */
  kill(thread: PoolThread, why: string): void {
    if (!this.#threads.delete(thread)) return;
    this.replaced++;
    const others = Math.max(0, thread.inFlight - 1);
    if (!this.#closed) this.#logger.warn(`${why}: its thread was terminated (${others} other attempt(s) on it handed back as stalls) and is replaced when needed`, { jobType: this.jobType });
    void thread.terminate(why);
  }
}
