/**
 * A worker that runs a step function in this process. Used by the in-process runner and by
 * `mario up` for functions it serves itself.
 */
import { setMaxListeners } from "node:events";
import { CancelledError } from "../core/errors/cancelled-error.ts";
import { newId } from "../core/ids.ts";
import type { Logger } from "../log/logger.ts";
import { AttemptCancel } from "./attempt-cancel.ts";
import type { Delivery, DispatchTarget } from "./delivery.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { encodableOutcome } from "./encodable-outcome.ts";
import type { StepExecutor } from "./step-executor.ts";

export class LocalWorker implements DispatchTarget {
  readonly workerId: string;
  readonly jobType: string;
  readonly capacity: number;
  readonly #executor: StepExecutor;
  readonly #dispatcher: Dispatcher;
  readonly #logger: Logger;
  readonly #shutdown = new AbortController();
  readonly #running = new Set<Promise<void>>();
  /** One cancel per running attempt, by job id and lease token (no AbortController each: see AttemptCancel). */
  readonly #cancels = new Map<string, AttemptCancel>();

  constructor(options: { executor: StepExecutor; dispatcher: Dispatcher; logger: Logger }) {
    this.jobType = options.executor.jobType;
    this.workerId = `local-${this.jobType}-${newId().slice(-8)}`;
    this.capacity = options.executor.policy.concurrency;
    this.#executor = options.executor;
    // Every running attempt listens on this signal: as many listeners as the concurrency.
    setMaxListeners(0, this.#shutdown.signal);
    this.#dispatcher = options.dispatcher;
    this.#logger = options.logger;
  }

  async send(deliveries: Delivery[]): Promise<void> {
    for (const delivery of deliveries) {
      const run = this.#run(delivery).finally(() => this.#running.delete(run));
      this.#running.add(run);
    }
  }

  cancel(jobId: string, token: string): void {
    this.#cancels.get(`${jobId}\u0000${token}`)?.cancel(new CancelledError());
  }

  /** Aborts running attempts and waits for them to report. */
  async stop(): Promise<void> {
    this.#shutdown.abort();
    await this.drain();
  }

  /** Waits for running attempts to finish on their own. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }

  async #run(delivery: Delivery): Promise<void> {
    const key = `${delivery.jobId}\u0000${delivery.token}`;
    const cancel = new AttemptCancel();
    this.#cancels.set(key, cancel);
    const outcome = await this.#executor.execute(delivery, {
      workerId: this.workerId,
      logger: this.#logger,
      signal: this.#shutdown.signal,
      cancel,
      onProgress: (fraction, message) => this.#dispatcher.progress([{ pipeline: delivery.pipeline, jobId: delivery.jobId, token: delivery.token, fraction, message }]),
      onLog: (line) => this.#dispatcher.logLines([{ pipeline: delivery.pipeline, jobId: delivery.jobId, token: delivery.token, line }]),
    }).finally(() => this.#cancels.delete(key));
    // Nothing encodes this outcome on its way to storage: check its output can be (as a step worker's results are).
    await this.#dispatcher.report([encodableOutcome(outcome)]).catch((error: unknown) => {
      this.#logger.error("result not stored; the lease will expire and the job run again", { jobId: delivery.jobId, error: String(error) });
    });
  }
}
