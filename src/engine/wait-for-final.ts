/**
 * Waiting for a job, written once: woken by the engine's `job:finished` events, and polling
 * storage now and then too, since a job settled by another server sharing the storage announces
 * nothing here. The record is read once at the start and once when the job is final; the polls
 * in between ask only whether it is (`finalOrGone`), so their cost does not grow with the job. `Dispatcher.waitForFinal` is this; the ZeroMQ intake answers `wait` requests with
 * it, so a remote gateway or client waits on the server's reply.
 *
 * ```ts
 * const record = await waitForFinal(dispatcher, id, { timeoutMs: 5000, signal }); // undefined on timeout or abort
 * ```
 */
import { isFinal, type JobRecord } from "../core/job.ts";
import type { Dispatcher } from "./dispatcher.ts";

/** What waiting needs of a Dispatcher: a read by id, a cheap "is it final", and its events. */
export type JobSource = Pick<Dispatcher, "get" | "finalOrGone" | "events">;

export interface WaitForFinalOptions {
  /** Gives up after this many ms (resolving undefined). Default: never. */
  timeoutMs?: number | undefined;
  /** Storage is asked this often whether the job is final, ms. Default 250. */
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
      clearInterval(interval);
      clearTimeout(timeout);
      signal?.removeEventListener("abort", abort);
      return true;
    };
    const abort = (): void => {
      if (end()) resolve(undefined);
    };
    const fail = (error: unknown): void => {
      if (end()) reject(error);
    };
    /** Known after the first read: polls then ask storage about this pipeline only. */
    let pipeline: string | undefined;
    const read = (): Promise<void> =>
      dispatcher.get(jobId).then((record) => {
        if (record === undefined || isFinal(record.status)) {
          if (end()) resolve(record);
        } else pipeline = record.pipeline;
      }, fail);
    const poll = async (): Promise<void> => {
      if (pipeline === undefined) return read();
      const [done] = await dispatcher.finalOrGone(pipeline, [jobId]);
      if (done === true) await read();
    };
    // One poll at a time: a slow storage is not asked again before it answered.
    let polling = false;
    const check = (): void => {
      if (polling) return;
      polling = true;
      poll().then(() => {
        polling = false;
      }, fail);
    };
    const off = dispatcher.events.on("job:finished", (event) => {
      if (event.jobId === jobId) void read();
    });
    const interval = setInterval(check, options.pollMs ?? 250);
    const timeout = options.timeoutMs === undefined ? undefined : setTimeout(abort, options.timeoutMs);
    signal?.addEventListener("abort", abort, { once: true });
    void read();
  });
}
