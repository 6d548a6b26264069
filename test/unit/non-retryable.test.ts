/**
 * Failures that should not retry, with handlers in worker threads as `mario up` runs them: a
 * fetch handler's 422 is dead at attempt 1, its 503 is retried (and recovers); a lambda throwing
 * NonRetryableError or an error marked `retryable = false` is dead at attempt 1; a plain error
 * uses every attempt.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { listFunctionFiles } from "../../src/functions/load-functions.ts";
import type { JobRecord } from "../../src/core/job.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { bundleFunction } from "../../src/functions/bundle-function.ts";
import { ThreadExecutor } from "../../src/host/thread-executor.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";

describe("failures that should not retry", () => {
  let project: TempProject;
  let runner: LocalRunner;

  async function run(pipeline: string, instructions: object): Promise<JobRecord> {
    const { job } = await runner.enqueue(pipeline, instructions);
    return runner.waitFor(job.id, 20_000);
  }

  before(async () => {
    project = await tempProject({ copy: ["functions-retry/http-status.ts", "functions-retry/refuse-lambda.ts"] });
    const executors = new Map<string, ThreadExecutor>();
    for (const file of await listFunctionFiles(project.functionsDir)) {
      const executor = await ThreadExecutor.load(await bundleFunction(file), { killGraceMs: 200 });
      executors.set(executor.jobType, executor);
    }
    const jobTypes = [...executors.keys()];
    runner = new LocalRunner({
      pipelines: [],
      steps: jobTypes.map((jobType) => ({ jobType, handler: () => assert.fail("runs in a thread") })),
      executorFor: (step) => executors.get(step.jobType) ?? assert.fail(`no executor for ${step.jobType}`),
    });
    await runner.start();
  });
  after(async () => {
    await runner?.stop();
    await project?.cleanup();
  });

  it("a fetch handler's 422 is dead at attempt 1", async () => {
    const job = await run("http-status", { status: 422 });
    assert.equal(job.status, "dead");
    assert.equal(job.attempts, 1);
    assert.equal(job.error?.code, "STEP_HTTP_ERROR");
    assert.equal(job.error?.retryable, false);
    assert.match(job.error?.message ?? "", /HTTP 422: answered 422/);
  });

  it("a fetch handler's 503 is retried: dead after every attempt, or succeeded once it recovers", async () => {
    const dead = await run("http-status", { status: 503 });
    assert.equal(dead.status, "dead");
    assert.equal(dead.attempts, 3);
    const recovered = await run("http-status", { status: 503, okFromAttempt: 2 });
    assert.equal(recovered.status, "succeeded");
    assert.deepEqual(recovered.result, { attempt: 2 });
  });

  it("429 and 408 are retried like a 5xx", async () => {
    for (const status of [429, 408]) assert.equal((await run("http-status", { status })).attempts, 3, `HTTP ${status}`);
  });

  it("a lambda's NonRetryableError, or an error marked retryable = false, is dead at attempt 1; a TypeError is retried", async () => {
    const byClass = await run("refuse-lambda", { how: "class" });
    assert.deepEqual([byClass.status, byClass.attempts, byClass.error?.name, byClass.error?.code], ["dead", 1, "NonRetryableError", "NON_RETRYABLE"]);
    const byFlag = await run("refuse-lambda", { how: "flag" });
    assert.deepEqual([byFlag.status, byFlag.attempts], ["dead", 1]);
    const plain = await run("refuse-lambda", { how: "other" });
    assert.deepEqual([plain.status, plain.attempts, plain.error?.name], ["dead", 3, "TypeError"]);
  });
});
