/** The code typechecks under the strict tsconfig and passes the type-aware lint. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const bin = (name: string): string => `node_modules/.bin/${name}`;

describe("static checks", () => {
  it("tsc --noEmit finds no type errors", () => {
    const result = spawnSync(bin("tsc"), ["--noEmit", "-p", "."], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it("eslint (with no-floating-promises) finds no problems", () => {
    const result = spawnSync(bin("eslint"), ["."], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
