import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatAddress, parseAddress, parsePort } from "../../src/core/address.ts";
import { InvalidConfigError } from "../../src/core/errors/invalid-config-error.ts";
import { UnknownJobTypeError } from "../../src/core/errors/unknown-job-type-error.ts";
import { UnknownPipelineError } from "../../src/core/errors/unknown-pipeline-error.ts";
import { isJobId, newId } from "../../src/core/ids.ts";
import { toJobError } from "../../src/core/job.ts";
import { isValidName, kebabFromClassName, sanitizeName } from "../../src/core/names.ts";
import { findPipeline, validatePipelines, withSingleStepPipelines } from "../../src/core/pipeline-definition.ts";
import { decideAfterFailure, decideAfterSuccess } from "../../src/core/pipeline-flow.ts";
import { backoffDelay, normalizeRetryPolicy } from "../../src/core/retry-policy.ts";
import { resolveStepPolicy } from "../../src/core/step-config.ts";

describe("names", () => {
  it("sanitizeName keeps a safe alphabet", () => {
    assert.equal(sanitizeName("My Step!"), "my-step");
    assert.equal(sanitizeName("  Crème brûlée  "), "creme-brulee");
    assert.equal(sanitizeName("a/b\\c:d"), "a-b-c-d");
    assert.equal(sanitizeName("---"), "unnamed");
    assert.equal(sanitizeName("x".repeat(300)).length, 128);
    assert.ok(isValidName(sanitizeName("{weird} key*with\nnewline")));
  });

  it("kebabFromClassName follows the class DSL convention", () => {
    assert.equal(kebabFromClassName("GenerateFile"), "generate-file");
    assert.equal(kebabFromClassName("HashFile2"), "hash-file2");
  });
});

describe("addresses", () => {
  it("parsePort accepts 0..65535 and rejects the rest with a typed error", () => {
    assert.equal(parsePort("5050"), 5050);
    assert.equal(parsePort(0), 0);
    for (const bad of ["-1", "65536", "50a", "", "1.5"]) {
      assert.throws(() => parsePort(bad), (e: unknown) => e instanceof InvalidConfigError && e.message.includes("invalid port"));
    }
  });

  it("parseAddress splits tcp, ipc and inproc endpoints", () => {
    assert.deepEqual(parseAddress("tcp://127.0.0.1:6000"), { transport: "tcp", host: "127.0.0.1", port: 6000 });
    assert.deepEqual(parseAddress("tcp://*:0"), { transport: "tcp", host: "*", port: 0 });
    assert.deepEqual(parseAddress("tcp://[::1]:7"), { transport: "tcp", host: "::1", port: 7 });
    assert.deepEqual(parseAddress("ipc:///tmp/x.sock"), { transport: "ipc", host: "/tmp/x.sock" });
    assert.equal(formatAddress(parseAddress("tcp://[::1]:7")), "tcp://[::1]:7");
    assert.throws(() => parseAddress("http://x:1"), { code: "INVALID_CONFIG" });
    assert.throws(() => parseAddress("tcp://nohost"), { code: "INVALID_CONFIG" });
  });
});

describe("ids", () => {
  it("are 22 lower-case characters, unique, sorted by time", () => {
    const a = newId(1000);
    const b = newId(2000);
    assert.ok(isJobId(a) && isJobId(b));
    assert.ok(a < b);
    assert.equal(new Set(Array.from({ length: 1000 }, () => newId())).size, 1000);
    assert.equal(isJobId("../../etc/passwd"), false);
  });
});

describe("retry policy", () => {
  it("defaults to 3 attempts with exponential backoff", () => {
    const policy = normalizeRetryPolicy();
    assert.equal(policy.maxAttempts, 3);
    assert.equal(policy.backoff.type, "exponential");
  });

  it("grows exponentially, is capped, and jitters within its fraction", () => {
    const policy = normalizeRetryPolicy({ retries: 10, backoff: { delayMs: 100, maxDelayMs: 1000, jitter: 0 } });
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, () => 0.5)), [100, 200, 400, 800, 1000]);
    const jittered = normalizeRetryPolicy({ backoff: { delayMs: 1000, jitter: 0.5 } });
    assert.equal(backoffDelay(jittered, 1, () => 0), 500);
    assert.equal(backoffDelay(jittered, 1, () => 0.999999), 1000);
    const fixed = normalizeRetryPolicy({ backoff: { type: "fixed", delayMs: 50, jitter: 0 } });
    assert.equal(backoffDelay(fixed, 7, Math.random), 50);
  });

  it("clamps nonsense", () => {
    assert.equal(normalizeRetryPolicy({ retries: -3 }).maxAttempts, 1);
    assert.equal(normalizeRetryPolicy({ retries: Number.NaN }).maxAttempts, 1);
    assert.equal(normalizeRetryPolicy({ backoff: 75 }).backoff.delayMs, 75);
  });

  it("step policy leases for the timeout plus a grace", () => {
    const policy = resolveStepPolicy({ timeoutMs: 2000, concurrency: 0 });
    assert.equal(policy.concurrency, 1);
    assert.ok(policy.leaseMs > policy.timeoutMs);
  });
});

describe("pipeline flow", () => {
  const route = ["a", "b", "c"];

  it("a middle step's object output becomes the next step's instructions", () => {
    assert.deepEqual(decideAfterSuccess(route, 0, { x: 1 }), { kind: "advance", nextIndex: 1, input: { x: 1 } });
  });

  it("null or undefined ends the job successfully at that step", () => {
    assert.deepEqual(decideAfterSuccess(route, 1, null), { kind: "succeed", result: null });
    assert.deepEqual(decideAfterSuccess(route, 0, undefined), { kind: "succeed", result: null });
  });

  it("the last step's output is the result, whatever JSON it is", () => {
    assert.deepEqual(decideAfterSuccess(route, 2, [1, 2]), { kind: "succeed", result: [1, 2] });
  });

  it("a middle step returning a non-object fails without retry, naming both steps", () => {
    const decision = decideAfterSuccess(route, 0, "text");
    assert.equal(decision.kind, "invalid");
    if (decision.kind !== "invalid") return;
    assert.equal(decision.error.code, "INVALID_OUTPUT");
    assert.match(decision.error.message, /"a" returned a string.*"b"/);
    assert.deepEqual(decideAfterFailure(normalizeRetryPolicy(), 1, decision.error, Math.random), { kind: "dead" });
  });

  it("failures retry while attempts remain, then go dead", () => {
    const policy = normalizeRetryPolicy({ retries: 2, backoff: { delayMs: 10, jitter: 0 } });
    const error = toJobError(new Error("boom"));
    assert.deepEqual(decideAfterFailure(policy, 1, error, Math.random), { kind: "retry", delayMs: 10 });
    assert.deepEqual(decideAfterFailure(policy, 2, error, Math.random), { kind: "retry", delayMs: 20 });
    assert.deepEqual(decideAfterFailure(policy, 3, error, Math.random), { kind: "dead" });
  });

  it("toJobError keeps name, message, stack and code", () => {
    const error = Object.assign(new TypeError("bad"), { code: "E_BAD" });
    const stored = toJobError(error);
    assert.equal(stored.name, "TypeError");
    assert.equal(stored.code, "E_BAD");
    assert.match(stored.stack ?? "", /TypeError: bad/);
    assert.deepEqual(toJobError("plain"), { name: "Error", message: "plain" });
    assert.deepEqual(toJobError({ a: 1 }), { name: "Error", message: '{"a":1}' });
  });
});

describe("pipeline definitions", () => {
  it("a pipeline naming a step that does not exist lists the ones that do", () => {
    assert.throws(
      () => validatePipelines([{ name: "p", steps: ["a", "nope"] }], ["a", "b"]),
      (e: unknown) => e instanceof UnknownJobTypeError && e.message === 'pipeline "p": unknown job type "nope"; known job types: a, b',
    );
  });

  it("rejects duplicates, empty pipelines and bad names", () => {
    assert.throws(() => validatePipelines([{ name: "p", steps: ["a"] }, { name: "p", steps: ["a"] }]), /declared twice/);
    assert.throws(() => validatePipelines([{ name: "p", steps: [] }]), /has no steps/);
    assert.throws(() => validatePipelines([{ name: "bad name", steps: ["a"] }]), /invalid pipeline name/);
  });

  it("findPipeline throws UnknownPipelineError listing the known ones", () => {
    assert.throws(
      () => findPipeline([{ name: "b", steps: ["x"] }, { name: "a", steps: ["x"] }], "zzz"),
      (e: unknown) => e instanceof UnknownPipelineError && e.code === "UNKNOWN_PIPELINE" && e.message.endsWith("known pipelines: a, b"),
    );
  });

  it("every job type is also a one-step pipeline unless a pipeline has its name", () => {
    const all = withSingleStepPipelines([{ name: "a", steps: ["a", "b"] }], ["a", "b"]);
    assert.deepEqual(all, [{ name: "a", steps: ["a", "b"] }, { name: "b", steps: ["b"] }]);
  });
});
