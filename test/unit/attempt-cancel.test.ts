/**
 * AttemptCancel: a running attempt's cancel without an AbortController per attempt. Listeners
 * hear the reason once, in order, also when they come after the cancel; the signal, made only when
 * asked for, aborts with the same reason whether it was asked for before or after.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError } from "../../src/core/errors/cancelled-error.ts";
import { AttemptCancel } from "../../src/engine/attempt-cancel.ts";

describe("AttemptCancel", () => {
  it("listeners hear the reason once, in the order they came; a second cancel changes nothing", () => {
    const cancel = new AttemptCancel();
    const heard: string[] = [];
    cancel.onCancel((reason) => heard.push(`a ${(reason as Error).message}`));
    cancel.onCancel((reason) => heard.push(`b ${(reason as Error).message}`));
    assert.equal(cancel.cancelled, false);
    assert.deepEqual(heard, []);
    const reason = new CancelledError("first");
    cancel.cancel(reason);
    cancel.cancel(new CancelledError("second"));
    assert.deepEqual(heard, ["a first", "b first"]);
    assert.equal(cancel.cancelled, true);
    assert.equal(cancel.reason, reason);
  });

  it("a listener that comes after the cancel hears it at once", () => {
    const cancel = new AttemptCancel();
    cancel.cancel(new CancelledError("early"));
    const heard: unknown[] = [];
    cancel.onCancel((reason) => heard.push(reason));
    assert.equal(heard.length, 1);
    assert.equal((heard[0] as Error).message, "early");
  });

  it("its signal aborts with the reason, asked for before the cancel or after", () => {
    const before = new AttemptCancel();
    const signal = before.signal;
    assert.equal(signal.aborted, false);
    assert.equal(before.signal, signal, "one signal, made once");
    let fired = 0;
    signal.addEventListener("abort", () => fired++);
    const reason = new CancelledError("stop");
    before.cancel(reason);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
    assert.equal(fired, 1);

    const after = new AttemptCancel();
    after.cancel(reason);
    assert.equal(after.signal.aborted, true);
    assert.equal(after.signal.reason, reason);
  });
});
