/**
 * Runs inside one worker thread: imports one function bundle, then runs every attempt the host
 * posts, many at once (each an async task of its own), through the same `runAttempt` as
 * in-process workers (so `ctx` is the same: jobId, attempt, logger, signal, progress, deadline,
 * and console.* lines kept per attempt through AsyncLocalStorage). What it sends back (lines,
 * progress, results) is batched: one postMessage per turn of the event loop.
 *
 * Not imported by the host: `thread-runtime.ts` bundles this file into a self-contained module
 * that threads start from without a TypeScript loader. What dies here (process.exit, a throw in
 * a timer, an unhandled rejection) ends this thread only. Before it dies, the thread tells the
 * host which attempt's async context the crash came from (when one did): the host fails that
 * attempt and hands the others back as stalls.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { stepFromModule, type FunctionStep } from "../functions/step-from-module.ts";
import { CancelledError } from "../core/errors/cancelled-error.ts";
import { InvalidOutputError } from "../core/errors/invalid-output-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { toJobError } from "../core/job.ts";
import type { Delivery } from "../engine/delivery.ts";
import { runAttempt } from "../engine/step-runner.ts";
import type { LogFields, Logger, LogLevel } from "../log/logger.ts";
import { threadDataSchema, type FromThread, type ToThread } from "./_thread-protocol.ts";

const port = parentPort;
if (port === null) throw new Error("_thread-main runs in a worker thread only");
const data = threadDataSchema.parse(workerData);
process.setSourceMapsEnabled(true);

/** Which attempt (by id) the running code belongs to, for crashes. */
const attemptOf = new AsyncLocalStorage<number>();
/** One per running attempt: aborted with a CancelledError (cancel) or a ShutdownError (shutdown). */
const aborts = new Map<number, AbortController>();

let outbox: FromThread[] = [];
let flushing = false;
let crashed = false;

function post(message: FromThread): void {
  outbox.push(message);
  if (flushing) return;
  flushing = true;
  setImmediate(flush);
}

function flush(): void {
  flushing = false;
  const batch = outbox;
  outbox = [];
  if (batch.length === 0) return;
  try {
    port!.postMessage(batch);
  } catch {
    // Something in the batch cannot be cloned (an output): send one by one, and fail that attempt.
    for (const message of batch) {
      try {
        port!.postMessage([message]);
      } catch (error) {
        if (message.type !== "done") continue;
        const reason = toJobError(error).message;
        const failed = toJobError(new InvalidOutputError(`the step's output cannot be sent: ${reason}`));
        port!.postMessage([{ type: "done", id: message.id, ok: false, error: failed, startedAt: message.startedAt, finishedAt: message.finishedAt }]);
      }
    }
  }
}

/** Sends what is pending, then the crash, synchronously (the thread is about to end). */
function reportCrash(message: FromThread): void {
  if (crashed) return;
  crashed = true;
  flush();
  port!.postMessage([message]);
}

process.on("uncaughtExceptionMonitor", (error) => reportCrash({ type: "crash", id: attemptOf.getStore(), error: toJobError(error) }));
const exit = process.exit.bind(process);
process.exit = (code?: number | string | null) => {
  reportCrash({ type: "crash", id: attemptOf.getStore(), ...(typeof code === "number" ? { code } : {}) });
  return exit(code);
};

const step = await load();
if (step !== undefined) {
  port.on("message", (raw: unknown) => {
    if (!Array.isArray(raw)) return;
    for (const message of raw as ToThread[]) {
      if (message.type === "run") void attemptOf.run(message.id, () => run(step, message.id, message.delivery));
      else aborts.get(message.id)?.abort(message.cancel === true ? new CancelledError() : new ShutdownError("the function host is shutting down"));
    }
  });
  post({ type: "ready", jobType: step.jobType, shape: step.shape, config: plain(sendable(step.config)) as never });
}

async function load(): Promise<FunctionStep | undefined> {
  try {
    if (data.tsxUrl !== undefined) ((await import(data.tsxUrl)) as { register(): unknown }).register();
    return stepFromModule(data.file, (await import(data.bundleUrl)) as Record<string, unknown>);
  } catch (error) {
    post({ type: "load-failed", error: toJobError(error) });
    return undefined;
  }
}

async function run(step: FunctionStep, id: number, delivery: Delivery): Promise<void> {
  const abort = new AbortController();
  aborts.set(id, abort);
  const outcome = await runAttempt(step.handler, delivery, {
    workerId: "thread",
    logger: threadLogger(id, {}),
    // Shutdown and cancel are per attempt here (the host sends each): one signal, its reason says which.
    cancelSignal: abort.signal,
    ownsInput: true,
    onProgress: (fraction, message) => post({ type: "progress", id, fraction: Number(fraction), ...(message === undefined ? {} : { message: String(message) }) }),
    onLog: (line) => post({ type: "line", id, ...line }),
  });
  aborts.delete(id);
  const times = { startedAt: outcome.startedAt, finishedAt: outcome.finishedAt };
  if (outcome.ok) post({ type: "done", id, ok: true, output: outcome.output, ...times });
  else post({ type: "done", id, ok: false, error: outcome.error, ...times });
}

function threadLogger(id: number, base: LogFields): Logger {
  const log = (level: LogLevel) => (message: string, fields?: LogFields) =>
    post({ type: "log", id, level, message: String(message), fields: (plain({ ...base, ...fields }) ?? {}) as LogFields });
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), child: (fields) => threadLogger(id, { ...base, ...fields }) };
}

/** A key function stays here (the main thread reads it from its own load, see LocalRunner); so does its maxPerKey. */
function sendable(config: FunctionStep["config"]): FunctionStep["config"] {
  if (typeof config?.concurrencyKey !== "function") return config;
  return { ...config, concurrencyKey: undefined, maxPerKey: undefined };
}

/** A JSON-safe copy (errors as {name, message}), so anything a user logs can cross threads. */
function plain(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? v.toString() : v))) as unknown;
  } catch {
    return { unserializable: Object.prototype.toString.call(value) };
  }
}
