/**
 * Rate limits and per-key concurrency of a step, from its `config`:
 *
 * ```ts
 * export const config = {
 *   rateLimit: { max: 10, perMs: 1000 },   // at most 10 attempts of this step start per second
 *   concurrencyKey: "customer.id",          // or (input) => String(input.customer.id)
 *   maxPerKey: 1,                           // one job per customer at a time (default 1)
 * };
 * ```
 *
 * Pure: validation (zod, one line naming the field) and the key of a job's input. Storage enforces
 * them at lease time (see `LeaseLimits` in storage-backend.ts); they come from the server's own
 * project, never from the wire.
 */
import { z } from "zod";
import { InvalidConfigError } from "./errors/invalid-config-error.ts";
import type { Instructions } from "./job.ts";

/** A key function: the job's input in, its key out (`undefined`: the job has no key). */
export type ConcurrencyKeyFn = (input: Instructions) => string | number | undefined | null;

export interface RateLimit {
  /** Attempts that may start within any `perMs` window. */
  max: number;
  /** Window length, ms. */
  perMs: number;
}

/** What storage is told at lease time. */
export interface LeaseLimits {
  rate?: RateLimit | undefined;
  /** Jobs of one concurrency key running at once; absent: no per-key limit. */
  maxPerKey?: number | undefined;
}

/** A step's resolved limits. */
export interface StepLimits {
  lease: LeaseLimits;
  /** The job's key at this step, computed when it enters the step. */
  keyOf?: ((input: Instructions) => string | undefined) | undefined;
}

/** Longest key kept, characters; a longer one is cut (keys name Redis keys). */
export const MAX_KEY_LENGTH = 256;
/** Longest rate window, ms (a day). */
export const MAX_RATE_WINDOW_MS = 86_400_000;

const limitsSchema = z.object({
  rateLimit: z
    .object({
      max: z.number().int("must be a whole number").min(1, "must be at least 1").max(1_000_000, "must be at most 1000000"),
      perMs: z.number().int("must be a whole number of ms").min(1, "must be at least 1 ms").max(MAX_RATE_WINDOW_MS, `must be at most ${MAX_RATE_WINDOW_MS} ms (a day)`),
    }, { error: "must be { max, perMs }" })
    .strict()
    .optional(),
  concurrencyKey: z
    .union([z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, "must be a dot path such as \"customer.id\""), z.custom<ConcurrencyKeyFn>((v) => typeof v === "function")], {
      error: "must be a dot path (\"customer.id\") or a function (input) => string",
    })
    .optional(),
  maxPerKey: z.number().int("must be a whole number").min(1, "must be at least 1").max(10_000, "must be at most 10000").optional(),
});

/**
 * The limits of a step config, validated; undefined when it sets none. Throws InvalidConfigError
 * with one line naming `where` and the field.
 */
export function resolveStepLimits(config: Record<string, unknown> | undefined, where = "step config"): StepLimits | undefined {
  if (config === undefined) return undefined;
  const picked = { rateLimit: config.rateLimit, concurrencyKey: config.concurrencyKey, maxPerKey: config.maxPerKey };
  const parsed = limitsSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? "" : issue.path.join(".");
    throw new InvalidConfigError(`${where}: config.${field || "limits"} ${issue?.message ?? "is invalid"}`);
  }
  const { rateLimit, concurrencyKey, maxPerKey } = parsed.data;
  if (maxPerKey !== undefined && concurrencyKey === undefined) {
    throw new InvalidConfigError(`${where}: config.maxPerKey needs a config.concurrencyKey (which jobs share a key)`);
  }
  if (rateLimit === undefined && concurrencyKey === undefined) return undefined;
  const lease: LeaseLimits = {
    ...(rateLimit === undefined ? {} : { rate: { max: rateLimit.max, perMs: rateLimit.perMs } }),
    ...(concurrencyKey === undefined ? {} : { maxPerKey: maxPerKey ?? 1 }),
  };
  return { lease, ...(concurrencyKey === undefined ? {} : { keyOf: keyFunction(concurrencyKey) }) };
}

function keyFunction(spec: string | ConcurrencyKeyFn): (input: Instructions) => string | undefined {
  const read: ConcurrencyKeyFn = typeof spec === "function" ? spec : (input) => atPath(input, spec.split("."));
  return (input) => {
    let value: unknown;
    try {
      value = read(input);
    } catch {
      return undefined;
    }
    if (typeof value === "number" && Number.isFinite(value)) value = String(value);
    if (typeof value !== "string" || value === "") return undefined;
    return value.length > MAX_KEY_LENGTH ? value.slice(0, MAX_KEY_LENGTH) : value;
  };
}

function atPath(input: unknown, path: readonly string[]): string | number | undefined {
  let at: unknown = input;
  for (const part of path) {
    if (typeof at !== "object" || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return typeof at === "string" || typeof at === "number" ? at : undefined;
}
