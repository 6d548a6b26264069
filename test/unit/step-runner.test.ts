/**
 * runAttempt: sync and async handlers, timeouts through the shared deadline sweep (the outcome and
 * a lazily made `ctx.signal`, read before or after the timeout), shutdown of every running attempt,
 * the defensive copy of the input unless the caller owns it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Delivery, StepContext } from "../../src/engine/delivery.ts";
import { encodableOutcome } from "../../src/engine/encodable-outcome.ts";
import { runAttempt } from "../../src/engine/step-runner.ts";
import { silentLogger } from "../../src/log/logger.ts";

const delivery = (timeoutMs = 10_000, input: Record<string, unknown> = { n: 1 }): Delivery => ({
  jobId: "job-1",
  token: "tok-1",
  pipeline: "p",
  jobType: "a",
  stepIndex: 0,
  attempt: 1,
  input,
  timeoutMs,
});
const options = { workerId: "w", logger: silentLogger };

describe("runAttempt", () => {
  it("returns a sync handler's output, or its thrown error, as the outcome", async () => {
    const ok = await runAttempt((input) => ({ ...input, done: true }), delivery(), options);
    assert.ok(ok.ok);
    assert.deepEqual(ok.output, { n: 1, done: true });
    const undef = await runAttempt(() => undefined, delivery(), options);
    assert.ok(undef.ok && undef.output === null);
    const bad = await runAttempt(() => {
      throw new TypeError("nope");
    }, delivery(), options);
    assert.ok(!bad.ok);
    assert.equal(bad.error.name, "TypeError");
  });

  it("fails an async attempt past its timeout and aborts ctx.signal, read before or after the timeout", async () => {
    let early: AbortSignal | undefined;
    let ctxLater: StepContext | undefined;
    const [first, second, quick] = await Promise.all([
      runAttempt((_, ctx) => {
        early = ctx.signal;
        return new Promise(() => {});
      }, delivery(40), options),
      runAttempt((_, ctx) => {
        ctxLater = ctx;
        return new Promise(() => {});
      }, delivery(20), options),
      runAttempt(async () => "fast", delivery(60), options),
    ]);
    for (const outcome of [first, second]) {
      assert.ok(!outcome.ok);
      assert.equal(outcome.error.code, "TIMEOUT");
    }
    assert.match(first.ok ? "" : first.error.message, /step "a" timed out after 40 ms/);
    assert.ok(first.finishedAt - first.startedAt >= 39);
    assert.equal(early?.aborted, true);
    assert.equal(ctxLater?.signal.aborted, true);
    assert.equal((ctxLater?.signal.reason as Error).name, "StepTimeoutError");
    assert.ok(quick.ok && quick.output === "fast");
  });

  it("aborts every running async attempt when the shutdown signal aborts", async () => {
    const shutdown = new AbortController();
    const signals: AbortSignal[] = [];
    const running = Array.from({ length: 5 }, () =>
      runAttempt((_, ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => {});
      }, delivery(), { ...options, shutdownSignal: shutdown.signal }),
    );
    shutdown.abort();
    const outcomes = await Promise.all(running);
    assert.ok(outcomes.every((o) => !o.ok && o.error.code === "SHUTDOWN"));
    assert.ok(signals.every((s) => s.aborted));
  });

  it("copies the input unless the caller owns it", async () => {
    const input = { list: [1] };
    await runAttempt((i) => (i.list as number[]).push(2), delivery(1000, input), options);
    assert.deepEqual(input.list, [1]);
    await runAttempt((i) => (i.list as number[]).push(3), delivery(1000, input), { ...options, ownsInput: true });
    assert.deepEqual(input.list, [1, 3]);
  });

  it("encodableOutcome fails, not retryable, an attempt whose output JSON cannot encode (BigInt, cycle); runAttempt itself does not pay for the check", async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const handler of [() => ({ n: 1n }), async () => circular]) {
      const raw = await runAttempt(handler, delivery(), options);
      assert.equal(raw.ok, true);
      const outcome = encodableOutcome(raw);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error.code, "INVALID_OUTPUT");
      assert.equal(outcome.error.retryable, false);
      assert.match(outcome.error.message, /cannot be encoded as JSON/);
      assert.deepEqual([outcome.jobId, outcome.token, outcome.workerId], [raw.jobId, raw.token, raw.workerId]);
    }
    const fine = await runAttempt(() => ({ n: 1 }), delivery(), options);
    assert.equal(encodableOutcome(fine), fine);
  });
});
