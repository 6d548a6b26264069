/**
 * How a worker runs one attempt: in this process (`InProcessExecutor`), or isolated where the
 * host can stop a runaway (the function host's executors). Workers of every transport take one.
 */
import type { LogLine } from "../core/job-logs.ts";
import { resolveStepPolicy, type StepPolicy } from "../core/step-config.ts";
import type { Logger } from "../log/logger.ts";
import type { AttemptCancel } from "./attempt-cancel.ts";
import type { Delivery, StepOutcome } from "./delivery.ts";
import type { StepDefinition } from "./step-definition.ts";
import { runAttempt } from "./step-runner.ts";

export interface ExecuteHooks {
  workerId: string;
  logger: Logger;
  /** Aborts the attempt (shutdown). */
  signal: AbortSignal;
  /**
   * Aborts this attempt alone: its job was cancelled (the reason is a CancelledError). The attempt
   * ends with it; an executor that can stop a handler that ignores it (threads) does so after a
   * grace period, one that cannot (in process) discards what it returns.
   */
  cancelSignal?: AbortSignal | undefined;
  /**
   * The same as `cancelSignal` (either may be given), without an AbortSignal per attempt: the
   * executor listens with `onCancel` (or takes `cancel.signal`, made on first ask).
   */
  cancel?: AttemptCancel | undefined;
  onProgress(fraction: number, message?: string): void;
  /** Each line the attempt writes, as it is written (optional: the lines come with the outcome anyway). */
  onLog?: ((line: LogLine) => void) | undefined;
  /** The delivery's input belongs to this attempt alone (freshly decoded): no defensive copy needed. */
  ownsInput?: boolean | undefined;
}

export interface StepExecutor {
  readonly jobType: string;
  readonly policy: StepPolicy;
  /** Runs one attempt; never rejects: failures, timeouts and crashes come back as outcomes. */
  execute(delivery: Delivery, hooks: ExecuteHooks): Promise<StepOutcome>;
  /** Releases what the executor holds (threads, processes). */
  close(): Promise<void>;
}

/** Runs the step function in this process (no hard isolation: a blocked event loop blocks all). */
export class InProcessExecutor implements StepExecutor {
  readonly jobType: string;
  readonly policy: StepPolicy;
  readonly #step: StepDefinition;

  constructor(step: StepDefinition, policy: StepPolicy = resolveStepPolicy(step.config, `step "${step.jobType}"`)) {
    this.#step = step;
    this.jobType = step.jobType;
    this.policy = policy;
  }

  execute(delivery: Delivery, hooks: ExecuteHooks): Promise<StepOutcome> {
    return runAttempt(this.#step.handler, delivery, {
      workerId: hooks.workerId,
      logger: hooks.logger,
      shutdownSignal: hooks.signal,
      cancelSignal: hooks.cancelSignal ?? hooks.cancel?.signal,
      onProgress: (fraction, message) => hooks.onProgress(fraction, message),
      onLog: hooks.onLog,
      ownsInput: hooks.ownsInput,
    });
  }

  async close(): Promise<void> {}
}
