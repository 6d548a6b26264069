/**
 * Writes a worker's results as `results` message bodies: each outcome encoded on its own, so one
 * that cannot be encoded (a throwing `toJSON`) or is bigger than a message may be becomes a failed
 * outcome of its own job instead of taking its batchmates down with it; bodies split by count and
 * by size.
 */
import { toJobError } from "../core/job.ts";
import type { StepOutcome } from "../engine/delivery.ts";
import { invalidOutput } from "../engine/encodable-outcome.ts";
import { fitsIn, jsonBatches } from "./_json-batches.ts";

export interface ResultMessageLimits {
  /** Outcomes per message. */
  maxOutcomes: number;
  /** A message body is closed once it reaches this size (one outcome may exceed it up to maxOutcomeBytes). */
  targetBytes: number;
  /** Largest single encoded outcome; a bigger one is replaced by a failure. */
  maxOutcomeBytes: number;
}

export function resultMessageBodies(workerId: string, outcomes: readonly StepOutcome[], limits: ResultMessageLimits): string[] {
  const head = `{"workerId":${JSON.stringify(workerId)},"outcomes":[`;
  const items = outcomes.map((outcome) => encodeOutcome(outcome, limits.maxOutcomeBytes));
  return jsonBatches(head, "]}", items, { maxItems: limits.maxOutcomes, targetBytes: limits.targetBytes }).map((batch) => batch.body);
}

function encodeOutcome(outcome: StepOutcome, maxBytes: number): string {
  let reason: string;
  try {
    const json = JSON.stringify(outcome);
    if (fitsIn(json, maxBytes)) return json;
    reason = `the step's output is ${Buffer.byteLength(json)} bytes encoded, over the message limit of ${maxBytes}`;
  } catch (error) {
    reason = `the step's output cannot be encoded as JSON: ${toJobError(error).message}`;
  }
  return JSON.stringify(invalidOutput(outcome, reason));
}
