/**
 * Runs one attempt of a step function in this process, with its timeout: the attempt fails with
 * a StepTimeoutError when the timeout passes, and `ctx.signal` aborts.
 */
import { StepTimeoutError } from "../core/errors/step-timeout-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { toJobError } from "../core/job.ts";
import type { Logger } from "../log/logger.ts";
import type { Delivery, StepHandler, StepOutcome } from "./delivery.ts";

export interface RunOptions {
  workerId: string;
  logger: Logger;
  /** Aborts every running attempt (shutdown). */
  shutdownSignal?: AbortSignal | undefined;
  onProgress?: ((fraction: number, message?: string) => void) | undefined;
}

export async function runAttempt(handler: StepHandler, delivery: Delivery, options: RunOptions): Promise<StepOutcome> {
  const startedAt = Date.now();
  const controller = new AbortController();
  const base = { jobId: delivery.jobId, token: delivery.token, workerId: options.workerId, startedAt };
  let timer: NodeJS.Timeout | undefined;
  const onShutdown = (): void => controller.abort(new ShutdownError("worker is shutting down"));
  options.shutdownSignal?.addEventListener("abort", onShutdown, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    timer = setTimeout(() => {
      controller.abort(new StepTimeoutError(`step "${delivery.jobType}" timed out after ${delivery.timeoutMs} ms`));
    }, delivery.timeoutMs);
  });
  try {
    const output = await Promise.race([
      Promise.resolve().then(() =>
        handler(structuredClone(delivery.input), {
          jobId: delivery.jobId,
          pipeline: delivery.pipeline,
          jobType: delivery.jobType,
          stepIndex: delivery.stepIndex,
          attempt: delivery.attempt,
          get logger() {
            return options.logger.child({ jobId: delivery.jobId, jobType: delivery.jobType, attempt: delivery.attempt });
          },
          deadline: startedAt + delivery.timeoutMs,
          signal: controller.signal,
          progress: (fraction, message) => options.onProgress?.(fraction, message),
        }),
      ),
      aborted,
    ]);
    return { ...base, ok: true, output: output === undefined ? null : output, finishedAt: Date.now() };
  } catch (thrown) {
    return { ...base, ok: false, error: toJobError(thrown), finishedAt: Date.now() };
  } finally {
    clearTimeout(timer);
    options.shutdownSignal?.removeEventListener("abort", onShutdown);
    aborted.catch(() => {});
  }
}
