/** cloneData: the same copy as structuredClone, made by hand for plain data and by structuredClone otherwise. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cloneData } from "../../src/core/clone-data.ts";

describe("cloneData", () => {
  it("copies plain data deeply, sharing nothing, keeping undefined values, nulls, numbers and unicode", () => {
    const value = { a: [1, { b: "é€😀" }, null], c: { d: { e: -0.5 } }, u: undefined, empty: [], none: {} };
    const copy = cloneData(value);
    assert.deepEqual(copy, structuredClone(value));
    assert.notEqual(copy, value);
    assert.notEqual(copy.a, value.a);
    assert.notEqual(copy.a[1], value.a[1]);
    assert.notEqual(copy.c.d, value.c.d);
    assert.ok(Object.hasOwn(copy, "u"));
    assert.equal(cloneData("text"), "text");
    assert.equal(cloneData(null), null);
    assert.equal(cloneData(undefined), undefined);
  });

  it("hands anything that is not plain data to structuredClone: Dates, Maps, BigInts, null-prototype objects, cycles", () => {
    const date = new Date(5);
    const copy = cloneData({ when: date, map: new Map([["k", 1]]), n: 10n });
    assert.ok(copy.when instanceof Date && copy.when !== date && copy.when.getTime() === 5);
    assert.ok(copy.map instanceof Map && copy.map.get("k") === 1);
    assert.equal(copy.n, 10n);
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { x: 1 });
    assert.deepEqual({ ...cloneData(bare) }, { x: 1 });
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const cycleCopy = cloneData(cyclic);
    assert.equal(cycleCopy.self, cycleCopy, "the cycle is kept, as structuredClone keeps it");
  });

  it("copies a __proto__ key as a property, never as a prototype", () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = cloneData(parsed);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal((copy as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(copy).sort(), ["__proto__", "a"]);
  });

  it("throws what structuredClone throws for what cannot be copied (a function)", () => {
    assert.throws(() => cloneData({ f: () => 1 }), { name: "DataCloneError" });
  });
});
