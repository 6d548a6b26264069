/**
 * Waits for a job to reach a final status: woken by the dispatcher's `job:finished` events, and
 * polling storage too, since a job settled by another server sharing the storage announces
 * nothing here.
 *
 * ```ts
 * const record = await waitForFinal(dispatcher, id, { timeoutMs: 5000, signal }); // undefined on timeout or abort
 * ```
 */
import { isFinal, type JobRecord } from "../core/job.ts";
import type { Dispatcher } from "./dispatcher.ts";

export interface WaitForFinalOptions {
  /** Gives up after this many ms (resolving undefined). Default: never. */
  timeoutMs?: number | undefined;
  /** Storage is read this often, ms. Default 250. */
  pollMs?: number | undefined;
  /** Gives up at once when aborted (resolving undefined), leaving no timer behind. */
  signal?: AbortSignal | undefined;
}

/** The job's record once it is final (or when there is no such job); undefined on timeout or abort. */
export function waitForFinal(dispatcher: Dispatcher, jobId: string, options: WaitForFinalOptions = {}): Promise<JobRecord | undefined> {
  const { signal } = options;
  if (signal?.aborted === true) return Promise.resolve(undefined);
  return new Promise<JobRecord | undefined>((resolve, reject) => {
    let settled = false;
    const end = (): boolean => {
      if (settled) return false;
      settled = true;
      off();
      clearInterval(poll);
      clearTimeout(timeout);
      signal?.removeEventListener("abort", abort);
      return true;
    };
    const abort = (): void => {
      if (end()) resolve(undefined);
    };
    const check = (): void => {
      dispatcher.storage.getJob(jobId).then(
        (record) => {
          if ((record === undefined || isFinal(record.status)) && end()) resolve(record);
        },
        (error: unknown) => {
          if (end()) reject(error);
        },
      );
    };
    const off = dispatcher.events.on("job:finished", (event) => {
      if (event.jobId === jobId) check();
    });
    const poll = setInterval(check, options.pollMs ?? 250);
    const timeout = options.timeoutMs === undefined ? undefined : setTimeout(abort, options.timeoutMs);
    signal?.addEventListener("abort", abort, { once: true });
    check();
  });
}
