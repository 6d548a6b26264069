/**
 * Runs pipelines in this process: the dispatcher with in-process workers, on any storage (memory
 * by default). What `mario up` runs, and what tests drive directly.
 *
 * ```ts
 * const runner = new LocalRunner({ pipelines: [{ name: "p", steps: ["double"] }],
 *   steps: [{ jobType: "double", handler: ({ n }) => ({ n: Number(n) * 2 }) }] });
 * await runner.start();
 * const outcome = await runner.enqueue("p", { n: 21 });
 * const job = await runner.waitFor(outcome.job.id);   // job.result → { n: 42 }
 * await runner.stop();
 * ```
 */
import type { EnqueueOptions } from "../core/enqueue-rules.ts";
import { BusyError } from "../core/errors/busy-error.ts";
import { UnknownJobTypeError } from "../core/errors/unknown-job-type-error.ts";
import { WaitTimeoutError } from "../core/errors/wait-timeout-error.ts";
import type { JobRecord } from "../core/job.ts";
import { validatePipelines, withSingleStepPipelines, type PipelineDefinition } from "../core/pipeline-definition.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { MemoryStorageBackend } from "../storage/memory/memory-storage-backend.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import { Dispatcher } from "./dispatcher.ts";
import { LocalWorker } from "./local-worker.ts";
import { InProcessExecutor, type StepExecutor } from "./step-executor.ts";
import type { StepDefinition } from "./step-definition.ts";
import { resolveStepLimits } from "../core/step-limits.ts";
import type { StepPolicy } from "../core/step-config.ts";
import type { ScheduleDefinition } from "../core/schedule.ts";

export interface LocalRunnerOptions {
  /** Declared pipelines; every step is also served as a one-step pipeline of its own name. */
  pipelines: readonly PipelineDefinition[];
  steps: readonly StepDefinition[];
  /** Default: a new MemoryStorageBackend. */
  storage?: StorageBackend | undefined;
  logger?: Logger | undefined;
  /** How each step runs. Default: in this process (InProcessExecutor). */
  executorFor?: ((step: StepDefinition) => StepExecutor) | undefined;
  /** Workers started per step (each with the step's concurrency). Default 1. */
  workersPerStep?: number | undefined;
  reclaimIntervalMs?: number | undefined;
  /** Cron schedules to run (see Dispatcher). Default none. */
  schedules?: readonly ScheduleDefinition[] | undefined;
}

export class LocalRunner {
  readonly dispatcher: Dispatcher;
  readonly #steps: readonly StepDefinition[];
  readonly #logger: Logger;
  readonly #workersPerStep: number;
  readonly #executorFor: (step: StepDefinition) => StepExecutor;
  #executors: StepExecutor[] = [];
  #workers: LocalWorker[] = [];
  #drained: Promise<void> | undefined;

  constructor(options: LocalRunnerOptions) {
    const jobTypes = options.steps.map((s) => s.jobType);
    validatePipelines(options.pipelines, jobTypes);
    this.#steps = options.steps;
    this.#logger = options.logger ?? silentLogger;
    this.#workersPerStep = Math.max(1, options.workersPerStep ?? 1);
    this.#executorFor = options.executorFor ?? ((step) => new InProcessExecutor(step));
    this.dispatcher = new Dispatcher({
      storage: options.storage ?? new MemoryStorageBackend(),
      pipelines: withSingleStepPipelines(options.pipelines, jobTypes),
      logger: this.#logger,
      reclaimIntervalMs: options.reclaimIntervalMs,
      schedules: options.schedules,
    });
  }

  async start(): Promise<void> {
    await this.dispatcher.start();
    for (const step of this.#steps) {
      const executor = this.#executorFor(step);
      this.#executors.push(executor);
      for (let i = 0; i < this.#workersPerStep; i++) {
        const worker = new LocalWorker({ executor, dispatcher: this.dispatcher, logger: this.#logger });
        this.#workers.push(worker);
        this.dispatcher.addWorker(worker, withLimits(executor.policy, step));
      }
    }
  }

  /** Enqueues a job (options: idempotency key, `delayMs` or `runAt`, `priority`); throws BusyError when the pipeline's buffer is full. */
  async enqueue(pipeline: string, instructions: unknown, options: EnqueueOptions = {}): Promise<{ job: JobRecord; duplicate: boolean }> {
    const outcome = await this.dispatcher.enqueue(pipeline, instructions, options);
    if (outcome.status === "busy") throw new BusyError(`pipeline "${pipeline}" is full, try again later`);
    return { job: outcome.job, duplicate: outcome.status === "duplicate" };
  }

  /** The job's final record. Rejects if it is unknown or not final within `timeoutMs`. */
  async waitFor(jobId: string, timeoutMs = 60_000): Promise<JobRecord> {
    const record = await this.dispatcher.waitForFinal(jobId, { timeoutMs });
    if (record === undefined) throw new WaitTimeoutError(`job ${jobId} did not finish within ${timeoutMs} ms`);
    return record;
  }

  /**
   * Stops dispatching, lets running attempts finish for up to `graceMs` (their outcomes are
   * settled), and hands the rest back to the queue (not counted as attempts). Storage stays open
   * (reads still answer). Safe to call twice; `stop()` calls it first.
   */
  drain(graceMs = 5000): Promise<void> {
    this.#drained ??= this.#drain(graceMs);
    return this.#drained;
  }

  async #drain(graceMs: number): Promise<void> {
    await this.dispatcher.pause();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled(this.#workers.map((w) => w.drain())), grace]);
    clearTimeout(timer);
    for (const worker of this.#workers) await this.dispatcher.removeWorker(worker.workerId, "shutdown", "stopped");
  }

  /** Drains (see `drain`), then stops the workers and closes storage. */
  async stop(graceMs = 5000): Promise<void> {
    await this.drain(graceMs);
    await Promise.all(this.#workers.map((w) => w.stop()));
    await Promise.all(this.#executors.map((e) => e.close()));
    await this.dispatcher.close();
    this.#workers = [];
    this.#executors = [];
    this.#drained = undefined;
  }

  jobTypes(): string[] {
    return this.#steps.map((s) => s.jobType);
  }

  stepFor(jobType: string): StepDefinition {
    const step = this.#steps.find((s) => s.jobType === jobType);
    if (step === undefined) throw new UnknownJobTypeError(jobType, this.jobTypes());
    return step;
  }
}

/**
 * The executor's policy with the step's limits, read from the step as this process loaded it (a
 * function file's executor runs in a thread, which cannot send a key function back).
 */
function withLimits(policy: StepPolicy, step: StepDefinition): StepPolicy {
  const limits = resolveStepLimits(step.config as Record<string, unknown> | undefined, `step "${step.jobType}"`);
  return limits === undefined ? policy : { ...policy, limits };
}
