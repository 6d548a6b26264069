/**
 * Log lines batched per event-loop turn (src/log/stderr-batch.ts, `mario up`'s logger): one
 * stderr write per turn, every line kept and in order, also when the process exits in the same
 * turn (process.exit) or when its loop ends on its own. Each case is a real child process.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const CHILD = "test/fixtures/log/stderr-batch-child.ts";
const run = (mode: string) => spawnSync(process.execPath, ["--import", "tsx", CHILD, mode], { encoding: "utf8", timeout: 30_000 });

describe("batched stderr log lines", () => {
  it("writes a turn's lines in one write, at the end of the turn, in order", () => {
    const child = run("turns");
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { inTurn: 0, afterFirst: 1, afterSecond: 2 });
    assert.deepEqual(child.stderr.trimEnd().split("\n"), [...Array.from({ length: 10 }, (_, i) => `first ${i}`), ...Array.from({ length: 5 }, (_, i) => `second ${i}`)]);
  });

  it("loses no line when the process exits in the same turn (and flushes past 1 000 waiting)", () => {
    const child = run("exit");
    assert.equal(child.status, 3);
    assert.deepEqual(child.stderr.trimEnd().split("\n"), Array.from({ length: 2500 }, (_, i) => `line ${i}`));
  });

  it("writes the last line when the loop ends on its own (the pending write does not keep it alive)", () => {
    const child = run("end");
    assert.equal(child.status, 0);
    assert.equal(child.stderr, "the only line\n");
  });
});
