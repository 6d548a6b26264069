/**
 * Serves a function's executor to a Dispatcher in this process (no network): what tests and an
 * embedded host use where `mario host` uses a ZeroMQ StepWorker. Stopping drains: the worker
 * takes nothing new (`dispatcher.drain`), its in-flight jobs finish within `graceMs`, then it leaves.
 *
 * ```ts
 * const host = new FunctionHost({ dir: "functions", serve: serveInProcess(runner.dispatcher) });
 * ```
 */
import type { Dispatcher } from "../engine/dispatcher.ts";
import { LocalWorker } from "../engine/local-worker.ts";
import type { StepExecutor } from "../engine/step-executor.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { ServedFunction } from "./function-host.ts";

export function serveInProcess(dispatcher: Dispatcher, logger: Logger = silentLogger): (executor: StepExecutor) => Promise<ServedFunction> {
  return async (executor) => {
    const worker = new LocalWorker({ executor, dispatcher, logger });
    dispatcher.addWorker(worker, executor.policy);
    return {
      workerId: worker.workerId,
      address: "in-process",
      async stop({ graceMs }) {
        dispatcher.drain(worker.workerId);
        await Promise.race([worker.drain(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
        await worker.stop();
        await dispatcher.removeWorker(worker.workerId, "shutdown", "stopped");
      },
    };
  };
}
