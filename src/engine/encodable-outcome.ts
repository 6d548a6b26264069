/**
 * A step's output travels and is stored as JSON: an output JSON cannot encode (a BigInt, a
 * cycle, a throwing `toJSON`) fails its attempt with INVALID_OUTPUT, not retried (the same
 * output would fail again). Checked where an outcome is encoded anyway (a step worker's results)
 * or, in process, before it reaches storage.
 */
import { InvalidOutputError } from "../core/errors/invalid-output-error.ts";
import { toJobError } from "../core/job.ts";
import type { StepOutcome } from "./delivery.ts";

/** The outcome, or an INVALID_OUTPUT failure of the same attempt when its output cannot be encoded. */
export function encodableOutcome(outcome: StepOutcome): StepOutcome {
  if (!outcome.ok) return outcome;
  try {
    JSON.stringify(outcome.output);
    return outcome;
  } catch (error) {
    return invalidOutput(outcome, `the step's output cannot be encoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The attempt of `outcome` failed for its output, for `reason`; not retryable. */
export function invalidOutput(outcome: StepOutcome, reason: string): StepOutcome {
  const { jobId, token, pipeline, workerId, startedAt, finishedAt } = outcome;
  const error = toJobError(new InvalidOutputError(reason));
  return { jobId, token, pipeline, workerId, startedAt, finishedAt, ok: false, error };
}
