/**
 * `mario pipeline FILE` and `mario step FILE` given a function file (one that imports "mario-pipelines",
 * which Node could not load directly: ERR_REQUIRE_CYCLE_MODULE): the job type and the one-step
 * pipeline are the file's. A file that is no step is refused in one line, never a stack.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";

const GREET = `import { isValidName } from "mario-pipelines";
import type { StepContext } from "mario-pipelines";
export default async function (instructions: { name?: string }, ctx: StepContext) {
  return { hello: instructions.name ?? "world", valid: isValidName(ctx.jobType) };
}
`;

describe("mario pipeline / mario step with a function file", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let greet = "";

  before(async () => {
    project = await tempProject({ files: { "greet.ts": GREET, "not-a-step.ts": "export const answer = 42;\n" } });
    greet = `${project.functionsDir}/greet.ts`;
  });
  after(async () => {
    await procs.stopAll();
    await project?.cleanup();
  });

  it("serves the file's job type as a one-step pipeline, with the job type taken from the file", async () => {
    const [subPort, pullPort] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${subPort}`;
    const pull = `tcp://127.0.0.1:${pullPort}`;
    const pipeline = procs.start(["pipeline", greet, `--sub-bind=${sub}`, `--job-pull-bind=${pull}`]);
    await pipeline.waitForLine(/ready/, 30_000);
    const step = procs.start(["step", greet, `--sub-connect=${sub}`, "--heartbeat-ms=200"]);
    await step.waitForLine(/step worker ready.*"jobType":"greet"/, 30_000);
    const result = await runMario(["enqueue", pull, "greet", '{"name": "file"}', "--wait", "--timeout=20000"]);
    assert.equal(result.code, 0, result.stderr);
    const job = JSON.parse(result.stdout) as JobRecord;
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { hello: "file", valid: true });
    assert.doesNotMatch(pipeline.stderr + step.stderr, /ERR_REQUIRE_CYCLE_MODULE/);
  });

  for (const command of ["step", "pipeline"]) {
    it(`mario ${command} refuses a file that is no step in one line, exit 2`, async () => {
      const flag = command === "step" ? "--sub-connect=tcp://127.0.0.1:1" : "--sub-bind=tcp://127.0.0.1:0";
      const result = await runMario([command, `${project.functionsDir}/not-a-step.ts`, flag]);
      assert.equal(result.code, 2);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^mario ${command}: .*not-a-step\\.ts: no handler found; expected one of`));
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    });
  }
});
