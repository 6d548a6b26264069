/**
 * Serves a function's executor to a Dispatcher in this process (no network): what tests and an
 * embedded host use where `mario host` uses a ZeroMQ StepWorker. Stopping drains: the worker
 * stops taking jobs (capacity 0), its in-flight jobs finish within `graceMs`, then it leaves.
 *
 * ```ts
 * const host = new FunctionHost({ dir: "functions", serve: serveInProcess(runner.dispatcher) });
 * ```
 */
import type { Dispatcher } from "../engine/dispatcher.ts";
import { LocalWorker } from "../engine/local-worker.ts";
import type { Delivery, DispatchTarget } from "../engine/delivery.ts";
import type { StepExecutor } from "../engine/step-executor.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { ServedFunction } from "./function-host.ts";

class DrainableTarget implements DispatchTarget {
  readonly workerId: string;
  readonly jobType: string;
  readonly worker: LocalWorker;
  readonly #capacity: number;
  draining = false;

  constructor(worker: LocalWorker) {
    this.worker = worker;
    this.workerId = worker.workerId;
    this.jobType = worker.jobType;
    this.#capacity = worker.capacity;
  }

  get capacity(): number {
    return this.draining ? 0 : this.#capacity;
  }

  send(deliveries: Delivery[]): Promise<void> {
    return this.worker.send(deliveries);
  }
}

export function serveInProcess(dispatcher: Dispatcher, logger: Logger = silentLogger): (executor: StepExecutor) => Promise<ServedFunction> {
  return async (executor) => {
    const target = new DrainableTarget(new LocalWorker({ executor, dispatcher, logger }));
    dispatcher.addWorker(target, executor.policy);
    return {
      workerId: target.workerId,
      address: "in-process",
      async stop({ graceMs }) {
        target.draining = true;
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([target.worker.drain(), grace]);
        clearTimeout(timer);
        await target.worker.stop();
        await dispatcher.removeWorker(target.workerId, "shutdown", "stopped");
      },
    };
  };
}
