/**
 * One table of error codes: every code comes back as its class from `errorFromCode`, has an HTTP
 * status, and is spelled only in the table and the error classes.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ERROR_CODES, isErrorCode } from "../../src/core/errors/error-codes.ts";
import { asMarioError, errorFromCode } from "../../src/core/errors/error-from-code.ts";
import { BusyError } from "../../src/core/errors/busy-error.ts";
import { JobNotFoundError } from "../../src/core/errors/job-not-found-error.ts";
import { MarioError } from "../../src/core/errors/mario-error.ts";
import { RemoteError } from "../../src/core/errors/remote-error.ts";
import { StorageUnavailableError } from "../../src/core/errors/storage-unavailable-error.ts";
import { UnknownPipelineError } from "../../src/core/errors/unknown-pipeline-error.ts";
import { WaitTimeoutError } from "../../src/core/errors/wait-timeout-error.ts";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** The table itself and the error classes (one per file, named *-error.ts) may spell a code. */
const mayName = (file: string): boolean => file.startsWith(join("src", "core", "errors")) || file.endsWith("-error.ts");

describe("error codes", () => {
  it("every code of the table comes back from errorFromCode with that code", () => {
    for (const code of Object.keys(ERROR_CODES)) {
      const error = errorFromCode(code, "m");
      assert.ok(error instanceof MarioError, code);
      assert.equal(error.code, code);
      assert.equal(error.message, "m");
    }
  });

  it("codes with a class come back as that class", () => {
    assert.ok(errorFromCode(new BusyError("x").code, "x") instanceof BusyError);
    assert.ok(errorFromCode(new JobNotFoundError("x").code, "x") instanceof JobNotFoundError);
    assert.ok(errorFromCode(new WaitTimeoutError("x").code, "x") instanceof WaitTimeoutError);
    assert.ok(errorFromCode(new StorageUnavailableError("x").code, "x") instanceof StorageUnavailableError);
    const unknown = errorFromCode(new UnknownPipelineError("p", ["a"]).code, "unknown pipeline p");
    assert.ok(unknown instanceof UnknownPipelineError);
    assert.equal(unknown.message, "unknown pipeline p");
  });

  it("a code not in the table is a RemoteError with code INTERNAL, keeping what was sent", () => {
    const error = errorFromCode("NEWER_CODE", "from a newer server");
    assert.ok(error instanceof RemoteError);
    assert.equal(error.code, "INTERNAL");
    assert.equal(error.remoteCode, "NEWER_CODE");
    assert.equal(isErrorCode("NEWER_CODE"), false);
  });

  it("a driver error is never answered with its own code", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
    const error = asMarioError(refused);
    assert.equal(error.code, "INTERNAL");
    assert.doesNotMatch(error.message, /ECONNREFUSED/);
    assert.equal(error.cause, refused);
  });

  it("no code string is spelled outside the table and the error classes", () => {
    const codes = Object.keys(ERROR_CODES);
    const found: string[] = [];
    for (const file of [...sourceFiles("src"), ...sourceFiles("adapters")]) {
      if (mayName(file)) continue;
      const text = readFileSync(file, "utf8");
      for (const code of codes) if (text.includes(`"${code}"`)) found.push(`${file}: "${code}"`);
    }
    assert.deepEqual(found, []);
  });
});
