/**
 * resultMessageBodies: a worker's results as `results` bodies the pipeline accepts — split by count
 * and size, and an outcome that cannot be encoded or is too big for a message turned into a failed
 * outcome of its own job, its batchmates untouched.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StepOutcome } from "../../src/engine/delivery.ts";
import { decode, encodeJson, type Body } from "../../src/transport/protocol.ts";
import { resultMessageBodies } from "../../src/transport/_result-messages.ts";

const ok = (jobId: string, output: unknown): StepOutcome => ({ jobId, token: `t-${jobId}`, ok: true, output, startedAt: 1, finishedAt: 2, workerId: "w" });
const limits = { maxOutcomes: 3, targetBytes: 10_000, maxOutcomeBytes: 5_000 };

function outcomesOf(body: string): Body<"results">["outcomes"] {
  const message = decode(encodeJson("results", body));
  assert.ok(!(message instanceof Error), message instanceof Error ? message.message : undefined);
  assert.ok(message.type === "results");
  return message.body.outcomes;
}

describe("resultMessageBodies", () => {
  it("writes valid results messages, at most maxOutcomes each, in order", () => {
    const bodies = resultMessageBodies("w", ["a", "b", "c", "d", "e"].map((id) => ok(id, { id })), limits);
    assert.equal(bodies.length, 2);
    assert.deepEqual(bodies.flatMap((b) => outcomesOf(b).map((o) => o.jobId)), ["a", "b", "c", "d", "e"]);
    const second = outcomesOf(bodies[0]!)[1]!;
    assert.ok(second.ok);
    assert.deepEqual(second.output, { id: "b" });
  });

  it("closes a message once it reaches the target size", () => {
    const big = "x".repeat(4_000);
    const bodies = resultMessageBodies("w", [ok("a", big), ok("b", big), ok("c", big)], { ...limits, targetBytes: 6_000 });
    assert.deepEqual(bodies.map((b) => outcomesOf(b).length), [1, 1, 1]);
  });

  it("turns an outcome too big for a message into a non-retryable failure of that job alone", () => {
    const bodies = resultMessageBodies("w", [ok("a", 1), ok("b", "y".repeat(6_000)), ok("c", 3)], limits);
    const outcomes = bodies.flatMap(outcomesOf);
    assert.deepEqual(outcomes.map((o) => [o.jobId, o.ok]), [["a", true], ["b", false], ["c", true]]);
    const failure = outcomes[1]!;
    assert.ok(!failure.ok);
    assert.equal(failure.error.code, "INVALID_OUTPUT");
    assert.equal(failure.error.retryable, false);
    assert.match(failure.error.message, /over the message limit of 5000/);
  });

  it("counts UTF-8 bytes, not characters, against the limit", () => {
    const bodies = resultMessageBodies("w", [ok("a", "é".repeat(2_000)), ok("b", "€".repeat(2_000))], limits);
    assert.deepEqual(bodies.flatMap(outcomesOf).map((o) => o.ok), [true, false]);
  });

  it("turns an outcome whose JSON encoding throws into a failure of that job alone", () => {
    const hostile = { toJSON: () => { throw new Error("no JSON for you"); } };
    const outcomes = resultMessageBodies("w", [ok("a", hostile), ok("b", 2)], limits).flatMap(outcomesOf);
    assert.deepEqual(outcomes.map((o) => [o.jobId, o.ok]), [["a", false], ["b", true]]);
    const failure = outcomes[0]!;
    assert.ok(!failure.ok);
    assert.match(failure.error.message, /cannot be encoded as JSON: no JSON for you/);
  });
});
