/**
 * What happens to a job after one attempt of one step. Pure decisions: storage carries them out
 * atomically (ack + next step in one operation).
 */
import { InvalidOutputError } from "./errors/invalid-output-error.ts";
import { isInstructions, toJobError, type Instructions, type JobError } from "./job.ts";
import { backoffDelay, type RetryPolicy } from "./retry-policy.ts";

export type SuccessDecision =
  | { kind: "advance"; nextIndex: number; input: Instructions }
  | { kind: "succeed"; result: unknown }
  | { kind: "invalid"; error: JobError };

export type FailureDecision = { kind: "retry"; delayMs: number } | { kind: "dead" };

/**
 * A step returned `output`. `null`/`undefined` ends the job successfully at this step; the last
 * step's output is the job's result; a middle step's output must be an object, the next step's
 * instructions.
 */
export function decideAfterSuccess(route: readonly string[], stepIndex: number, output: unknown): SuccessDecision {
  if (output === undefined || output === null) return { kind: "succeed", result: null };
  if (stepIndex >= route.length - 1) return { kind: "succeed", result: output };
  if (!isInstructions(output)) {
    const error = new InvalidOutputError(
      `step "${route[stepIndex]}" returned ${describe(output)}, but the next step "${route[stepIndex + 1]}" needs an object as its instructions`,
    );
    return { kind: "invalid", error: toJobError(error) };
  }
  return { kind: "advance", nextIndex: stepIndex + 1, input: output };
}

/** An attempt failed: retry after a backoff while attempts remain and retrying can help. */
export function decideAfterFailure(
  policy: RetryPolicy,
  attempt: number,
  error: JobError,
  random: () => number,
): FailureDecision {
  if (error.retryable === false || attempt >= policy.maxAttempts) return { kind: "dead" };
  return { kind: "retry", delayMs: backoffDelay(policy, attempt, random) };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
