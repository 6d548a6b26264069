/** DeadlineSweep: entries expire in deadline order across durations, cancelled ones never, one timer at a time. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineSweep } from "../../src/engine/_deadline-sweep.ts";

describe("DeadlineSweep", () => {
  it("expires live entries at their deadline, earliest first across durations, and skips cancelled ones", async () => {
    const expired: { name: string; lateMs: number }[] = [];
    let done: () => void = () => {};
    const all = new Promise<void>((resolve) => (done = resolve));
    const sweep = new DeadlineSweep<{ name: string; at: number }>((v) => {
      expired.push({ name: v.name, lateMs: Date.now() - v.at });
      if (expired.length === 3) done();
    });
    const add = (name: string, ms: number) => sweep.add(ms, { name, at: Date.now() + ms });
    add("a60", 60);
    const cancelled = add("b60", 60);
    add("c20", 20);
    add("d120", 120);
    sweep.cancel(cancelled);
    assert.equal(sweep.size, 3);
    await all;
    assert.deepEqual(expired.map((e) => e.name), ["c20", "a60", "d120"]);
    for (const e of expired) assert.ok(e.lateMs >= -1, `${e.name} expired ${-e.lateMs} ms early`);
    assert.equal(sweep.size, 0);
  });

  it("lets the process go once every entry is cancelled, and expires nothing after clear()", async () => {
    const expired: number[] = [];
    const sweep = new DeadlineSweep<number>((v) => expired.push(v));
    const entries = Array.from({ length: 2000 }, (_, i) => sweep.add(10, i));
    for (const entry of entries) sweep.cancel(entry);
    assert.equal(sweep.size, 0);
    sweep.add(10, -1);
    sweep.clear();
    // Had the 10 ms entries been left armed, they would have expired before this 30 ms one.
    await new Promise<void>((resolve) => {
      const later = new DeadlineSweep<number>((v) => {
        expired.push(v);
        resolve();
      });
      later.add(30, 0);
    });
    assert.deepEqual(expired, [0]);
  });
});
