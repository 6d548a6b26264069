import { normalizeRetryPolicy, type BackoffOptions, type RetryPolicy } from "./retry-policy.ts";
import { resolveStepLimits, type ConcurrencyKeyFn, type StepLimits } from "./step-limits.ts";

/** What a step file may export as `config`. Every field optional. */
export interface StepConfig {
  /** Jobs one worker runs at once. Default 1. */
  concurrency?: number | undefined;
  /** Milliseconds one attempt may run before it fails as a timeout. Default 30 000. */
  timeoutMs?: number | undefined;
  /** Retries after the first attempt. Default 2. */
  retries?: number | undefined;
  backoff?: BackoffOptions | number | undefined;
  /**
   * Times a job may be handed back because its worker was lost or stopped with it in flight (a
   * stall, not an attempt) before it goes dead with STALLED. Default 3 (BullMQ's maxStalledCount
   * is 1: a lost worker is rarely the job's fault, and a job that kills its worker every time
   * still dies after 3).
   */
  maxStalls?: number | undefined;
  /** At most `max` attempts of this step start per `perMs` ms, across every worker and server (see step-limits.ts). */
  rateLimit?: { max: number; perMs: number } | undefined;
  /** Jobs with the same key share `maxPerKey`: a dot path into the step's input, or a function of it. */
  concurrencyKey?: string | ConcurrencyKeyFn | undefined;
  /** Jobs of one `concurrencyKey` running at once. Default 1 when a key is given. */
  maxPerKey?: number | undefined;
}

/** The settings a pipeline applies to one job type, with every default filled in. */
export interface StepPolicy {
  concurrency: number;
  timeoutMs: number;
  retry: RetryPolicy;
  /** How long a lease lasts: the timeout plus a grace for the result to travel back. */
  leaseMs: number;
  /** Stalls a job may have at this step; one more and it goes dead (STALLED). */
  maxStalls: number;
  /** Rate limit and per-key concurrency, enforced by storage at lease time; absent: none. */
  limits?: StepLimits | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const LEASE_GRACE_MS = 10_000;
export const DEFAULT_MAX_STALLS = 3;

/** Throws InvalidConfigError (one line naming `where`) for invalid limits. */
export function resolveStepPolicy(config: StepConfig = {}, where?: string): StepPolicy {
  const concurrency = Math.max(1, Math.trunc(config.concurrency ?? 1));
  const timeoutMs = Math.max(1, Math.trunc(config.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  const limits = resolveStepLimits(config as Record<string, unknown>, where);
  return {
    concurrency,
    timeoutMs,
    retry: normalizeRetryPolicy({ retries: config.retries, backoff: config.backoff }),
    leaseMs: timeoutMs + LEASE_GRACE_MS,
    maxStalls: Math.max(0, Math.trunc(config.maxStalls ?? DEFAULT_MAX_STALLS)),
    ...(limits === undefined ? {} : { limits }),
  };
}
