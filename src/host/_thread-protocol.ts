/**
 * The messages between the host (main thread) and a function's worker threads. Each side posts
 * arrays of them, one `postMessage` per batch (what one turn of its event loop produced), not one
 * per attempt. A thread is user code, so the host checks every message it receives like any input
 * (`readFromThread`: hand-written for the per-attempt messages, zod for the rest); a thread trusts
 * the host, which started it.
 */
import { z } from "zod";
import type { LogLine } from "../core/job-logs.ts";
import type { JobError } from "../core/job.ts";
import type { Delivery } from "../engine/delivery.ts";
import type { LogLevel } from "../log/logger.ts";

const jobErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
  retryable: z.boolean().optional(),
});

/** What a thread starts with (`workerData`). */
export const threadDataSchema = z.object({
  /** The source file, for messages and the default job type. */
  file: z.string(),
  /** The bundle to import. */
  bundleUrl: z.string(),
  /** tsx's ESM API, registered first when the bundle imports TypeScript files. */
  tsxUrl: z.string().optional(),
});
export type ThreadData = z.infer<typeof threadDataSchema>;

/** Main → thread. `abort` is a shutdown (or, with `cancel`, the job was cancelled): the attempt's `ctx.signal` aborts. */
export type ToThread = { type: "run"; id: number; delivery: Delivery } | { type: "abort"; id: number; cancel?: boolean };

const configSchema = z
  .object({
    concurrency: z.number().optional(),
    timeoutMs: z.number().optional(),
    retries: z.number().optional(),
    backoff: z.union([z.number(), z.record(z.string(), z.unknown())]).optional(),
    // Step limits (a key function cannot cross to the main thread: see _thread-main.ts).
    rateLimit: z.object({ max: z.number(), perMs: z.number() }).optional(),
    concurrencyKey: z.string().optional(),
    maxPerKey: z.number().optional(),
  })
  .optional();

/** Thread → main, the rare messages (checked with zod). */
const rareSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), jobType: z.string(), shape: z.string(), config: configSchema }),
  z.object({ type: z.literal("load-failed"), error: jobErrorSchema }),
  z.object({
    type: z.literal("log"),
    id: z.number().int(),
    level: z.enum(["debug", "info", "warn", "error"]),
    message: z.string(),
    fields: z.record(z.string(), z.unknown()),
  }),
  z.object({ type: z.literal("progress"), id: z.number().int(), fraction: z.number(), message: z.string().optional() }),
  /**
   * The thread is about to die (an uncaught exception, an unhandled rejection, process.exit()):
   * `id` names the attempt whose async context it came from, when one did.
   */
  z.object({ type: z.literal("crash"), id: z.number().int().optional(), error: jobErrorSchema.optional(), code: z.number().optional() }),
]);

/** The end of an attempt: `output` when ok, else `error`. */
export interface DoneMessage {
  type: "done";
  id: number;
  ok: boolean;
  output?: unknown;
  error?: JobError | undefined;
  startedAt: number;
  finishedAt: number;
}

/** A line the attempt wrote (ctx.logger or console.*), kept with the job. */
export interface LineMessage extends LogLine {
  type: "line";
  id: number;
}

export type FromThread = z.infer<typeof rareSchema> | DoneMessage | LineMessage;

const LEVELS: ReadonlySet<unknown> = new Set<LogLevel>(["debug", "info", "warn", "error"]);

/** Each valid message of a batch a thread posted (anything else is dropped). */
export function readFromThread(raw: unknown): FromThread[] {
  if (!Array.isArray(raw)) return [];
  const messages: FromThread[] = [];
  for (const item of raw as unknown[]) {
    const message = readOne(item);
    if (message !== undefined) messages.push(message);
  }
  return messages;
}

function readOne(item: unknown): FromThread | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const m = item as Record<string, unknown>;
  if (m.type === "done") {
    if (!isId(m.id) || typeof m.ok !== "boolean" || typeof m.startedAt !== "number" || typeof m.finishedAt !== "number") return undefined;
    if (m.ok) return m as unknown as DoneMessage; // checked above; `output` is anything JSON-like
    const error = jobErrorSchema.safeParse(m.error);
    return { type: "done", id: m.id, ok: false, error: error.success ? error.data : undefined, startedAt: m.startedAt, finishedAt: m.finishedAt };
  }
  if (m.type === "line") {
    if (!isId(m.id) || typeof m.t !== "number" || !LEVELS.has(m.level) || typeof m.msg !== "string") return undefined;
    return { type: "line", id: m.id, t: m.t, level: m.level as LogLevel, msg: m.msg };
  }
  const parsed = rareSchema.safeParse(item);
  return parsed.success ? parsed.data : undefined;
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}
