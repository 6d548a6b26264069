/**
 * Waiting for a job, written once: woken by the engine's `job:finished` events, and reading the
 * job now and then too, since a job settled by another server sharing the storage announces
 * nothing here. `Dispatcher.waitForFinal` is this; the ZeroMQ intake answers `wait` requests with
 * it, so a remote gateway or client waits on the server's reply.
 *
 * ```ts
 * const record = await waitForFinal(dispatcher, id, { timeoutMs: 5000, signal }); // undefined on timeout or abort
 * ```
 */
import { isFinal, type JobRecord } from "../core/job.ts";
import type { EventSource } from "../core/typed-emitter.ts";
import type { DispatcherEvents } from "./dispatcher-events.ts";

/** What waiting needs: a read by id and the engine's events (a Dispatcher). */
export interface JobSource {
  get(jobId: string): Promise<JobRecord | undefined>;
  readonly events: EventSource<Pick<DispatcherEvents, "job:finished">>;
}

export interface WaitForFinalOptions {
  /** Gives up after this many ms (resolving undefined). Default: never. */
  timeoutMs?: number | undefined;
  /** The job is read this often, ms. Default 250. */
  pollMs?: number | undefined;
  /** Gives up at once when aborted (resolving undefined), leaving no timer behind. */
  signal?: AbortSignal | undefined;
}

/** The job's record once it is final (or when there is no such job); undefined on timeout or abort. */
export function waitForFinal(dispatcher: JobSource, jobId: string, options: WaitForFinalOptions = {}): Promise<JobRecord | undefined> {
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
      dispatcher.get(jobId).then(
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
