/**
 * When a failed attempt is tried again. Attempts are counted per step, from 1.
 *
 * ```ts
 * const policy = normalizeRetryPolicy({ retries: 3, backoff: { type: "exponential", delayMs: 100 } });
 * backoffDelay(policy, 2, Math.random); // ~200 ms, jittered
 * ```
 */
export interface BackoffOptions {
  /** `fixed`: always `delayMs`; `exponential`: `delayMs * 2^(attempt-1)`. Default exponential. */
  type?: "fixed" | "exponential" | undefined;
  /** Base delay in milliseconds. Default 200. */
  delayMs?: number | undefined;
  /** Upper bound of one delay in milliseconds. Default 60 000. */
  maxDelayMs?: number | undefined;
  /** Fraction of the delay randomised, 0 to 1 (full jitter at 1). Default 0.5. */
  jitter?: number | undefined;
}

export interface RetryOptions {
  /** Retries after the first attempt; 0 disables retrying. Default 2 (three attempts in all). */
  retries?: number | undefined;
  backoff?: BackoffOptions | number | undefined;
}

export interface RetryPolicy {
  maxAttempts: number;
  backoff: Required<BackoffOptions>;
}

export const DEFAULT_RETRIES = 2;

export function normalizeRetryPolicy(options: RetryOptions = {}): RetryPolicy {
  const retries = clampInt(options.retries ?? DEFAULT_RETRIES, 0, 1000);
  const raw: BackoffOptions = typeof options.backoff === "number" ? { delayMs: options.backoff } : (options.backoff ?? {});
  return {
    maxAttempts: retries + 1,
    backoff: {
      type: raw.type ?? "exponential",
      delayMs: clampInt(raw.delayMs ?? 200, 0, 86_400_000),
      maxDelayMs: clampInt(raw.maxDelayMs ?? 60_000, 0, 86_400_000),
      jitter: Math.min(1, Math.max(0, raw.jitter ?? 0.5)),
    },
  };
}

/** Delay in milliseconds before the attempt after `attempt` failed. `random` returns [0, 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const { type, delayMs, maxDelayMs, jitter } = policy.backoff;
  const exponent = Math.max(0, attempt - 1);
  const base = type === "fixed" ? delayMs : delayMs * 2 ** Math.min(exponent, 30);
  const capped = Math.min(base, maxDelayMs);
  return Math.round(capped * (1 - jitter) + capped * jitter * random());
}

function clampInt(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
