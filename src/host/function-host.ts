/**
 * Hosts every function of a folder: bundles each file (esbuild), runs it in a small pool of worker
 * threads, many attempts on each (ThreadExecutor), and serves it through `serve` — a ZeroMQ StepWorker for
 * `mario host`, or a local dispatcher (serveInProcess). A file that fails to build or fits no
 * shape is reported (`problem` event) and the others still start.
 *
 * ```ts
 * const host = new FunctionHost({ dir: "functions", serve: async (executor) => {
 *   const worker = new StepWorker({ executor, subConnect: "tcp://127.0.0.1:6000" });
 *   await worker.start();
 *   return worker;
 * }, watch: true });
 * host.events.on("ready", (fn) => console.log(`${fn.jobType} ready`));
 * await host.start();
 * ```
 *
 * `reload()` (run by `watch` on any change in the folder) rebuilds every file: an unchanged
 * bundle is left alone; a changed one gets a new executor and worker, then the old worker stops
 * taking jobs and its in-flight ones finish (up to their timeout) before its threads end; a
 * deleted file's worker drains and stops; a file that no longer builds keeps its previous version.
 */
import { statSync } from "node:fs";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { TypedEmitter } from "../core/typed-emitter.ts";
import { listFunctionFiles } from "../functions/load-functions.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { bundleFunction, type BundledFunction } from "../functions/bundle-function.ts";
import { ThreadExecutor, type FunctionOverrides, type ThreadExecutorOptions } from "./thread-executor.ts";
import { watchFolder } from "./watch-folder.ts";

/** A function being served, as `serve` returns it. */
export interface ServedFunction {
  readonly workerId?: string | undefined;
  readonly address?: string | undefined;
  /** Stops taking jobs, lets in-flight ones finish within `graceMs`, then leaves. */
  stop(options: { graceMs?: number }): Promise<void>;
}

export interface HostedFunction {
  file: string;
  jobType: string;
  shape: string;
  /** Bundle hash: changes when the file or anything it imports changes. */
  hash: string;
  executor: ThreadExecutor;
  served: ServedFunction;
}

export interface FunctionProblem {
  file: string;
  message: string;
}

export interface FunctionHostEvents extends Record<string, unknown[]> {
  /** A function started, or a new version replaced the previous one (`reloaded`). */
  ready: [fn: HostedFunction, reloaded: boolean];
  /** A file could not be used (build error, no handler, job type clash). */
  problem: [problem: FunctionProblem];
  /** A deleted file's function stopped. */
  removed: [fn: { file: string; jobType: string }];
}

/** `threads`, `killGraceMs` and `logger` go to each function's ThreadExecutor. */
export interface FunctionHostOptions extends Pick<ThreadExecutorOptions, "threads" | "killGraceMs" | "logger"> {
  /** The functions folder. */
  dir: string;
  /** Serves one function's executor (starts a worker) and returns it. */
  serve: (executor: ThreadExecutor) => Promise<ServedFunction>;
  /** Replace every function's `config` values (command-line flags). */
  overrides?: Omit<FunctionOverrides, "jobType"> | undefined;
  /** Reload on changes in `dir`. Default false. */
  watch?: boolean | undefined;
  /** Quiet time after a change before reloading, ms. Default 100. */
  debounceMs?: number | undefined;
}

export class FunctionHost {
  readonly events = new TypedEmitter<FunctionHostEvents>();
  readonly #options: FunctionHostOptions;
  readonly #logger: Logger;
  readonly #hosted = new Map<string, HostedFunction>();
  /** Old versions and removed functions finishing their in-flight jobs. */
  readonly #retiring = new Set<Promise<void>>();
  readonly #lastProblem = new Map<string, string>();
  #reloading: Promise<void> | undefined;
  #again = false;
  #stopWatching: (() => Promise<void>) | undefined;
  #stopped = false;

  constructor(options: FunctionHostOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  functions(): HostedFunction[] {
    return [...this.#hosted.values()];
  }

  /** Loads and serves every function; resolves with what started and what could not. */
  async start(): Promise<{ functions: HostedFunction[]; problems: FunctionProblem[] }> {
    await listFunctionFiles(this.#options.dir); // a missing folder is an error here, a warning on reloads
    const problems: FunctionProblem[] = [];
    const off = this.events.on("problem", (p) => problems.push(p));
    try {
      await this.reload();
    } finally {
      off();
    }
    if (this.#options.watch === true) {
      this.#stopWatching = await watchFolder(this.#options.dir, () => void this.reload().catch((error: unknown) => this.#logger.error("reload failed", { error: String(error) })), {
        debounceMs: this.#options.debounceMs,
        onError: (error) => this.#logger.warn("watching the functions folder failed", { error: String(error) }),
      });
    }
    return { functions: this.functions(), problems };
  }

  /** Brings the served functions in line with the folder (one pass at a time). */
  reload(): Promise<void> {
    if (this.#reloading !== undefined) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#again = false;
        await this.#pass();
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** Stops watching, drains every worker (in-flight jobs get `graceMs`), ends every thread. */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopped = true;
    await this.#stopWatching?.();
    await this.#reloading?.catch(() => {});
    const all = [...this.#hosted.values()];
    this.#hosted.clear();
    await Promise.all(all.map((fn) => this.#retire(fn, graceMs)));
    await Promise.allSettled([...this.#retiring]);
  }

  async #pass(): Promise<void> {
    if (this.#stopped) return;
    const files = await listFunctionFiles(this.#options.dir).catch((error: unknown) => {
      this.#logger.warn(error instanceof Error ? error.message : String(error));
      return undefined;
    });
    if (files === undefined) return;
    for (const [file, fn] of [...this.#hosted]) {
      if (files.includes(file)) continue;
      this.#hosted.delete(file);
      this.#background(this.#retire(fn));
      this.events.emit("removed", { file, jobType: fn.jobType });
    }
    for (const file of [...this.#lastProblem.keys()]) if (!files.includes(file)) this.#lastProblem.delete(file);
    const bundles = await Promise.allSettled(files.map((file) => bundleFunction(file)));
    const loads = files.map((file, i) => this.#load(file, bundles[i]!));
    for (const [i, file] of files.entries()) {
      const loaded = await loads[i];
      if (loaded === undefined) continue;
      if (this.#stopped) {
        if (!(loaded instanceof Error)) await loaded.executor.close();
        continue;
      }
      if (loaded instanceof Error) {
        this.#problem(file, loaded, this.#hosted.has(file));
        continue;
      }
      await this.#swapIn(file, loaded);
    }
  }

  /** Bundled and started in its threads; undefined when the bundle did not change. */
  async #load(file: string, bundled: PromiseSettledResult<BundledFunction>): Promise<{ bundle: BundledFunction; executor: ThreadExecutor } | Error | undefined> {
    if (bundled.status === "rejected") return asError(bundled.reason);
    const bundle = bundled.value;
    if (this.#hosted.get(file)?.hash === bundle.hash) return undefined;
    try {
      return { bundle, executor: await ThreadExecutor.load(bundle, { overrides: this.#options.overrides, killGraceMs: this.#options.killGraceMs, threads: this.#options.threads, logger: this.#logger }) };
    } catch (error) {
      return asError(error);
    }
  }

  async #swapIn(file: string, loaded: { bundle: BundledFunction; executor: ThreadExecutor }): Promise<void> {
    const { executor, bundle } = loaded;
    const clash = [...this.#hosted.values()].find((fn) => fn.jobType === executor.jobType && fn.file !== file);
    if (clash !== undefined) {
      await executor.close();
      this.#problem(file, new InvalidConfigError(`${file}: job type "${executor.jobType}" is already served by ${clash.file}`), this.#hosted.has(file));
      return;
    }
    let served: ServedFunction;
    try {
      served = await this.#options.serve(executor);
    } catch (error) {
      await executor.close();
      this.#problem(file, asError(error), this.#hosted.has(file));
      return;
    }
    const previous = this.#hosted.get(file);
    const fn: HostedFunction = { file, jobType: executor.jobType, shape: executor.shape ?? "unknown", hash: bundle.hash, executor, served };
    this.#hosted.set(file, fn);
    this.#lastProblem.delete(file);
    if (previous !== undefined) {
      this.#background(this.#retire(previous));
      if (previous.jobType !== fn.jobType) this.events.emit("removed", { file, jobType: previous.jobType });
    }
    this.events.emit("ready", fn, previous !== undefined);
  }

  /** Drains a version's worker (its in-flight jobs may run to their timeout), then ends its threads. */
  async #retire(fn: HostedFunction, graceMs = fn.executor.policy.timeoutMs + 1000): Promise<void> {
    try {
      await fn.served.stop({ graceMs });
    } catch (error) {
      this.#logger.warn("a worker did not stop cleanly", { jobType: fn.jobType, error: String(error) });
    }
    await fn.executor.close();
  }

  #background(task: Promise<void>): void {
    const tracked = task.catch((error: unknown) => this.#logger.warn("retiring a function failed", { error: String(error) })).finally(() => this.#retiring.delete(tracked));
    this.#retiring.add(tracked);
  }

  /**
   * Reports a problem once per save: a reload pass that runs again (events of one save arriving
   * late) does not repeat it, and the next save that still fails prints it again.
   */
  #problem(file: string, error: Error, keptPrevious: boolean): void {
    const base = error instanceof MarioError ? error.message : `${file}: ${error.message}`;
    const message = keptPrevious ? `${base}\n(the previous version keeps running)` : base;
    const key = `${savedAt(file)}\n${message}`;
    if (this.#lastProblem.get(file) === key) return;
    this.#lastProblem.set(file, key);
    this.events.emit("problem", { file, message });
  }
}

/** The file's modification time, as a token of one save. */
function savedAt(file: string): string {
  try {
    const stat = statSync(file);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  } catch {
    return "gone";
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
