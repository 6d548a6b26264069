/**
 * Runs inside one worker thread: imports one function bundle, then runs the attempts the host
 * posts, one at a time, through the same `runAttempt` as in-process workers (so `ctx` is the
 * same: jobId, attempt, logger, signal, progress, deadline). Logs and progress are posted back.
 *
 * Not imported by the host: `thread-runtime.ts` bundles this file into a self-contained module
 * that threads start from without a TypeScript loader. What dies here (process.exit, a throw in
 * a timer, an unhandled rejection) ends this thread only; the host sees the exit and replaces it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { stepFromModule, type FunctionStep } from "../functions/step-from-module.ts";
import { CancelledError } from "../core/errors/cancelled-error.ts";
import { InvalidOutputError } from "../core/errors/invalid-output-error.ts";
import { toJobError } from "../core/job.ts";
import type { Delivery } from "../engine/delivery.ts";
import { runAttempt } from "../engine/step-runner.ts";
import type { LogFields, Logger, LogLevel } from "../log/logger.ts";
import { threadDataSchema, toThreadSchema, type FromThread } from "./_thread-protocol.ts";

const port = parentPort;
if (port === null) throw new Error("_thread-main runs in a worker thread only");
const data = threadDataSchema.parse(workerData);
process.setSourceMapsEnabled(true);

const post = (message: FromThread): void => port.postMessage(message);
const shutdowns = new Map<number, AbortController>();
/** One per running attempt: aborted (with a CancelledError) when its job is cancelled. */
const cancels = new Map<number, AbortController>();

const step = await load();
if (step !== undefined) {
  port.on("message", (raw: unknown) => {
    const parsed = toThreadSchema.safeParse(raw);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === "abort" && message.cancel === true) cancels.get(message.id)?.abort(new CancelledError());
    else if (message.type === "abort") shutdowns.get(message.id)?.abort();
    else void run(step, message.id, message.delivery);
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
  const shutdown = new AbortController();
  const cancel = new AbortController();
  shutdowns.set(id, shutdown);
  cancels.set(id, cancel);
  const outcome = await runAttempt(step.handler, delivery, {
    workerId: "thread",
    logger: threadLogger(id, {}),
    shutdownSignal: shutdown.signal,
    cancelSignal: cancel.signal,
    onProgress: (fraction, message) => post({ type: "progress", id, fraction: Number(fraction), ...(message === undefined ? {} : { message: String(message) }) }),
    onLog: (line) => post({ type: "line", id, ...line }),
  });
  shutdowns.delete(id);
  cancels.delete(id);
  const times = { startedAt: outcome.startedAt, finishedAt: outcome.finishedAt };
  if (!outcome.ok) return post({ type: "done", id, ok: false, error: outcome.error, ...times });
  try {
    post({ type: "done", id, ok: true, output: outcome.output, ...times });
  } catch (error) {
    const reason = toJobError(error).message;
    post({ type: "done", id, ok: false, error: toJobError(new InvalidOutputError(`the step's output cannot be sent: ${reason}`)), ...times });
  }
}

function threadLogger(id: number, base: LogFields): Logger {
  const log = (level: LogLevel) => (message: string, fields?: LogFields) =>
    post({ type: "log", id, level, message: String(message), fields: (plain({ ...base, ...fields }) ?? {}) as LogFields });
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), child: (fields) => threadLogger(id, { ...base, ...fields }) };
}

/** A JSON-safe copy (errors as {name, message}), so anything a user logs can cross threads. */
/** A key function stays here (the main thread reads it from its own load, see LocalRunner); so does its maxPerKey. */
function sendable(config: FunctionStep["config"]): FunctionStep["config"] {
  if (typeof config?.concurrencyKey !== "function") return config;
  return { ...config, concurrencyKey: undefined, maxPerKey: undefined };
}

function plain(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? v.toString() : v))) as unknown;
  } catch {
    return { unserializable: Object.prototype.toString.call(value) };
  }
}
