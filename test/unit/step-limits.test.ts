/** Step limits: the config's validation, and the engine computing keys when a job enters a step. */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { InvalidConfigError } from "../../src/core/errors/invalid-config-error.ts";
import type { Instructions } from "../../src/core/job.ts";
import { resolveStepPolicy } from "../../src/core/step-config.ts";
import { resolveStepLimits } from "../../src/core/step-limits.ts";
import { defineStep } from "../../src/dsl/define.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { stepFromModule } from "../../src/functions/step-from-module.ts";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleFunction } from "../../src/functions/bundle-function.ts";
import { renderMetrics } from "../../src/gateway/metrics.ts";
import { ThreadExecutor } from "../../src/host/thread-executor.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { emptyHistogram } from "../../src/storage/latency-histogram.ts";
import { schemas } from "../../src/transport/protocol.ts";
import { Refusals } from "../../src/transport/refusals.ts";
import { WorkerGate } from "../../src/transport/_worker-gate.ts";

const runners: LocalRunner[] = [];
after(async () => {
  for (const runner of runners) await runner.stop(100);
});

describe("step limits config", () => {
  it("resolves a rate limit and a key (maxPerKey default 1); none set is no limits", () => {
    assert.equal(resolveStepLimits({ retries: 1 }), undefined);
    assert.equal(resolveStepPolicy({}).limits, undefined, "no limits: the policy has none");
    const limits = resolveStepLimits({ rateLimit: { max: 10, perMs: 1000 }, concurrencyKey: "customer.id" })!;
    assert.deepEqual(limits.lease, { rate: { max: 10, perMs: 1000 }, maxPerKey: 1 });
    assert.equal(limits.keyOf!({ customer: { id: 42 } }), "42", "a number becomes its text");
    assert.equal(limits.keyOf!({ customer: {} }), undefined, "no value at the path: no key");
    assert.equal(limits.keyOf!({ customer: { id: { nested: 1 } } }), undefined, "an object is no key");
    const byFn = resolveStepLimits({ concurrencyKey: (input: Instructions) => `t-${String(input.tenant)}`, maxPerKey: 3 })!;
    assert.deepEqual(byFn.lease, { maxPerKey: 3 });
    assert.equal(byFn.keyOf!({ tenant: "x" }), "t-x");
    const throwing = resolveStepLimits({ concurrencyKey: () => { throw new Error("no"); } })!;
    assert.equal(throwing.keyOf!({}), undefined, "a key function that throws gives no key");
    assert.equal(resolveStepLimits({ concurrencyKey: "k" })!.keyOf!({ k: "x".repeat(1000) })!.length, 256, "keys are cut at 256 characters");
  });

  it("refuses bad limits with one line naming the file and the field", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ rateLimit: { max: 0, perMs: 1000 } }, /^f\.ts: config\.rateLimit\.max must be at least 1$/],
      [{ rateLimit: { max: 1.5, perMs: 1000 } }, /config\.rateLimit\.max must be a whole number/],
      [{ rateLimit: { max: 10, perMs: "1s" } }, /config\.rateLimit\.perMs/],
      [{ rateLimit: { max: 10 } }, /config\.rateLimit\.perMs/],
      [{ rateLimit: { max: 10, perMs: 1000, burst: 2 } }, /config\.rateLimit/],
      [{ rateLimit: 10 }, /config\.rateLimit must be \{ max, perMs \}/],
      [{ concurrencyKey: 5 }, /config\.concurrencyKey must be a dot path/],
      [{ concurrencyKey: "a..b" }, /config\.concurrencyKey must be a dot path/],
      [{ concurrencyKey: "a", maxPerKey: 0 }, /config\.maxPerKey must be at least 1/],
      [{ maxPerKey: 2 }, /config\.maxPerKey needs a config\.concurrencyKey/],
    ];
    for (const [config, message] of cases) {
      assert.throws(() => resolveStepLimits(config, "f.ts"), (error: unknown) => {
        assert.ok(error instanceof InvalidConfigError, `${JSON.stringify(config)}: InvalidConfigError`);
        assert.match(error.message, message);
        assert.equal(error.message.includes("\n"), false, "one line");
        return true;
      });
    }
  });

  it("a function file with bad limits is refused when it loads, naming the file", () => {
    assert.throws(
      () => stepFromModule("functions/charge.ts", { default: () => null, config: { rateLimit: { max: -1, perMs: 1000 } } }),
      /^InvalidConfigError: functions\/charge\.ts: config\.rateLimit\.max must be at least 1$/m,
    );
    assert.throws(() => stepFromModule("functions/charge.ts", { default: () => null, config: { rateLimit: { max: -1, perMs: 1000 } } }), { code: "INVALID_CONFIG" });
  });
});

describe("step limits in the engine", () => {
  it("maxPerKey 1 over 4 workers: one job of a key at a time (keys from enqueue and from the previous step's output), every job succeeds", async () => {
    const running = new Map<string, number>();
    let overlaps = 0;
    let peak = 0;
    const track = async (key: string): Promise<void> => {
      const n = (running.get(key) ?? 0) + 1;
      running.set(key, n);
      if (n > 1) overlaps++;
      peak = Math.max(peak, [...running.values()].reduce((a, b) => a + b, 0));
      await new Promise((resolve) => setTimeout(resolve, 2));
      running.set(key, running.get(key)! - 1);
    };
    const first = defineStep("first", async (input: Instructions) => {
      await track(`first:${String((input.customer as { id: string }).id)}`);
      return { tenant: `t${String(input.n)}`.slice(0, 2), n: input.n };
    }, { concurrency: 4, concurrencyKey: "customer.id" });
    const second = defineStep("second", async (input: Instructions) => {
      await track(`second:${String(input.tenant)}`);
      return { done: true };
    }, { concurrency: 4, concurrencyKey: (input: Instructions) => String(input.tenant), maxPerKey: 1 });
    const runner = new LocalRunner({ pipelines: [{ name: "two", steps: ["first", "second"] }], steps: [first, second], workersPerStep: 4, reclaimIntervalMs: 50 });
    runners.push(runner);
    await runner.start();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await runner.enqueue("two", { n: i, customer: { id: `c${i % 3}` } })).job.id);
    for (const id of ids) {
      const done = await runner.waitFor(id, 20_000);
      assert.equal(done.status, "succeeded");
      assert.equal(done.history?.every((a) => a.attempt === 1), true, "held jobs cost no attempt");
    }
    assert.equal(overlaps, 0, "no two jobs of one key ran at once");
    assert.ok(peak > 1, `jobs of different keys ran at once (peak ${peak})`);
    const job = await runner.dispatcher.get(ids[5]!);
    assert.equal(job?.concurrencyKey, "t5", "the key of the step it reached, from the previous step's output");
  });
});

describe("step limits on /metrics", () => {
  it("mario_step_waiting has a sample per step and reason", async () => {
    const step = { jobType: "charge", queued: 7, running: 1, delayed: 0, oldestQueuedAt: null, succeeded: 0, failed: 0, dead: 0, stalled: 0, latency: emptyHistogram(), rateLimited: 5, keyBusy: 2 };
    const text = renderMetrics([{ pipeline: "charge", accepted: 8, succeeded: 0, dead: 0, queued: 7, running: 1, failed: 0, steps: [step] }], []);
    assert.match(text, /^# TYPE mario_step_waiting gauge$/m);
    assert.match(text, /^mario_step_waiting\{pipeline="charge",step="charge",reason="rate-limited"\} 5$/m);
    assert.match(text, /^mario_step_waiting\{pipeline="charge",step="charge",reason="key-busy"\} 2$/m);
  });
});

describe("step limits of a function run in threads (mario up --watch, mario host)", () => {
  it("a dot-path key and a rate limit reach the policy from the thread; a key function stays behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mario-limits-thread-"));
    try {
      const byPath = join(dir, "by-path.mjs");
      await writeFile(byPath, `export const config = { rateLimit: { max: 5, perMs: 1000 }, concurrencyKey: "a.b", maxPerKey: 2 };\nexport default () => null;\n`);
      const byFn = join(dir, "by-fn.mjs");
      await writeFile(byFn, `export const config = { concurrencyKey: (input) => input.k, maxPerKey: 2 };\nexport default () => null;\n`);
      const a = await ThreadExecutor.load(await bundleFunction(byPath));
      const b = await ThreadExecutor.load(await bundleFunction(byFn));
      try {
        assert.deepEqual(a.policy.limits?.lease, { rate: { max: 5, perMs: 1000 }, maxPerKey: 2 });
        assert.equal(a.policy.limits?.keyOf?.({ a: { b: "x" } }), "x");
        assert.equal(b.policy.limits, undefined, "a key function cannot cross threads (LocalRunner reads it from its own load)");
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("step limits never come from the wire", () => {
  it("a worker announcing limits changes nothing: the server's own config decides, an unconfigured step has none", async () => {
    const gate = new WorkerGate({
      refusals: new Refusals(silentLogger),
      logger: silentLogger,
      stepConfigs: new Map([["charge", { rateLimit: { max: 10, perMs: 1000 }, concurrencyKey: "customer.id" }]]),
    });
    const announce = (jobType: string) =>
      schemas.announce.parse({
        workerId: "w-1", jobType, address: "tcp://127.0.0.1:7000", capacity: 4, inFlight: 0, host: "h", pid: 1, heartbeatMs: 500,
        policy: { timeoutMs: 1000, retries: 1, backoff: { type: "fixed", delayMs: 10 }, rateLimit: { max: 100000, perMs: 1 }, concurrencyKey: "x", maxPerKey: 1000 },
        rateLimit: { max: 100000, perMs: 1 },
      });
    assert.deepEqual(gate.policyFor(announce("charge")).limits?.lease, { rate: { max: 10, perMs: 1000 }, maxPerKey: 1 }, "the project's limits, not the worker's");
    assert.equal(gate.policyFor(announce("other")).limits, undefined, "a step the project does not configure has no limits, whatever a worker says");
  });
});
