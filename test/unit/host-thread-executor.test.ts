/**
 * ThreadExecutor end to end in this process: LocalRunner (dispatcher + memory storage) with
 * every step run in worker threads. One function of each shape, a TypeScript function importing
 * zod, a CommonJS handler; a runaway `while (true)`, process.exit(), async throws.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { listFunctionFiles } from "../../src/functions/load-functions.ts";
import type { JobRecord } from "../../src/core/job.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { bundleFunction } from "../../src/functions/bundle-function.ts";
import { ThreadExecutor } from "../../src/host/thread-executor.ts";
import { createLogger } from "../../src/log/logger.ts";
import { CJS_LAMBDA, tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { eventually } from "../support/eventually.ts";

async function loadAll(dir: string): Promise<Map<string, ThreadExecutor>> {
  const executors = new Map<string, ThreadExecutor>();
  for (const file of await listFunctionFiles(dir)) {
    // Only the runaway is meant to be terminated: a short grace ends its blocked thread soon. A
    // thread that answers its abort (signal-aware) gets a long one, so that a loaded machine's
    // slow turn is not mistaken for a runaway (terminated before it writes its marker).
    const killGraceMs = basename(file).startsWith("runaway") ? 200 : 10_000;
    const executor = await ThreadExecutor.load(await bundleFunction(file), { killGraceMs });
    executors.set(executor.jobType, executor);
  }
  return executors;
}

function runnerFor(executors: Map<string, ThreadExecutor>, logLines: string[] = []): LocalRunner {
  const jobTypes = [...executors.keys()];
  return new LocalRunner({
    pipelines: jobTypes.map((jobType) => ({ name: jobType, steps: [jobType] })),
    steps: jobTypes.map((jobType) => ({ jobType, handler: () => assert.fail("runs in a thread, not here") })),
    executorFor: (step) => executors.get(step.jobType) ?? assert.fail(`no executor for ${step.jobType}`),
    logger: createLogger({ level: "debug", format: "json", write: (line) => logLines.push(line) }),
  });
}

async function run(runner: LocalRunner, pipeline: string, instructions: object): Promise<JobRecord> {
  const { job } = await runner.enqueue(pipeline, instructions);
  return runner.waitFor(job.id, 20_000);
}

describe("host: handler shapes in worker threads", () => {
  let project: TempProject;
  let executors: Map<string, ThreadExecutor>;
  let runner: LocalRunner;
  const logLines: string[] = [];

  before(async () => {
    project = await tempProject({
      copy: ["functions-shapes/echo-execute.ts", "functions-shapes/workers-fetch.ts", "functions-shapes/hono-app.ts", "functions-shapes/lambda-handler.ts", "functions-shapes/zod-validate.ts"],
      files: { "legacy.cjs": CJS_LAMBDA },
    });
    executors = await loadAll(project.functionsDir);
    runner = runnerFor(executors, logLines);
    await runner.start();
  });
  after(async () => {
    await runner?.stop();
    await project?.cleanup();
  });

  it("recognises each file's shape and job type", () => {
    assert.deepEqual(runner.jobTypes().sort(), ["echo-execute", "hono-app", "lambda-step", "legacy", "workers-fetch", "zod-validate"]);
  });

  it("execute: instructions in, output out; progress and logs reach the main thread", async () => {
    const job = await run(runner, "echo-execute", { n: 21 });
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { shape: "execute", n: 42, attempt: 1 });
    const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "doubling");
    assert.ok(logged, "the handler's ctx.logger line reached the host logger");
    assert.equal(logged.jobId, job.id);
    assert.equal(logged.n, 21);
  });

  it("ctx.progress() reaches the executor's onProgress hook", async () => {
    const executor = executors.get("echo-execute");
    assert.ok(executor);
    const reports: [number, string | undefined][] = [];
    const delivery = { jobId: "j-progress", token: "t", pipeline: "echo-execute", jobType: "echo-execute", stepIndex: 0, attempt: 1, input: { n: 1 }, timeoutMs: 5000 };
    const outcome = await executor.execute(delivery, { workerId: "w", logger: createLogger({ level: "silent" }), signal: new AbortController().signal, onProgress: (f, m) => reports.push([f, m]) });
    assert.equal(outcome.ok, true);
    assert.deepEqual(reports, [[0.5, "halfway"]]);
  });

  it("fetch (Workers-style): POST with the JSON body; non-2xx fails with the body", async () => {
    const ok = await run(runner, "workers-fetch", { n: 1 });
    assert.deepEqual(ok.result, { shape: "fetch", method: "POST", n: 2 });
    const failed = await run(runner, "workers-fetch", { fail: true });
    assert.equal(failed.status, "dead");
    assert.equal(failed.error?.code, "STEP_HTTP_ERROR");
    assert.match(failed.error?.message ?? "", /422: unprocessable/);
  });

  it("fetch (a Hono app)", async () => {
    const job = await run(runner, "hono-app", { n: 4 });
    assert.deepEqual(job.result, { shape: "hono", path: "/hono-app", n: 40 });
  });

  it("lambda, with its exported jobType", async () => {
    const job = await run(runner, "lambda-step", { n: 10 });
    assert.deepEqual(job.result, { shape: "lambda", functionName: "lambda-step", n: 9 });
  });

  it("TypeScript importing an npm package (zod) from the project", async () => {
    const job = await run(runner, "zod-validate", { name: "mario", n: 3 });
    assert.deepEqual(job.result, { shape: "zod", greeting: "hello mario", n: 3 });
    const bad = await run(runner, "zod-validate", { name: "", n: 1.5 });
    assert.equal(bad.status, "dead");
    assert.equal(bad.error?.name, "ZodError");
  });

  it("CommonJS (.cjs) handler with require()", async () => {
    const job = await run(runner, "legacy", { n: 5 });
    assert.deepEqual(job.result, { shape: "cjs", n: 15, platform: process.platform });
  });
});

describe("host: hard timeouts and crashes", () => {
  let project: TempProject;
  let executors: Map<string, ThreadExecutor>;
  let runner: LocalRunner;

  before(async () => {
    project = await tempProject({
      copy: [
        "functions-shapes/echo-execute.ts",
        "functions-misbehaving/runaway.ts",
        "functions-misbehaving/exits.ts",
        "functions-misbehaving/async-throw.ts",
        "functions-misbehaving/unhandled-rejection.ts",
        "functions-misbehaving/signal-aware.ts",
      ],
    });
    executors = await loadAll(project.functionsDir);
    runner = runnerFor(executors);
    await runner.start();
  });
  after(async () => {
    await runner?.stop();
    await project?.cleanup();
  });

  it("stops `while (true) {}` at its timeout, retries, then dead-letters it with a timeout error, while other jobs are served", async () => {
    const runaway = await runner.enqueue("runaway", {});
    const others = await Promise.all([1, 2, 3].map((n) => runner.enqueue("echo-execute", { n })));
    const served = await Promise.all(others.map((o) => runner.waitFor(o.job.id, 10_000)));
    assert.deepEqual(served.map((j) => j.result), [1, 2, 3].map((n) => ({ shape: "execute", n: n * 2, attempt: 1 })));
    const job = await runner.waitFor(runaway.job.id, 10_000);
    assert.equal(job.status, "dead");
    assert.equal(job.attempts, 2, "one retry (config.retries = 1) before dead-lettering");
    assert.equal(job.error?.name, "StepTimeoutError");
    assert.equal(job.error?.code, "TIMEOUT");
    assert.match(job.error?.message ?? "", /timed out after 300 ms/);
    const executor = executors.get("runaway");
    assert.ok(executor);
    // A runaway thread is terminated once its attempt has not ended `killGraceMs` past its timeout.
    // The retry may land on that same blocked thread before it is terminated (one termination ends
    // both attempts) or on another (two terminations): at least one, either way.
    await eventually(() => executor.replaced >= 1, { message: "the runaway thread was terminated and replaced" });
    await eventually(() => executor.threads <= executor.policy.concurrency, { message: "retired threads are gone" });
    const after = await run(runner, "echo-execute", { n: 50 });
    assert.equal(after.status, "succeeded");
  });

  for (const [jobType, expected] of [
    ["exits", /exited with code 7/],
    ["async-throw", /thrown from a timer/],
    ["unhandled-rejection", /nobody handles this/],
  ] as const) {
    it(`${jobType}: fails the attempt, not the host; the thread is replaced and serves again`, async () => {
      const job = await run(runner, jobType, {});
      assert.equal(job.status, "dead");
      assert.equal(job.error?.name, "HandlerCrashedError");
      assert.equal(job.error?.code, "HANDLER_CRASHED");
      assert.match(job.error?.message ?? "", expected);
      const again = await run(runner, jobType, {});
      assert.equal(again.error?.code, "HANDLER_CRASHED", "a fresh thread ran the second job");
      assert.equal((await run(runner, "echo-execute", { n: 1 })).status, "succeeded");
    });
  }

  it("ctx.signal aborts inside the thread on timeout", async () => {
    const marker = join(project.root, "timeout-marker");
    const job = await run(runner, "signal-aware", { marker });
    assert.equal(job.error?.code, "TIMEOUT");
    await eventually(async () => (await readFile(marker, "utf8").catch(() => "")) === "StepTimeoutError", { message: "the handler saw ctx.signal abort with a StepTimeoutError" });
  });

  it("ctx.signal aborts inside the thread on shutdown, and the attempt reports a ShutdownError", async () => {
    const executor = executors.get("signal-aware");
    assert.ok(executor);
    const marker = join(project.root, "shutdown-marker");
    const shutdown = new AbortController();
    const delivery = { jobId: "j-shutdown", token: "t", pipeline: "signal-aware", jobType: "signal-aware", stepIndex: 0, attempt: 1, input: { marker }, timeoutMs: 10_000 };
    const logger = createLogger({ level: "silent" });
    const pending = executor.execute(delivery, { workerId: "w", logger, signal: shutdown.signal, onProgress: () => {} });
    shutdown.abort();
    const outcome = await pending;
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.error.code, "SHUTDOWN");
    await eventually(async () => (await readFile(marker, "utf8").catch(() => "")) === "ShutdownError", { message: "the handler saw ctx.signal abort with a ShutdownError" });
  });
});
