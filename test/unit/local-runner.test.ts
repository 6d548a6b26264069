/** The in-process runner: the engine with real concurrency on memory storage. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadProject } from "../../src/config/load-project.ts";
import type { Instructions } from "../../src/core/job.ts";
import { defineStep, definePipeline } from "../../src/dsl/define.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import type { StepDefinition } from "../../src/engine/step-definition.ts";
import type { PipelineDefinition } from "../../src/core/pipeline-definition.ts";

const runners: LocalRunner[] = [];
after(async () => {
  for (const runner of runners) await runner.stop(100);
});

async function start(pipelines: PipelineDefinition[], steps: StepDefinition[]): Promise<LocalRunner> {
  const runner = new LocalRunner({ pipelines, steps, reclaimIntervalMs: 50 });
  runners.push(runner);
  await runner.start();
  return runner;
}

describe("local runner", () => {
  it("runs the seed example: hash-and-clean ends succeeded with a sha1 hash and deleted_path, file gone", async () => {
    const project = await loadProject(process.cwd());
    const runner = await start(project.pipelines, project.steps);
    const { job } = await runner.enqueue("hash-and-clean", { size: 10 });
    const done = await runner.waitFor(job.id, 10_000);
    assert.equal(done.status, "succeeded");
    const result = done.result as { hash: string; deleted_path: string; size: number };
    assert.match(result.hash, /^[0-9a-f]{40}$/);
    assert.equal(result.size, 10);
    assert.ok(result.deleted_path.length > 0);
    assert.equal(existsSync(result.deleted_path), false, "the file is gone");
    assert.deepEqual(done.steps.map((s) => s.jobType), ["generate-file", "calculate-hash", "delete-file"]);
    assert.equal((done.steps[0]!.output as { path: string }).path, result.deleted_path, "a middle step's output is kept");
  });

  it("runs many jobs concurrently and counts them all", async () => {
    let running = 0;
    let peak = 0;
    const slow = defineStep(
      "slow",
      async (input: Instructions) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        return { n: Number(input.n) + 1 };
      },
      { concurrency: 8 },
    );
    const runner = await start([definePipeline("count", [slow, slow])], [slow]);
    const ids = [];
    for (let i = 0; i < 200; i++) ids.push((await runner.enqueue("count", { n: i })).job.id);
    const done = await Promise.all(ids.map((id) => runner.waitFor(id, 20_000)));
    assert.deepEqual(done.map((j) => (j.result as { n: number }).n), Array.from({ length: 200 }, (_, i) => i + 2));
    assert.ok(peak > 1 && peak <= 8, `peak concurrency ${peak} within 2..8`);
    const stats = (await runner.dispatcher.stats()).find((s) => s.pipeline === "count")!;
    assert.equal(stats.accepted, 200);
    assert.equal(stats.succeeded, 200);
  });

  it("a step that throws is retried, then dead-lettered with its error and stack", async () => {
    let calls = 0;
    const flaky = defineStep(
      "always-fails",
      () => {
        calls++;
        throw new RangeError(`nope #${calls}`);
      },
      { retries: 2, backoff: { delayMs: 5, jitter: 0 } },
    );
    const runner = await start([], [flaky]);
    const { job } = await runner.enqueue("always-fails", {});
    const done = await runner.waitFor(job.id, 10_000);
    assert.equal(done.status, "dead");
    assert.equal(calls, 3);
    assert.equal(done.attempts, 3);
    assert.equal(done.error?.name, "RangeError");
    assert.equal(done.error?.message, "nope #3");
    assert.match(done.error?.stack ?? "", /RangeError: nope #3/);
  });

  it("a step that fails once then succeeds ends succeeded on attempt 2", async () => {
    const seen: number[] = [];
    const once = defineStep(
      "fails-once",
      (_input, ctx) => {
        seen.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error("first time");
        return { ok: true };
      },
      { backoff: { delayMs: 1, jitter: 0 } },
    );
    const runner = await start([], [once]);
    const { job } = await runner.enqueue("fails-once", {});
    const done = await runner.waitFor(job.id, 10_000);
    assert.equal(done.status, "succeeded");
    assert.deepEqual(seen, [1, 2]);
    assert.equal(done.steps[0]?.attempts, 2);
  });

  it("a step over its timeout fails the attempt with a timeout error and its signal aborts", async () => {
    let aborted = 0;
    const sleepy = defineStep(
      "sleepy",
      (_input, ctx) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, 60_000);
          ctx.signal.addEventListener("abort", () => {
            aborted++;
            clearTimeout(timer);
          });
        }),
      { timeoutMs: 30, retries: 1, backoff: { delayMs: 1, jitter: 0 } },
    );
    const runner = await start([], [sleepy]);
    const { job } = await runner.enqueue("sleepy", {});
    const done = await runner.waitFor(job.id, 10_000);
    assert.equal(done.status, "dead");
    assert.equal(done.attempts, 2);
    assert.equal(done.error?.name, "StepTimeoutError");
    assert.equal(done.error?.code, "TIMEOUT");
    assert.equal(aborted, 2);
  });

  it("returning null ends the job at that step; progress is recorded", async () => {
    const stop = defineStep("stop-here", (_i, ctx) => {
      ctx.progress(0.5, "halfway");
      return null;
    });
    const never = defineStep("never", () => {
      throw new Error("must not run");
    });
    const runner = await start([definePipeline("short", [stop, never])], [stop, never]);
    const { job } = await runner.enqueue("short", { a: 1 });
    const done = await runner.waitFor(job.id, 10_000);
    assert.equal(done.status, "succeeded");
    assert.equal(done.result, null);
    assert.equal(done.step, "stop-here");
    assert.equal(done.steps.length, 1);
  });

  it("a step output JSON cannot encode (a BigInt) fails the job at once with INVALID_OUTPUT, and nothing unencodable is stored", async () => {
    const big = defineStep("big", () => ({ n: 10n }), { retries: 3 });
    const runner = await start([definePipeline("big-one", [big])], [big]);
    const { job } = await runner.enqueue("big-one", {});
    const done = await runner.waitFor(job.id, 10_000);
    assert.equal(done.status, "dead");
    assert.equal(done.attempts, 1, "not retried: the same output would fail again");
    assert.equal(done.error?.code, "INVALID_OUTPUT");
    assert.doesNotThrow(() => JSON.stringify(done));
  });

  it("bad input is a clear typed error", async () => {
    const echo = defineStep("echo", (i) => i);
    const runner = await start([definePipeline("p", [echo])], [echo]);
    await assert.rejects(runner.enqueue("nope", {}), { code: "UNKNOWN_PIPELINE", message: 'unknown pipeline "nope"; known pipelines: echo, p' });
    for (const bad of [[1], "text", 3, null]) {
      await assert.rejects(runner.enqueue("p", bad), { code: "INVALID_INSTRUCTIONS" });
    }
    assert.throws(() => new LocalRunner({ pipelines: [{ name: "q", steps: ["echo", "missing"] }], steps: [echo] }), {
      code: "UNKNOWN_JOB_TYPE",
      message: 'pipeline "q": unknown job type "missing"; known job types: echo',
    });
    assert.throws(() => runner.stepFor("ghost"), { code: "UNKNOWN_JOB_TYPE" });
    assert.equal((await runner.dispatcher.stats()).find((s) => s.pipeline === "p")!.accepted, 0, "nothing was written");
  });
});
