/**
 * Writes a worker's results as `results` message bodies: each outcome encoded on its own, so one
 * that cannot be encoded (a throwing `toJSON`) or is bigger than a message may be becomes a failed
 * outcome of its own job instead of taking its batchmates down with it; bodies split by count and
 * by size.
 */
import { toJobError } from "../core/job.ts";
import type { StepOutcome } from "../engine/delivery.ts";
import { invalidOutput } from "../engine/encodable-outcome.ts";

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
  const bodies: string[] = [];
  let parts: string[] = [];
  let bytes = 0;
  for (const outcome of outcomes) {
    const json = encodeOutcome(outcome, limits.maxOutcomeBytes);
    if (parts.length > 0 && (parts.length >= limits.maxOutcomes || bytes + json.length > limits.targetBytes)) {
      bodies.push(`${head}${parts.join(",")}]}`);
      parts = [];
      bytes = 0;
    }
    parts.push(json);
    bytes += json.length;
  }
  if (parts.length > 0) bodies.push(`${head}${parts.join(",")}]}`);
  return bodies;
}

function encodeOutcome(outcome: StepOutcome, maxBytes: number): string {
  let reason: string;
  try {
    const json = JSON.stringify(outcome);
    // String length counts UTF-16 units; a unit is at most 3 bytes of UTF-8.
    if (json.length * 3 <= maxBytes || Buffer.byteLength(json) <= maxBytes) return json;
    reason = `the step's output is ${Buffer.byteLength(json)} bytes encoded, over the message limit of ${maxBytes}`;
  } catch (error) {
    reason = `the step's output cannot be encoded as JSON: ${toJobError(error).message}`;
  }
  return JSON.stringify(invalidOutput(outcome, reason));
}
