/**
 * What a pipeline server does with the policy a worker announces for its step (timeout, retries,
 * backoff): nothing, when the server's own project configures that step (mario.config, the
 * function file's `config`, the class DSL, or flags); otherwise the server's defaults, moved
 * towards what the worker states only within the bounds the server was given. So a peer on the
 * wire cannot set a lease of 596 hours, nor make a failing job die at its first attempt.
 * Announced capacity and heartbeat intervals are bounded the same way.
 *
 * ```ts
 * const { config, clamped } = boundStatedPolicy({ timeoutMs: 2_145_600_000, retries: 0 }, DEFAULT_POLICY_BOUNDS);
 * // config.timeoutMs === 600_000, config.retries === 1; clamped lists what was moved
 * ```
 */
import type { BackoffOptions } from "./retry-policy.ts";
import type { StepConfig } from "./step-config.ts";

export interface PolicyBounds {
  /** Longest attempt timeout a worker may state, ms. Default 600 000 (10 minutes). */
  maxTimeoutMs: number;
  /** Fewest retries a worker may state. Default 1. */
  minRetries: number;
  /** Most retries a worker may state. Default 10. */
  maxRetries: number;
  /** Longest backoff delay a worker may state, ms. Default 3 600 000 (an hour). */
  maxBackoffMs: number;
  /** Most jobs at once one worker may announce. Default 256. */
  maxCapacity: number;
  /** Heartbeat intervals are taken within [min, max], ms. Default [50, 30 000]. */
  minHeartbeatMs: number;
  maxHeartbeatMs: number;
}

export const DEFAULT_POLICY_BOUNDS: PolicyBounds = {
  maxTimeoutMs: 600_000,
  minRetries: 1,
  maxRetries: 10,
  maxBackoffMs: 3_600_000,
  maxCapacity: 256,
  minHeartbeatMs: 50,
  maxHeartbeatMs: 30_000,
};

export interface StatedPolicy {
  timeoutMs?: number | undefined;
  retries?: number | undefined;
  backoff?: BackoffOptions | undefined;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** A worker's stated policy, kept within `bounds`; `clamped` names each field that was moved. */
export function boundStatedPolicy(stated: StatedPolicy, bounds: PolicyBounds): { config: StepConfig; clamped: string[] } {
  const clamped: string[] = [];
  const config: StepConfig = {};
  if (stated.timeoutMs !== undefined) {
    config.timeoutMs = clamp(stated.timeoutMs, 1, bounds.maxTimeoutMs);
    if (config.timeoutMs !== stated.timeoutMs) clamped.push(`timeoutMs ${stated.timeoutMs} → ${config.timeoutMs}`);
  }
  if (stated.retries !== undefined) {
    config.retries = clamp(stated.retries, bounds.minRetries, bounds.maxRetries);
    if (config.retries !== stated.retries) clamped.push(`retries ${stated.retries} → ${config.retries}`);
  }
  if (stated.backoff !== undefined) {
    const b = stated.backoff;
    const delayMs = b.delayMs === undefined ? undefined : clamp(b.delayMs, 0, bounds.maxBackoffMs);
    const maxDelayMs = b.maxDelayMs === undefined ? undefined : clamp(b.maxDelayMs, 0, bounds.maxBackoffMs);
    if (delayMs !== b.delayMs || maxDelayMs !== b.maxDelayMs) clamped.push("backoff delays");
    config.backoff = { ...b, ...(delayMs === undefined ? {} : { delayMs }), ...(maxDelayMs === undefined ? {} : { maxDelayMs }) };
  }
  return { config, clamped };
}

/** An announced capacity within [0, maxCapacity]. */
export function boundCapacity(capacity: number, bounds: PolicyBounds): number {
  return clamp(capacity, 0, bounds.maxCapacity);
}

/** An announced heartbeat interval within [minHeartbeatMs, maxHeartbeatMs]. */
export function boundHeartbeat(heartbeatMs: number, bounds: PolicyBounds): number {
  return clamp(heartbeatMs, bounds.minHeartbeatMs, bounds.maxHeartbeatMs);
}
