/**
 * The messages between the host (main thread) and a handler's worker thread. Both sides
 * validate what they receive; a thread is user code, so its messages are checked like any input.
 */
import { z } from "zod";

const jobErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
  retryable: z.boolean().optional(),
});

const deliverySchema = z.object({
  jobId: z.string(),
  token: z.string(),
  pipeline: z.string(),
  jobType: z.string(),
  stepIndex: z.number().int(),
  attempt: z.number().int(),
  input: z.record(z.string(), z.unknown()),
  timeoutMs: z.number(),
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
export const toThreadSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("run"), id: z.number().int(), delivery: deliverySchema }),
  z.object({ type: z.literal("abort"), id: z.number().int(), cancel: z.boolean().optional() }),
]);
export type ToThread = z.infer<typeof toThreadSchema>;

/** Thread → main. */
export const fromThreadSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("ready"),
    jobType: z.string(),
    shape: z.string(),
    config: z
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
      .optional(),
  }),
  z.object({ type: z.literal("load-failed"), error: jobErrorSchema }),
  z.object({
    type: z.literal("log"),
    id: z.number().int(),
    level: z.enum(["debug", "info", "warn", "error"]),
    message: z.string(),
    fields: z.record(z.string(), z.unknown()),
  }),
  z.object({ type: z.literal("progress"), id: z.number().int(), fraction: z.number(), message: z.string().optional() }),
  /** A line the attempt wrote (ctx.logger or console.*), kept with the job. */
  z.object({ type: z.literal("line"), id: z.number().int(), t: z.number(), level: z.enum(["debug", "info", "warn", "error"]), msg: z.string() }),
  /** The end of an attempt: `output` when ok, else `error`. */
  z.object({
    type: z.literal("done"),
    id: z.number().int(),
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: jobErrorSchema.optional(),
    startedAt: z.number(),
    finishedAt: z.number(),
  }),
]);
export type FromThread = z.infer<typeof fromThreadSchema>;
